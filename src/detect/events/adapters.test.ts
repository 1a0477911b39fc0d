import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../core/types.js';
import { getField, type DetectEvent } from '../detect-types.js';
import { detectFormat, normalizeRecord } from './adapters.js';
import { cloudtrailAdapter } from './cloudtrail-adapter.js';
import { hashId, isBrokenRecord, NORMALIZED_FIELDS, type Adapter } from './event-common.js';
import { githubAdapter } from './github-adapter.js';
import { eventFromKeywardRecord, keywardAdapter } from './keyward-adapter.js';
import { kubernetesAdapter } from './kubernetes-adapter.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const lines = (name: string): Record<string, unknown>[] =>
  readFileSync(fixture(name), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const cloudtrailRecords = (): Record<string, unknown>[] =>
  (
    JSON.parse(readFileSync(fixture('cloudtrail-delivery.json'), 'utf8')) as {
      Records: Record<string, unknown>[];
    }
  ).Records;

/** Runs an adapter and fails the test when it reports the record broken. */
function ok(adapter: Adapter, record: unknown, seq = 1): DetectEvent {
  const r = adapter(record, { file: 'f.json', line: 3, seq });
  if (isBrokenRecord(r)) throw new Error(`broken: ${r.reason}`);
  return r;
}

describe('cloudtrailAdapter', () => {
  const records = cloudtrailRecords();

  it('normalizes an AssumeRole by an IAM user', () => {
    const e = ok(cloudtrailAdapter, records[0]);
    expect(e.id).toBe('a1b2c3d4-0001-4e5f-9a8b-000000000001');
    expect(e.time).toBe(Date.parse('2026-05-10T09:00:00Z'));
    expect(e.logsource).toEqual({ product: 'aws', service: 'cloudtrail' });
    expect(e.source).toEqual({ adapter: 'cloudtrail', file: 'f.json', line: 3 });
    expect(e.seq).toBe(1);
    expect(e.raw).toBe(records[0]);
    expect(e.fields).toEqual({
      time: '2026-05-10T09:00:00.000Z',
      activity_name: 'AssumeRole',
      status: 'success',
      'actor.user.type': 'IAMUser',
      'actor.user.uid': 'arn:aws:iam::111122223333:user/ci-deployer',
      'actor.user.name': 'ci-deployer',
      'credential.uid': 'AKIAEXAMPLEKEY00001',
      'src_endpoint.ip': '203.0.113.10',
      'http_request.user_agent': 'aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64',
      'cloud.provider': 'aws',
      'cloud.region': 'us-east-1',
      'cloud.account.uid': '111122223333',
      'api.operation': 'AssumeRole',
      'api.service.name': 'sts.amazonaws.com',
      'api.request.uid': '1f1b2c3d-0001-4a5b-8c9d-000000000001',
      'resource.uid': 'arn:aws:iam::111122223333:role/deploy',
      'resource.type': 'AWS::IAM::Role',
    });
  });

  it('names the role session issuer and the temporary key of an assumed-role call (GetSecretValue)', () => {
    const e = ok(cloudtrailAdapter, records[1]);
    expect(e.fields['actor.user.type']).toBe('AssumedRole');
    expect(e.fields['actor.user.uid']).toBe('arn:aws:sts::111122223333:assumed-role/deploy/ci-run-4711');
    expect(e.fields['actor.user.name']).toBe('deploy');
    expect(e.fields['actor.session.issuer']).toBe('arn:aws:iam::111122223333:role/deploy');
    expect(e.fields['credential.uid']).toBe('ASIAEXAMPLETEMP0001');
    expect(e.fields['resource.type']).toBe('AWS::SecretsManager::Secret');
    // Rules read CloudTrail's own names first, as SigmaHQ's rules are written.
    expect(getField(e, 'eventSource')).toBe('secretsmanager.amazonaws.com');
    expect(getField(e, 'userIdentity.sessionContext.sessionIssuer.userName')).toBe('deploy');
  });

  it('CreateAccessKey: no resources, so no resource fields', () => {
    const e = ok(cloudtrailAdapter, records[2]);
    expect(e.fields['activity_name']).toBe('CreateAccessKey');
    expect(e.fields['api.service.name']).toBe('iam.amazonaws.com');
    expect(Object.hasOwn(e.fields, 'resource.uid')).toBe(false);
    expect(e.fields['src_endpoint.ip']).toBe('198.51.100.77');
  });

  it('a failed ConsoleLogin (no errorCode) is a failure with the message', () => {
    const e = ok(cloudtrailAdapter, records[3]);
    expect(e.fields.status).toBe('failure');
    expect(e.fields['error.message']).toBe('Failed authentication');
    expect(Object.hasOwn(e.fields, 'error.code')).toBe(false);
    expect(Object.hasOwn(e.fields, 'api.request.uid')).toBe(false);
  });

  it('an AccessDenied record is a failure with error.code', () => {
    const e = ok(cloudtrailAdapter, records[4]);
    expect(e.fields.status).toBe('failure');
    expect(e.fields['error.code']).toBe('AccessDenied');
    expect(e.fields['error.message']).toMatch(/^User: arn:aws:sts::111122223333:assumed-role\/deploy/);
  });

  it('a service address goes to src_endpoint.domain, not ip', () => {
    const e = ok(cloudtrailAdapter, { ...records[5], eventTime: '2026-05-10T09:05:00Z' });
    expect(e.fields['src_endpoint.domain']).toBe('cloudtrail.amazonaws.com');
    expect(Object.hasOwn(e.fields, 'src_endpoint.ip')).toBe(false);
    expect(e.fields['actor.user.name']).toBe('cloudtrail.amazonaws.com');
    expect(e.fields['actor.user.type']).toBe('AWSService');
  });

  it('reports a record without eventTime, or with one that is not ISO-8601', () => {
    expect(cloudtrailAdapter(records[5], { file: 'f.json', line: 1, seq: 1, index: 'Records[5]' })).toEqual({
      file: 'f.json',
      line: 1,
      reason: 'Records[5]: no timestamp (eventTime)',
    });
    expect(
      cloudtrailAdapter({ ...records[0], eventTime: 1778403600 }, { file: null, line: null, seq: 1 }),
    ).toEqual({
      file: null,
      line: null,
      reason: 'invalid timestamp (eventTime): 1778403600',
    });
    expect(cloudtrailAdapter('x', { file: 'f', line: 2, seq: 1 })).toEqual({
      file: 'f',
      line: 2,
      reason: 'not an object (string)',
    });
  });
});

describe('githubAdapter', () => {
  const records = lines('github-audit.ndjson');

  it('normalizes a PAT access grant', () => {
    const e = ok(githubAdapter, records[0], 7);
    expect(e.id).toBe('rGwPDBp1Mu4GZ2dV5T3Xbw');
    expect(e.time).toBe(1778403600000);
    expect(e.seq).toBe(7);
    expect(e.logsource).toEqual({ product: 'github', service: 'audit' });
    expect(e.fields).toEqual({
      time: '2026-05-10T09:00:00.000Z',
      activity_name: 'personal_access_token.access_granted',
      status: 'success',
      'actor.user.uid': '1001',
      'actor.user.name': 'octo-admin',
      'actor.user.type': 'user',
      'src_endpoint.ip': '203.0.113.5',
      'src_endpoint.location.country': 'DE',
      'http_request.user_agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15',
      'cloud.provider': 'github',
      'cloud.account.uid': 'acme',
      'api.operation': 'personal_access_token.access_granted',
      'api.service.name': 'personal_access_token',
      'api.request.uid': 'C4D2:1A2B:3C4D5E:6F7A8B:6640A1B0',
      'resource.uid': 'build-bot-owner',
      'resource.name': 'build-bot-owner',
      'resource.type': 'user',
    });
  });

  it('a bot with an app token: actor type bot, the repository, the token id', () => {
    const e = ok(githubAdapter, records[1]);
    expect(e.time).toBe(1778403660123);
    expect(e.fields['actor.user.type']).toBe('bot');
    expect(e.fields['resource.type']).toBe('repository');
    expect(e.fields['resource.uid']).toBe('acme/payments-api');
    expect(e.fields['credential.uid']).toBe('88112233');
    expect(e.fields['api.service.name']).toBe('repo');
  });

  it('falls back to created_at, then reports a missing or unreadable timestamp', () => {
    const { '@timestamp': _t, ...rest } = records[2]!;
    expect(ok(githubAdapter, rest).time).toBe(1778403720000);
    const { created_at: _c, ...none } = rest;
    expect(githubAdapter(none, { file: 'g', line: 4, seq: 1 })).toEqual({
      file: 'g',
      line: 4,
      reason: 'no timestamp (@timestamp or created_at)',
    });
    expect(githubAdapter({ ...none, created_at: 'soon' }, { file: 'g', line: 4, seq: 1 })).toEqual({
      file: 'g',
      line: 4,
      reason: 'invalid timestamp (created_at): "soon"',
    });
  });

  it('an entry without _document_id gets the sha256 of its canonical JSON as id', () => {
    const { _document_id: _d, ...rest } = records[2]!;
    const e = ok(githubAdapter, rest);
    expect(e.id).toBe(hashId(rest));
    expect(e.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Key order does not matter: the hash is over canonical JSON.
    const reordered = Object.fromEntries(Object.entries(rest).reverse());
    expect(ok(githubAdapter, reordered).id).toBe(e.id);
  });
});

describe('kubernetesAdapter', () => {
  const records = lines('k8s-audit.ndjson');

  it('normalizes a service account reading a secret', () => {
    const e = ok(kubernetesAdapter, records[0]);
    expect(e.id).toBe('6b9c1f4e-1a2b-4c3d-9e8f-000000000001');
    expect(e.time).toBe(Date.parse('2026-05-10T09:10:00.123Z'));
    expect(e.logsource).toEqual({ product: 'kubernetes', service: 'audit' });
    expect(e.fields).toEqual({
      time: '2026-05-10T09:10:00.123Z',
      activity_name: 'get',
      status: 'success',
      'actor.user.uid': '0f1e2d3c-aaaa-bbbb-cccc-000000000001',
      'actor.user.name': 'system:serviceaccount:payments:api-agent',
      'actor.user.type': 'ServiceAccount',
      'src_endpoint.ip': '10.42.0.17',
      'http_request.user_agent': 'kubectl/v1.30.1 (linux/amd64) kubernetes/abcdef0',
      'http_request.url.path': '/api/v1/namespaces/payments/secrets/db-credentials',
      'http_response.code': 200,
      'cloud.provider': 'kubernetes',
      'api.operation': 'get',
      'api.service.name': 'core',
      'resource.type': 'secrets',
      'resource.name': 'db-credentials',
      'resource.uid': 'payments/secrets/db-credentials',
    });
    // Annotation keys contain dots and slashes; rules name them literally.
    expect(getField(e, 'annotations.authorization.k8s.io/decision')).toBe('allow');
  });

  it('a forbidden exec is a failure with the reason as error.code', () => {
    const e = ok(kubernetesAdapter, records[1]);
    expect(e.fields.status).toBe('failure');
    expect(e.fields['error.code']).toBe('Forbidden');
    expect(e.fields['http_response.code']).toBe(403);
    expect(e.fields['resource.type']).toBe('pods/exec');
    expect(e.fields['actor.user.uid']).toBe('system:serviceaccount:payments:api-agent');
  });

  it('a RequestReceived stage has no status and an id with its stage', () => {
    const e = ok(kubernetesAdapter, records[2]);
    expect(e.id).toBe('6b9c1f4e-1a2b-4c3d-9e8f-000000000003:RequestReceived');
    expect(Object.hasOwn(e.fields, 'status')).toBe(false);
    expect(e.fields['actor.user.type']).toBe('User');
    expect(e.fields['resource.uid']).toBe('rbac.authorization.k8s.io/clusterrolebindings/agent-admin');
    expect(e.fields['api.service.name']).toBe('rbac.authorization.k8s.io');
  });
});

describe('keywardAdapter', () => {
  const records = lines('keyward-events.ndjson');

  it('a token issued: broker logsource, agent, scopes, task, depth 0', () => {
    const e = ok(keywardAdapter, records[0]);
    expect(e.id).toBe('evt_0a1b2c3d4e5f6g7h');
    expect(e.logsource).toEqual({ product: 'keyward', service: 'broker' });
    expect(e.fields).toEqual({
      time: '2026-05-10T09:20:00.000Z',
      activity_name: 'broker.token.issued',
      status: 'success',
      'actor.user.uid': 'kwc_ci-reviewer',
      'actor.user.name': 'agt_4f9k2mq8r7s6t5u4',
      'actor.user.type': 'agent',
      'src_endpoint.ip': '10.0.0.8',
      'cloud.provider': 'keyward',
      'api.operation': 'broker.token.issued',
      'api.service.name': 'broker',
      'resource.uid': 'keyward:upstream:github',
      'resource.type': 'resource',
      'credential.uid': 'Yk3r9QWx1b2C3d4E5f6G7h',
      'keyward.agent_id': 'agt_4f9k2mq8r7s6t5u4',
      'keyward.agent_type_id': 'aty_8h7g6f5e4d3c2b1a',
      'keyward.client_id': 'kwc_ci-reviewer',
      'keyward.grant_type': 'client_credentials',
      'keyward.task': 'review PR 4711',
      'keyward.scopes': ['repo:read', 'issues:write'],
      'keyward.act_chain_depth': 0,
    });
  });

  it('a token exchange carries its act chain depth', () => {
    const e = ok(keywardAdapter, records[1]);
    expect(e.fields['keyward.act_chain_depth']).toBe(2);
    expect(e.fields['keyward.scopes']).toEqual(['repo:read']);
  });

  it('a denied token request is a failure with the OAuth error', () => {
    const e = ok(keywardAdapter, records[2]);
    expect(e.fields.status).toBe('failure');
    expect(e.fields['error.code']).toBe('invalid_client');
    expect(e.fields['error.message']).toBe('client authentication failed');
    expect(e.fields['keyward.grant_type']).toBe('token-exchange');
    expect(e.fields['keyward.reason']).toBe('unknown-client');
    expect(e.fields['src_endpoint.ip']).toBe('198.51.100.9');
    expect(Object.hasOwn(e.fields, 'keyward.act_chain_depth')).toBe(false);
  });

  it('a proxied call: proxy logsource, method, path, status, upstream', () => {
    const e = ok(keywardAdapter, records[3]);
    expect(e.logsource).toEqual({ product: 'keyward', service: 'proxy' });
    expect(e.fields).toMatchObject({
      status: 'success',
      'http_request.http_method': 'GET',
      'http_request.url.path': '/repos/acme/payments-api/pulls/4711',
      'http_response.code': 200,
      'resource.uid': 'keyward:upstream:github',
      'resource.type': 'upstream',
      'keyward.upstream': 'github',
      'keyward.outcome': 'completed',
      'keyward.scopes': ['repo:read'],
      'keyward.task': 'review PR 4711',
      'actor.user.uid': 'kwc_ci-reviewer',
    });
    const failed = ok(keywardAdapter, {
      ...records[3],
      data: { ...(records[3]!.data as object), status: 502, outcome: 'upstream-unreachable' },
    });
    expect(failed.fields.status).toBe('failure');
    expect(failed.fields['error.code']).toBe('upstream-unreachable');
  });

  it('a denied proxy call is a failure with its reason', () => {
    const e = ok(keywardAdapter, records[4]);
    expect(e.fields.status).toBe('failure');
    expect(e.fields['error.code']).toBe('no-route');
    expect(e.fields['http_response.code']).toBe(403);
  });

  it('an inventory event: inventory logsource, importer actor, the identity it concerns', () => {
    const e = ok(keywardAdapter, records[5]);
    expect(e.logsource).toEqual({ product: 'keyward', service: 'inventory' });
    expect(e.fields['actor.user.type']).toBe('importer');
    expect(e.fields['resource.uid']).toBe('idn_0123456789abcdef');
    expect(e.fields['resource.type']).toBe('credential');
  });

  it('eventFromKeywardRecord: the log seq, no file; throws on a record without a time', () => {
    const record = records[0] as unknown as EventRecord;
    const e = eventFromKeywardRecord(record);
    expect(e.seq).toBe(41);
    expect(e.source).toEqual({ adapter: 'keyward', file: null, line: null });
    expect(e.fields['activity_name']).toBe('broker.token.issued');
    expect(() => eventFromKeywardRecord({ ...record, time: 'yesterday' })).toThrow(
      'event 41: invalid timestamp (time): "yesterday"',
    );
  });
});

describe('normalizeRecord and detectFormat', () => {
  it('normalizes a posted record with the named adapter and the caller seq', () => {
    const e = normalizeRecord('cloudtrail', cloudtrailRecords()[0], { seq: 12 });
    expect(isBrokenRecord(e)).toBe(false);
    expect(e).toMatchObject({ seq: 12, source: { adapter: 'cloudtrail', file: null, line: null } });
  });

  it('refuses a delivery document, and ndjson without a mapping', () => {
    expect(normalizeRecord('cloudtrail', { Records: [] }, { seq: 1 })).toEqual({
      file: null,
      line: null,
      reason: 'a CloudTrail delivery document ({"Records": [...]}): give its records one by one',
    });
    expect(normalizeRecord('ndjson', {}, { seq: 1 })).toEqual({
      file: null,
      line: null,
      reason: 'the ndjson adapter needs a field mapping',
    });
  });

  it('tells the formats apart by the first record', () => {
    expect(detectFormat({ Records: [] })).toBe('cloudtrail');
    expect(detectFormat(cloudtrailRecords()[0])).toBe('cloudtrail');
    expect(detectFormat(lines('github-audit.ndjson')[0])).toBe('github');
    expect(detectFormat(lines('k8s-audit.ndjson')[0])).toBe('kubernetes');
    expect(detectFormat(lines('keyward-events.ndjson')[0])).toBe('keyward');
    expect(detectFormat(lines('okta-system-log.ndjson')[0])).toBeNull();
    expect(detectFormat([1])).toBeNull();
  });

  it('every adapter uses documented field names only', () => {
    const all = [
      ...cloudtrailRecords()
        .slice(0, 5)
        .map((r) => ok(cloudtrailAdapter, r)),
      ...lines('github-audit.ndjson').map((r) => ok(githubAdapter, r)),
      ...lines('k8s-audit.ndjson').map((r) => ok(kubernetesAdapter, r)),
      ...lines('keyward-events.ndjson').map((r) => ok(keywardAdapter, r)),
    ];
    const documented = new Set<string>(NORMALIZED_FIELDS);
    const used = new Set(all.flatMap((e) => Object.keys(e.fields)));
    expect([...used].filter((f) => !documented.has(f))).toEqual([]);
    expect(all.every((e) => Object.isFrozen(e) && Object.isFrozen(e.fields))).toBe(true);
  });
});
