import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { awsExportShape, awsImporter } from './aws-importer.js';

const fingerprinter = createFingerprinter(Buffer.alloc(32, 7));
const ctx = { fingerprinter, now: '2025-06-01T00:00:00.000Z' };
const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url));
const parse = (fileName: string, content: Buffer | string) =>
  awsImporter.parse({ fileName, content: Buffer.isBuffer(content) ? content : Buffer.from(content) }, ctx);
const ACCOUNT = 'arn:aws:iam::123456789012';

function importError(fileName: string, content: Buffer | string): ValidationError {
  try {
    parse(fileName, content);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    return err as ValidationError;
  }
  throw new Error('expected the import to fail');
}

describe('aws importer: get-account-authorization-details', () => {
  const batch = parse('auth.json', fixture('account-authorization-details.json'));

  it('turns users and roles into identities keyed by ARN, with kind, environment and owner from path, tags and trust', () => {
    expect(batch.identities.map((i) => [i.externalId, i.name, i.kind, i.environment, i.owner])).toEqual([
      [`${ACCOUNT}:user/ci/ci-deployer`, 'ci-deployer', 'ci-pipeline', 'production', 'dana@example.com'],
      [`${ACCOUNT}:user/legacy-batch`, 'legacy-batch', 'service-account', null, null],
      [`${ACCOUNT}:user/analytics-reader`, 'analytics-reader', 'ai-agent', 'staging', null],
      [
        `${ACCOUNT}:role/github-actions-deploy`,
        'github-actions-deploy',
        'ci-pipeline',
        'production',
        'platform@example.com',
      ],
      [
        `${ACCOUNT}:role/service-role/bedrock-support-agent`,
        'bedrock-support-agent',
        'ai-agent',
        'production',
        'support-eng@example.com',
      ],
      [
        `${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
        'AWSServiceRoleForECS',
        'workload',
        null,
        null,
      ],
      [
        `${ACCOUNT}:role/payments-api-task`,
        'payments-api-task',
        'workload',
        'production',
        'payments@example.com',
      ],
    ]);
    expect(batch.identities.every((i) => i.provider === 'aws')).toBe(true);
    expect(batch.identities[0]).toEqual({
      provider: 'aws',
      externalId: `${ACCOUNT}:user/ci/ci-deployer`,
      name: 'ci-deployer',
      kind: 'ci-pipeline',
      environment: 'production',
      owner: 'dana@example.com',
      description: null,
      tags: ['env=prod', 'owner=dana@example.com', 'team=platform'],
      createdAt: '2023-01-10T09:15:00.000Z',
      attributes: {
        accountId: '123456789012',
        iamType: 'user',
        path: '/ci/',
        userId: 'AIDAFAKEEXAMPLE0000001',
        groups: ['deployers'],
      },
    });
    expect(batch.identities[3]!.attributes).toMatchObject({
      ciProvider: 'github-actions',
      trust: {
        services: [],
        federated: [`${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`],
        aws: [],
        oidcSubjects: ['repo:acme/api:ref:refs/heads/main'],
        anyone: false,
      },
    });
    expect(batch.identities[3]!.lastSeenAt).toBe('2025-05-31T22:10:00.000Z');
    expect(batch.identities[5]!.attributes).toMatchObject({ serviceLinked: true });
    expect(batch.identities[2]!.attributes).toMatchObject({
      permissionsBoundary: `${ACCOUNT}:policy/AgentBoundary`,
    });
  });

  it('turns attached, inline and group policies into grants with actions and resources from the documents', () => {
    expect(
      batch.grants.map((g) => [
        g.identity.externalId.split(':').pop(),
        g.key,
        g.effect,
        g.actions,
        g.resources,
        g.admin,
      ]),
    ).toEqual([
      [
        'user/ci/ci-deployer',
        `${ACCOUNT}:policy/DeployArtifacts`,
        'allow',
        ['s3:PutObject', 's3:GetObject', 'cloudfront:CreateInvalidation'],
        ['arn:aws:s3:::acme-artifacts/*', '*'],
        false,
      ],
      [
        'user/ci/ci-deployer',
        'group:deployers:arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
        'allow',
        ['s3:Get*', 's3:List*', 's3-object-lambda:Get*', 's3-object-lambda:List*'],
        ['*'],
        false,
      ],
      [
        'user/ci/ci-deployer',
        'group:deployers:inline:ecr-push',
        'allow',
        ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'],
        ['arn:aws:ecr:eu-west-1:123456789012:repository/api'],
        false,
      ],
      ['user/legacy-batch', 'inline:do-everything', 'allow', ['*'], ['*'], true],
      ['user/analytics-reader', 'arn:aws:iam::aws:policy/ReadOnlyAccess', 'allow', [], [], false],
      [
        'role/github-actions-deploy',
        'arn:aws:iam::aws:policy/AdministratorAccess',
        'allow',
        ['*'],
        ['*'],
        true,
      ],
      [
        'role/service-role/bedrock-support-agent',
        'inline:support-agent-access',
        'allow',
        ['bedrock:InvokeModel', 's3:GetObject', 's3:ListBucket'],
        [
          'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0',
          'arn:aws:s3:::acme-support-kb',
          'arn:aws:s3:::acme-support-kb/*',
        ],
        false,
      ],
      [
        'role/service-role/bedrock-support-agent',
        'inline:support-agent-access#deny',
        'deny',
        ['s3:DeleteObject'],
        ['*'],
        false,
      ],
      [
        'role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS',
        'arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy',
        'allow',
        [],
        [],
        false,
      ],
      [
        'role/payments-api-task',
        `${ACCOUNT}:policy/PaymentsDataAccess`,
        'allow',
        ['secretsmanager:GetSecretValue', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        [
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/*',
          'arn:aws:dynamodb:eu-west-1:123456789012:table/payments',
        ],
        false,
      ],
    ]);
  });

  it('keeps the source, the exact statements and how the policy was attached', () => {
    const byKey = Object.fromEntries(batch.grants.map((g) => [g.key, g]));
    expect(byKey['group:deployers:inline:ecr-push']).toEqual({
      identity: { provider: 'aws', externalId: `${ACCOUNT}:user/ci/ci-deployer` },
      key: 'group:deployers:inline:ecr-push',
      effect: 'allow',
      actions: ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'],
      resources: ['arn:aws:ecr:eu-west-1:123456789012:repository/api'],
      source: 'group:deployers:inline:ecr-push',
      admin: false,
      attributes: {
        policyName: 'ecr-push',
        policyType: 'inline',
        viaGroup: 'deployers',
        statements: [
          {
            effect: 'allow',
            sid: 'PushImages',
            actions: [
              'ecr:PutImage',
              'ecr:InitiateLayerUpload',
              'ecr:UploadLayerPart',
              'ecr:CompleteLayerUpload',
            ],
            resources: ['arn:aws:ecr:eu-west-1:123456789012:repository/api'],
          },
        ],
      },
    });
    // Only the default version of a managed policy counts (v1 allowed s3:* on everything).
    expect(byKey[`${ACCOUNT}:policy/DeployArtifacts`]!.attributes).toMatchObject({
      policyType: 'customer-managed',
    });
    expect(byKey['arn:aws:iam::aws:policy/ReadOnlyAccess']!.attributes).toEqual({
      policyName: 'ReadOnlyAccess',
      policyType: 'aws-managed',
      documentAvailable: false,
    });
  });

  it('names the concrete resources the policies reach', () => {
    expect(batch.resources).toEqual([
      {
        provider: 'aws',
        type: 'aws:bedrock',
        name: 'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0',
        attributes: { region: 'eu-west-1' },
      },
      {
        provider: 'aws',
        type: 'aws:dynamodb',
        name: 'arn:aws:dynamodb:eu-west-1:123456789012:table/payments',
        attributes: { accountId: '123456789012', region: 'eu-west-1' },
      },
      {
        provider: 'aws',
        type: 'aws:ecr',
        name: 'arn:aws:ecr:eu-west-1:123456789012:repository/api',
        attributes: { accountId: '123456789012', region: 'eu-west-1' },
      },
      { provider: 'aws', type: 'aws:s3', name: 'arn:aws:s3:::acme-artifacts', attributes: {} },
      { provider: 'aws', type: 'aws:s3', name: 'arn:aws:s3:::acme-support-kb', attributes: {} },
    ]);
    expect(batch.credentials).toEqual([]);
  });

  it('is stable across imports', () => {
    expect(parse('auth.json', fixture('account-authorization-details.json'))).toEqual(batch);
  });

  it('names the record and field of every problem, including bad policy documents', () => {
    const err = importError('auth.json', fixture('authorization-details-broken.json'));
    expect(err.details).toEqual([
      { path: 'auth.json: Policies', message: 'expected an array, got object' },
      { path: 'auth.json: UserDetailList[0].UserName', message: 'expected string, got number' },
      { path: 'auth.json: UserDetailList[0].GroupList', message: 'expected array, got string' },
      {
        path: 'auth.json: UserDetailList[1].Arn',
        message: 'expected an IAM user ARN (arn:aws:iam::<account>:user/…)',
      },
      {
        path: 'auth.json: RoleDetailList[0].Tags[0].Value',
        message:
          'expected an identity kind (ai-agent, service-account, ci-pipeline, bot, mcp-server, workload, app, user-key, other)',
      },
      {
        path: 'auth.json: RoleDetailList[0].AssumeRolePolicyDocument.Statement[0].Effect',
        message: 'expected one of Allow, Deny',
      },
    ]);
    expect(err.message).toBe('auth.json: Policies: expected an array, got object (and 5 more problems)');
    const badDoc = JSON.stringify({
      UserDetailList: [
        {
          UserName: 'u',
          Arn: `${ACCOUNT}:user/u`,
          UserPolicyList: [{ PolicyName: 'p', PolicyDocument: '%7B%22Statement%22%3A' }],
        },
      ],
    });
    expect(importError('auth.json', badDoc).details).toEqual([
      {
        path: 'auth.json: UserDetailList[0].UserPolicyList[0].PolicyDocument',
        message: 'not a JSON policy document (nor a URL-encoded one)',
      },
    ]);
  });
});

describe('aws importer: credential report', () => {
  const batch = parse('report.csv', fixture('credential-report.csv'));
  const reference = (s: string) => ({
    fingerprint: fingerprinter.fingerprint(s),
    preview: fingerprinter.preview(s),
  });

  it('makes one identity per user with the same ARN key as the authorization details; the root row is kind other', () => {
    expect(batch.identities.map((i) => [i.externalId, i.name, i.kind, i.lastSeenAt, i.attributes])).toEqual([
      [
        `${ACCOUNT}:root`,
        '<root_account>',
        'other',
        '2025-04-02T08:00:00.000Z',
        { accountId: '123456789012', root: true, mfaActive: true },
      ],
      [
        `${ACCOUNT}:user/ci/ci-deployer`,
        'ci-deployer',
        'ci-pipeline',
        '2025-05-30T17:42:00.000Z',
        { accountId: '123456789012', iamType: 'user', path: '/ci/', mfaActive: false },
      ],
      [
        `${ACCOUNT}:user/legacy-batch`,
        'legacy-batch',
        'service-account',
        null,
        { accountId: '123456789012', iamType: 'user', path: '/', mfaActive: false },
      ],
      [
        `${ACCOUNT}:user/analytics-reader`,
        'analytics-reader',
        'service-account',
        null,
        { accountId: '123456789012', iamType: 'user', path: '/', mfaActive: false },
      ],
      [
        `${ACCOUNT}:user/humans/dana`,
        'dana',
        'user-key',
        '2025-05-28T07:55:00.000Z',
        { accountId: '123456789012', iamType: 'user', path: '/humans/', mfaActive: true },
      ],
    ]);
    const auth = parse('auth.json', fixture('account-authorization-details.json'));
    const authIds = new Set(auth.identities.map((i) => i.externalId));
    expect(batch.identities.filter((i) => authIds.has(i.externalId)).map((i) => i.name)).toEqual([
      'ci-deployer',
      'legacy-batch',
      'analytics-reader',
    ]);
  });

  it('turns existing access keys, signing certificates and console passwords into reference-fingerprinted credentials', () => {
    expect(batch.credentials).toEqual([
      {
        identity: { provider: 'aws', externalId: `${ACCOUNT}:user/ci/ci-deployer` },
        provider: 'aws',
        ...reference(`aws-access-key:${ACCOUNT}:user/ci/ci-deployer:1`),
        fingerprintSource: 'reference',
        type: 'access-key',
        externalId: null,
        name: 'access_key_1',
        status: 'active',
        createdAt: '2023-01-10T09:16:00.000Z',
        lastRotatedAt: '2023-01-10T09:16:00.000Z',
        lastUsedAt: '2025-05-30T17:42:00.000Z',
        attributes: { slot: 1, lastUsedRegion: 'eu-west-1', lastUsedService: 's3' },
        locations: [{ kind: 'system', path: 'aws-iam', line: null, key: 'access_key_1' }],
      },
      {
        identity: { provider: 'aws', externalId: `${ACCOUNT}:user/ci/ci-deployer` },
        provider: 'aws',
        ...reference(`aws-access-key:${ACCOUNT}:user/ci/ci-deployer:2`),
        fingerprintSource: 'reference',
        type: 'access-key',
        externalId: null,
        name: 'access_key_2',
        status: 'inactive',
        createdAt: '2022-02-01T10:00:00.000Z',
        lastRotatedAt: '2022-02-01T10:00:00.000Z',
        lastUsedAt: '2022-12-01T09:00:00.000Z',
        attributes: { slot: 2, lastUsedRegion: 'us-east-1', lastUsedService: 'sts' },
        locations: [{ kind: 'system', path: 'aws-iam', line: null, key: 'access_key_2' }],
      },
      {
        identity: { provider: 'aws', externalId: `${ACCOUNT}:user/legacy-batch` },
        provider: 'aws',
        ...reference(`aws-access-key:${ACCOUNT}:user/legacy-batch:1`),
        fingerprintSource: 'reference',
        type: 'access-key',
        externalId: null,
        name: 'access_key_1',
        status: 'active',
        createdAt: '2019-06-01T12:05:00.000Z',
        lastRotatedAt: '2019-06-01T12:05:00.000Z',
        lastUsedAt: null,
        attributes: { slot: 1 },
        locations: [{ kind: 'system', path: 'aws-iam', line: null, key: 'access_key_1' }],
      },
      {
        identity: { provider: 'aws', externalId: `${ACCOUNT}:user/legacy-batch` },
        provider: 'aws',
        ...reference(`aws-signing-certificate:${ACCOUNT}:user/legacy-batch:1`),
        fingerprintSource: 'reference',
        type: 'certificate',
        externalId: null,
        name: 'cert_1',
        status: 'active',
        createdAt: '2019-06-01T12:10:00.000Z',
        lastRotatedAt: '2019-06-01T12:10:00.000Z',
        attributes: { slot: 1, signingCertificate: true },
        locations: [{ kind: 'system', path: 'aws-iam', line: null, key: 'cert_1' }],
      },
      {
        identity: { provider: 'aws', externalId: `${ACCOUNT}:user/humans/dana` },
        provider: 'aws',
        ...reference(`aws-console-password:${ACCOUNT}:user/humans/dana`),
        fingerprintSource: 'reference',
        type: 'password',
        externalId: null,
        name: 'console password',
        status: 'active',
        lastUsedAt: '2025-05-28T07:55:00.000Z',
        lastRotatedAt: '2025-03-01T09:00:00.000Z',
        expiresAt: '2025-06-01T09:00:00.000Z',
        attributes: { mfaActive: true },
        locations: [{ kind: 'system', path: 'aws-console', line: null, key: null }],
      },
    ]);
  });

  it('reads the JSON of get-credential-report (base64 Content) the same as the CSV', () => {
    const envelope = JSON.stringify({
      Content: fixture('credential-report.csv').toString('base64'),
      ReportFormat: 'text/csv',
      GeneratedTime: '2025-06-01T00:00:00Z',
    });
    expect(parse('report.csv', envelope)).toEqual(batch);
  });

  it('is stable across imports', () => {
    expect(parse('report.csv', fixture('credential-report.csv'))).toEqual(batch);
  });

  it('names line and column of bad values, and the missing columns of a CSV that is not a report', () => {
    const err = importError('report.csv', fixture('credential-report-broken.csv'));
    expect(err.details).toEqual([
      { path: 'report.csv:2 column mfa_active', message: 'expected true, false, N/A or not_supported' },
      {
        path: 'report.csv:2 column access_key_1_last_used_date',
        message: 'expected an ISO-8601 date, N/A, no_information or not_supported',
      },
      { path: 'report.csv:3 column user', message: 'required user name is missing' },
      {
        path: 'report.csv:4 column arn',
        message: 'expected an IAM user ARN (arn:aws:iam::<account>:user/…)',
      },
    ]);
    expect(importError('report.csv', fixture('credential-report-missing-columns.csv')).message).toBe(
      'report.csv:1: not an IAM credential report: missing column(s) user_creation_time, mfa_active, access_key_1_active, access_key_1_last_rotated, access_key_2_active, access_key_2_last_rotated (expected the CSV of `aws iam get-credential-report`)',
    );
    expect(
      importError('report.csv', `${fixture('credential-report.csv').toString().split('\n')[0]}\nbob,arn\n`)
        .message,
    ).toBe('report.csv:2: the row has a different number of fields than the header row');
  });

  it('rejects JSON that is neither export', () => {
    expect(importError('x.json', '{"Users": []}').message).toBe(
      'x.json: not an AWS IAM export: expected UserDetailList/RoleDetailList/GroupDetailList/Policies (get-account-authorization-details) or Content (get-credential-report), got an object with keys Users',
    );
    expect(importError('x.json', '[]').message).toBe(
      'x.json: expected a JSON object (get-account-authorization-details) or a CSV credential report, got a JSON array',
    );
    expect(importError('x.json', '{"Content": "%%%", "ReportFormat": "text/csv"}').details).toEqual([
      { path: 'x.json: Content', message: 'expected a base64 string' },
    ]);
  });
});

describe('awsExportShape', () => {
  it('tells the exports apart by content', () => {
    expect(awsExportShape('{"UserDetailList": []}', { UserDetailList: [] })).toBe('authorization-details');
    expect(
      awsExportShape('{"Content": "", "ReportFormat": "text/csv"}', {
        Content: '',
        ReportFormat: 'text/csv',
      }),
    ).toBe('credential-report');
    expect(awsExportShape('user,arn,user_creation_time,password_enabled\n')).toBe('credential-report');
    expect(awsExportShape('email,name\n')).toBeNull();
  });
});

describe('aws: the two exports merge without flipping the kind', () => {
  it('keeps a tag-set kind when the credential report (which has no tags) is imported afterwards', async () => {
    const { createSqliteStore } = await import('../../store/index.js');
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    const fp = createFingerprinter(Buffer.alloc(32, 3));
    const ctx = { fingerprinter: fp, now: '2026-11-29T00:00:00.000Z' };
    const auth = {
      UserDetailList: [
        {
          Path: '/',
          UserName: 'triage-agent',
          UserId: 'AIDAEXAMPLE000000001',
          Arn: 'arn:aws:iam::111122223333:user/triage-agent',
          CreateDate: '2025-01-01T00:00:00Z',
          GroupList: [],
          AttachedManagedPolicies: [],
          Tags: [{ Key: 'keyward:kind', Value: 'ai-agent' }],
        },
      ],
      GroupDetailList: [],
      RoleDetailList: [],
      Policies: [],
    };
    const report = [
      'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated',
      'triage-agent,arn:aws:iam::111122223333:user/triage-agent,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-01-01T00:00:00+00:00,2026-11-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
    ].join('\n');
    const imp = awsImporter;
    const apply = (name: string, text: string) =>
      store.applyInventoryBatch(imp.parse({ fileName: name, content: Buffer.from(text) }, ctx), {
        time: ctx.now,
        actor: 'test',
        source: {},
      });
    await apply('auth.json', JSON.stringify(auth));
    await apply('report.csv', report);
    const [identity] = await store.findIdentitiesByName('triage-agent');
    expect(identity?.kind).toBe('ai-agent');
    await store.close();
  });
});
