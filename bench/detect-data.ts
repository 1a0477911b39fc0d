/**
 * Synthetic CloudTrail for bench/detect: NDJSON records shaped like real CloudTrail events (user identity with
 * access key, source address, user agent, region, request parameters, occasional errors) from a fixed set of
 * machine identities, deterministic for a seed. Written line by line, so a million events never sit in memory.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

import { prng } from '../src/core/randomness.js';

export { prng };

/** Operations and how often they occur (weights), with their event source. */
const OPERATIONS: Array<[name: string, source: string, weight: number]> = [
  ['GetObject', 's3.amazonaws.com', 30],
  ['PutObject', 's3.amazonaws.com', 10],
  ['AssumeRole', 'sts.amazonaws.com', 8],
  ['GetCallerIdentity', 'sts.amazonaws.com', 6],
  ['GetSecretValue', 'secretsmanager.amazonaws.com', 6],
  ['GetParameter', 'ssm.amazonaws.com', 6],
  ['DescribeInstances', 'ec2.amazonaws.com', 8],
  ['ListBuckets', 's3.amazonaws.com', 4],
  ['Decrypt', 'kms.amazonaws.com', 8],
  ['PutMetricData', 'monitoring.amazonaws.com', 6],
  ['CreateAccessKey', 'iam.amazonaws.com', 1],
  ['CreateUser', 'iam.amazonaws.com', 1],
  ['AttachUserPolicy', 'iam.amazonaws.com', 1],
  ['UpdateTrail', 'cloudtrail.amazonaws.com', 1],
  ['ConsoleLogin', 'signin.amazonaws.com', 1],
  ['DeleteTrail', 'cloudtrail.amazonaws.com', 1],
];
const TOTAL_WEIGHT = OPERATIONS.reduce((s, o) => s + o[2], 0);
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
const AGENTS = [
  'aws-sdk-go/1.44.0 (go1.20; linux; amd64)',
  'Boto3/1.28.0 Python/3.11.4 Linux/5.15 Botocore/1.31.0',
  'aws-cli/2.13.0 Python/3.11.4 Linux/5.15 exe/x86_64',
  'aws-sdk-js/3.400.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0',
];

/** One identity of the synthetic account. */
interface BenchIdentity {
  arn: string;
  type: 'IAMUser' | 'AssumedRole';
  accessKeyId: string;
  principalId: string;
  ip: string;
  agent: string;
}

function identities(n: number, rand: () => number): BenchIdentity[] {
  const out: BenchIdentity[] = [];
  for (let i = 0; i < n; i++) {
    const role = i % 3 === 0;
    const id = String(i).padStart(5, '0');
    out.push({
      arn: role
        ? `arn:aws:sts::123456789012:assumed-role/svc-role-${id}/session-${id}`
        : `arn:aws:iam::123456789012:user/svc-${id}`,
      type: role ? 'AssumedRole' : 'IAMUser',
      accessKeyId: `${role ? 'ASIA' : 'AKIA'}${id.padStart(16, 'X')}`,
      principalId: `AIDA${id.padStart(17, '0')}`,
      ip: `10.${(i >> 8) & 255}.${i & 255}.${Math.floor(rand() * 250) + 1}`,
      agent: AGENTS[i % 4]!,
    });
  }
  return out;
}

/**
 * Writes `count` CloudTrail records (NDJSON) over `identityCount` identities into `file`, one second of
 * event time per ~50 events from `start`. Returns the number of bytes written.
 */
export async function writeCloudTrail(
  file: string,
  count: number,
  options: { identityCount?: number; seed?: number; start?: number } = {},
): Promise<number> {
  const rand = prng(options.seed ?? 42);
  const ids = identities(options.identityCount ?? 10_000, rand);
  const start = options.start ?? Date.parse('2026-11-01T00:00:00Z');
  const out = createWriteStream(file);
  let bytes = 0;
  let buffer = '';
  for (let i = 0; i < count; i++) {
    // A Zipf-like spread: a few identities are busy, most are quiet.
    const who = ids[Math.floor(ids.length * rand() ** 2)]!;
    let pick = rand() * TOTAL_WEIGHT;
    let op = OPERATIONS[0]!;
    for (const o of OPERATIONS) {
      pick -= o[2];
      if (pick <= 0) {
        op = o;
        break;
      }
    }
    const failed = rand() < 0.03;
    const record = {
      eventVersion: '1.08',
      userIdentity: {
        type: who.type,
        principalId: who.principalId,
        arn: who.arn,
        accountId: '123456789012',
        accessKeyId: who.accessKeyId,
      },
      eventTime: new Date(start + Math.floor(i / 50) * 1000).toISOString().replace('.000Z', 'Z'),
      eventSource: op[1],
      eventName: op[0],
      awsRegion: REGIONS[Math.floor(rand() * REGIONS.length)]!,
      sourceIPAddress: rand() < 0.01 ? `203.0.113.${Math.floor(rand() * 250)}` : who.ip,
      userAgent: rand() < 0.005 ? AGENTS[4]! : who.agent,
      requestParameters:
        op[0] === 'GetSecretValue'
          ? { secretId: `prod/app/secret-${Math.floor(rand() * 500)}` }
          : op[0] === 'GetObject'
            ? { bucketName: `data-${Math.floor(rand() * 40)}`, key: `k/${Math.floor(rand() * 1e6)}` }
            : op[0] === 'AssumeRole'
              ? {
                  roleArn: `arn:aws:iam::123456789012:role/deploy-${Math.floor(rand() * 30)}`,
                  roleSessionName: 's',
                }
              : null,
      responseElements: null,
      ...(failed
        ? { errorCode: 'AccessDenied', errorMessage: 'User is not authorized to perform this action' }
        : {}),
      requestID: `req-${i}`,
      eventID: `evt-${i.toString(16).padStart(8, '0')}`,
      readOnly: ![
        'CreateAccessKey',
        'CreateUser',
        'AttachUserPolicy',
        'UpdateTrail',
        'DeleteTrail',
        'PutObject',
      ].includes(op[0]),
      eventType: 'AwsApiCall',
      recipientAccountId: '123456789012',
    };
    buffer += `${JSON.stringify(record)}\n`;
    if (buffer.length > 1 << 20) {
      bytes += Buffer.byteLength(buffer);
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  bytes += Buffer.byteLength(buffer);
  out.end(buffer);
  await once(out, 'finish');
  return bytes;
}
