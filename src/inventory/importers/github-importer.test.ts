import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { githubImporter } from './github-importer.js';

const fingerprinter = createFingerprinter(Buffer.alloc(32, 7));
const ctx = { fingerprinter, now: '2025-06-01T00:00:00.000Z' };
const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/github/${name}`, import.meta.url));
const parse = (fileName: string, content: Buffer | string) =>
  githubImporter.parse({ fileName, content: Buffer.isBuffer(content) ? content : Buffer.from(content) }, ctx);

function importError(content: Buffer | string): ValidationError {
  try {
    parse('gh.json', content);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    return err as ValidationError;
  }
  throw new Error('expected the import to fail');
}

describe('github importer: app installations', () => {
  const batch = parse('installations.json', fixture('installations.json'));

  it('makes an app identity per installation and a grant per permission', () => {
    expect(batch.identities).toEqual([
      {
        provider: 'github',
        externalId: 'installation:41235001',
        name: 'renovate',
        kind: 'app',
        description: 'GitHub App renovate installed on acme',
        createdAt: '2023-04-11T09:12:44.000Z',
        attributes: {
          installationId: 41235001,
          appId: 310001,
          appSlug: 'renovate',
          account: 'acme',
          targetType: 'Organization',
          repositorySelection: 'all',
          events: ['issues', 'pull_request', 'push'],
          htmlUrl: 'https://github.com/organizations/acme/settings/installations/41235001',
        },
      },
      expect.objectContaining({ externalId: 'installation:41235002', name: 'acme-release-bot', kind: 'app' }),
    ]);
    expect(batch.grants.map((g) => [g.identity.externalId, g.key, g.actions, g.resources, g.admin])).toEqual([
      ['installation:41235001', 'permission:checks', ['checks:write'], ['github:acme/*'], false],
      ['installation:41235001', 'permission:contents', ['contents:write'], ['github:acme/*'], false],
      ['installation:41235001', 'permission:issues', ['issues:write'], ['github:acme/*'], false],
      ['installation:41235001', 'permission:metadata', ['metadata:read'], ['github:acme/*'], false],
      [
        'installation:41235001',
        'permission:pull_requests',
        ['pull_requests:write'],
        ['github:acme/*'],
        false,
      ],
      ['installation:41235001', 'permission:workflows', ['workflows:write'], ['github:acme/*'], false],
      // "selected" repositories are not listed by this endpoint: the repository grants name no resource.
      ['installation:41235002', 'permission:administration', ['administration:write'], [], true],
      ['installation:41235002', 'permission:contents', ['contents:write'], [], false],
      ['installation:41235002', 'permission:members', ['members:read'], ['github:acme'], false],
      ['installation:41235002', 'permission:metadata', ['metadata:read'], [], false],
      [
        'installation:41235002',
        'permission:organization_secrets',
        ['organization_secrets:write'],
        ['github:acme'],
        false,
      ],
    ]);
    expect(batch.grants[0]).toMatchObject({
      source: 'installation:41235001',
      effect: 'allow',
      attributes: { permission: 'checks', level: 'write', repositorySelection: 'all' },
    });
    expect(batch.resources).toEqual([
      { provider: 'github', type: 'github:organization', name: 'github:acme' },
      { provider: 'github', type: 'github:repositories', name: 'github:acme/*', attributes: { org: 'acme' } },
    ]);
    expect(batch.credentials).toEqual([]);
  });
});

describe('github importer: deploy keys', () => {
  const batch = parse('deploy-keys.json', fixture('deploy-keys.json'));

  it('makes an identity per deploy key (ci-pipeline when the title names CI) with the public key fingerprinted', () => {
    expect(batch.identities.map((i) => [i.externalId, i.name, i.kind, i.lastSeenAt, i.attributes])).toEqual([
      [
        'deploy-key:90000101',
        'acme/api:argocd (prod cluster)',
        'ci-pipeline',
        '2025-05-31T23:59:00.000Z',
        { repository: 'acme/api', deployKeyId: 90000101, readOnly: true, verified: true, addedBy: 'dana' },
      ],
      [
        'deploy-key:90000102',
        'acme/api:release pusher',
        'bot',
        null,
        {
          repository: 'acme/api',
          deployKeyId: 90000102,
          readOnly: false,
          verified: true,
          addedBy: 'ex-employee',
        },
      ],
    ]);
    const publicKey =
      'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0002';
    expect(batch.credentials[1]).toEqual({
      identity: { provider: 'github', externalId: 'deploy-key:90000102' },
      type: 'deploy-key',
      provider: 'github',
      // The comment after the key ("old-laptop") is not part of the key.
      fingerprint: fingerprinter.fingerprint(publicKey),
      preview: fingerprinter.preview(publicKey),
      fingerprintSource: 'value',
      externalId: '90000102',
      name: 'release pusher',
      status: 'active',
      createdAt: '2019-02-01T08:00:00.000Z',
      lastUsedAt: null,
      attributes: { keyType: 'ssh-rsa', readOnly: false, repository: 'acme/api' },
      locations: [{ kind: 'system', path: 'github:acme/api', line: null, key: 'deploy_keys/90000102' }],
    });
    expect(batch.grants.map((g) => [g.identity.externalId, g.key, g.actions, g.resources, g.source])).toEqual(
      [
        [
          'deploy-key:90000101',
          'deploy-key:contents',
          ['contents:read'],
          ['github:acme/api'],
          'deploy-key:90000101',
        ],
        [
          'deploy-key:90000102',
          'deploy-key:contents',
          ['contents:write'],
          ['github:acme/api'],
          'deploy-key:90000102',
        ],
      ],
    );
    expect(batch.resources).toEqual([
      { provider: 'github', type: 'github:repository', name: 'github:acme/api' },
    ]);
  });

  it('accepts a map of owner/repo to deploy keys', () => {
    const map = { 'acme/api': JSON.parse(fixture('deploy-keys.json').toString()).deploy_keys };
    expect(parse('deploy-keys.json', JSON.stringify(map))).toEqual(batch);
  });
});

describe('github importer: fine-grained PATs', () => {
  const batch = parse('pats.json', fixture('personal-access-tokens.json'));

  it('attaches each token to an identity for its owner, fingerprinted by token id, with expiry, last use and grants', () => {
    expect(batch.identities).toEqual([
      {
        provider: 'github',
        externalId: 'user:octodana',
        name: 'octodana',
        kind: 'user-key',
        owner: 'octodana',
        description: 'Fine-grained personal access tokens of octodana',
        attributes: { login: 'octodana' },
      },
      {
        provider: 'github',
        externalId: 'user:buildbot-sam',
        name: 'buildbot-sam',
        kind: 'user-key',
        owner: 'buildbot-sam',
        description: 'Fine-grained personal access tokens of buildbot-sam',
        attributes: { login: 'buildbot-sam' },
      },
    ]);
    expect(batch.credentials[0]).toEqual({
      identity: { provider: 'github', externalId: 'user:octodana' },
      type: 'pat',
      provider: 'github',
      fingerprint: fingerprinter.fingerprint('github-pat:98716'),
      preview: fingerprinter.preview('github-pat:98716'),
      fingerprintSource: 'reference',
      externalId: '98716',
      name: 'local-agent-automation',
      status: 'active',
      expiresAt: '2025-07-05T09:00:00.000Z',
      lastUsedAt: '2025-05-31T18:20:00.000Z',
      attributes: {
        fineGrained: true,
        org: 'acme',
        patGrantId: 25381,
        repositorySelection: 'all',
        expired: false,
        accessGrantedAt: '2025-01-05T09:00:00.000Z',
      },
      locations: [{ kind: 'system', path: 'github:acme', line: null, key: 'personal-access-tokens/25381' }],
    });
    expect(batch.credentials[1]).toMatchObject({
      status: 'inactive',
      expiresAt: null,
      lastUsedAt: null,
      externalId: '98799',
    });
    expect(
      batch.grants.map((g) => [g.identity.externalId, g.key, g.actions, g.resources, g.admin, g.source]),
    ).toEqual([
      ['user:octodana', 'pat:98716:members', ['members:read'], ['github:acme'], false, 'github-pat:98716'],
      [
        'user:octodana',
        'pat:98716:contents',
        ['contents:read'],
        ['github:acme/*'],
        false,
        'github-pat:98716',
      ],
      [
        'user:octodana',
        'pat:98716:metadata',
        ['metadata:read'],
        ['github:acme/*'],
        false,
        'github-pat:98716',
      ],
      [
        'user:octodana',
        'pat:98716:pull_requests',
        ['pull_requests:write'],
        ['github:acme/*'],
        false,
        'github-pat:98716',
      ],
      [
        'user:buildbot-sam',
        'pat:98799:administration',
        ['administration:write'],
        [],
        true,
        'github-pat:98799',
      ],
      ['user:buildbot-sam', 'pat:98799:metadata', ['metadata:read'], [], false, 'github-pat:98799'],
    ]);
  });
});

describe('github importer: combined file', () => {
  it('reads installations, deploy keys and PATs together, with org from the file and listed repositories', () => {
    const batch = parse('github.json', fixture('combined.json'));
    expect(batch.identities.map((i) => [i.externalId, i.kind])).toEqual([
      ['installation:41235003', 'app'],
      ['deploy-key:90000201', 'ci-pipeline'],
    ]);
    expect(batch.grants.map((g) => [g.key, g.actions, g.resources])).toEqual([
      ['permission:security_events', ['security_events:write'], ['github:acme/api', 'github:acme/web']],
      ['permission:metadata', ['metadata:read'], ['github:acme/api', 'github:acme/web']],
      ['deploy-key:contents', ['contents:write'], ['github:acme/web']],
    ]);
    expect(batch.resources.map((r) => r.name)).toEqual(['github:acme/api', 'github:acme/web']);
  });

  it('is stable across imports', () => {
    expect(parse('github.json', fixture('combined.json'))).toEqual(
      parse('github.json', fixture('combined.json')),
    );
  });
});

describe('github importer: bad input', () => {
  it('names the record and field of every problem', () => {
    expect(importError(fixture('broken.json')).details).toEqual([
      { path: 'gh.json: installations[0].id', message: 'expected number, got string' },
      { path: 'gh.json: installations[0].repository_selection', message: 'expected one of all, selected' },
      {
        path: 'gh.json: deploy_keys["acme/api"][0].key',
        message: 'expected an SSH public key ("ssh-ed25519 AAAA…")',
      },
      { path: 'gh.json: deploy_keys["acme/api"][0].read_only', message: 'expected boolean, got string' },
      {
        path: 'gh.json: deploy_keys.not-a-repo',
        message: 'expected a repository name "owner/repo" as the key',
      },
      {
        path: 'gh.json: personal_access_tokens',
        message:
          'cannot tell the organization; wrap the list as { "org": "<org>", "personal_access_tokens": [...] }',
      },
    ]);
  });

  it('explains what it accepts when the shape is unknown, and what a bare deploy key list lacks', () => {
    expect(importError('{"name": "acme"}').message).toMatch(
      /^gh\.json: not a GitHub listing this importer reads; expected one of: /,
    );
    expect(
      importError('[{"id": 1, "key": "ssh-ed25519 AAAA", "title": "t", "read_only": true}]').message,
    ).toBe(
      'gh.json: a bare list of deploy keys does not say its repository; wrap it as { "repository": "owner/repo", "deploy_keys": [...] }',
    );
    expect(importError('{"deploy_keys": []}').details).toEqual([
      {
        path: 'gh.json: repository',
        message: 'a "deploy_keys" array needs "repository": "owner/repo" beside it',
      },
    ]);
    expect(importError('42').message).toBe('gh.json: expected a JSON object or array, got number');
  });
});
