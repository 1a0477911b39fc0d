import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DetectionRule } from '../detect-types.js';
import { loadRules, summarizeLoad, type LoadResult } from './sigma-loader.js';
import { ev } from './sigma-test-helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/sigmahq', import.meta.url));

let result: LoadResult;
beforeAll(async () => {
  result = await loadRules([FIXTURES]);
});

function rule(id: string): DetectionRule {
  const found = result.detections.find((r) => r.id === id);
  if (!found) throw new Error(`rule ${id} not loaded`);
  return found;
}

const cloudtrail = (fields: Record<string, unknown>): Record<string, unknown> => ({
  eventVersion: '1.08',
  eventTime: '2024-03-07T22:15:30Z',
  awsRegion: 'us-east-1',
  sourceIPAddress: '203.0.113.7',
  userAgent: 'aws-cli/2.15.0',
  eventType: 'AwsApiCall',
  recipientAccountId: '111122223333',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' },
  ...fields,
});

describe('SigmaHQ rules (cloud/aws, application/github)', () => {
  it('all load with zero errors', () => {
    expect(result.errors).toEqual([]);
    expect(result.detections.length).toBe(72);
    expect(result.correlationDocs).toEqual([]);
    const report = summarizeLoad(result);
    expect(report.ok).toBe(true);
    expect(report.counts).toEqual({
      files: 72,
      documents: 72,
      ok: 72,
      error: 0,
      detections: 72,
      filters: 0,
      correlations: 0,
    });
  });

  // [rule id (file), matching record, non-matching record]
  const EVENTS: Array<[string, string, Record<string, unknown>, Record<string, unknown>]> = [
    [
      '8ad1600d-e9dc-4251-b0ee-a65268f29add',
      'aws_root_account_usage: root, not a service event',
      cloudtrail({
        userIdentity: { type: 'Root', arn: 'arn:aws:iam::111122223333:root' },
        eventName: 'ListBuckets',
      }),
      cloudtrail({ userIdentity: { type: 'Root' }, eventType: 'AwsServiceEvent', eventName: 'ListBuckets' }),
    ],
    [
      '4db60cc0-36fb-42b7-9b58-a5b53019fb74',
      'aws_cloudtrail_disable_logging',
      cloudtrail({
        eventSource: 'cloudtrail.amazonaws.com',
        eventName: 'StopLogging',
        requestParameters: { name: 'main' },
      }),
      cloudtrail({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StartLogging' }),
    ],
    [
      '055fb148-60f8-462d-ad16-26926ce050f1',
      'aws_update_login_profile (fieldref filter)',
      cloudtrail({
        eventSource: 'iam.amazonaws.com',
        eventName: 'UpdateLoginProfile',
        requestParameters: { userName: 'bob' },
      }),
      cloudtrail({
        eventSource: 'iam.amazonaws.com',
        eventName: 'UpdateLoginProfile',
        requestParameters: { userName: 'arn:aws:iam::111122223333:user/alice' },
      }),
    ],
    [
      '352a918a-34d8-4882-8470-44830c507aa3',
      'aws_cloudtrail_imds_malicious_usage (re, list-of-maps filter)',
      cloudtrail({
        userIdentity: {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0abc',
        },
        eventSource: 'ec2.amazonaws.com',
        eventName: 'DescribeInstances',
      }),
      cloudtrail({
        userIdentity: {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0abc',
        },
        eventSource: 'ec2.amazonaws.com',
        eventName: 'DescribeInstances',
        sourceIPAddress: 'AWS Internal',
      }),
    ],
    [
      'a136ac98-b2bc-4189-a14d-f0d0388e57a7',
      'aws_disable_bucket_versioning (contains inside an object field)',
      cloudtrail({
        eventSource: 's3.amazonaws.com',
        eventName: 'PutBucketVersioning',
        requestParameters: { bucketName: 'data', VersioningConfiguration: { Status: 'Suspended' } },
      }),
      cloudtrail({
        eventSource: 's3.amazonaws.com',
        eventName: 'PutBucketVersioning',
        requestParameters: { bucketName: 'data', VersioningConfiguration: { Status: 'Enabled' } },
      }),
    ],
    [
      '77caf516-34e5-4df9-b4db-20744fea0a60',
      'aws_cloudtrail_console_login_success_without_mfa (nested paths)',
      cloudtrail({
        eventName: 'ConsoleLogin',
        additionalEventData: { MFAUsed: 'No' },
        responseElements: { ConsoleLogin: 'Success' },
      }),
      cloudtrail({
        eventName: 'ConsoleLogin',
        additionalEventData: { MFAUsed: 'Yes' },
        responseElements: { ConsoleLogin: 'Success' },
      }),
    ],
    [
      'f9405037-bc97-4eb7-baba-167dad399b83',
      'github_new_secret_created',
      {
        action: 'repo.create_actions_secret',
        actor: 'mallory',
        repo: 'acme/app',
        '@timestamp': 1709849730000,
      },
      {
        action: 'repo.remove_actions_secret',
        actor: 'mallory',
        repo: 'acme/app',
        '@timestamp': 1709849730000,
      },
    ],
  ];

  it.each(EVENTS)('%s %s', (id, _name, yes, no) => {
    const r = rule(id);
    expect(r.matches(ev(yes))).toBe(true);
    expect(r.matches(ev(no))).toBe(false);
  });

  it('aws_ec2_vm_export_failure: fires only without error and without Failure in responseElements', () => {
    const r = result.detections.find((d) => d.location.file.endsWith('aws_ec2_vm_export_failure.yml'))!;
    const base = { eventName: 'CreateInstanceExportTask', eventSource: 'ec2.amazonaws.com' };
    expect(
      r.matches(ev(cloudtrail({ ...base, responseElements: { exportTask: { state: 'active' } } }))),
    ).toBe(true);
    expect(r.matches(ev(cloudtrail({ ...base, errorCode: 'AccessDenied' })))).toBe(false);
    expect(
      r.matches(
        ev(cloudtrail({ ...base, responseElements: { exportTask: { statusMessage: 'Failure: no disk' } } })),
      ),
    ).toBe(false);
  });
});
