import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  detectCredential,
  guessProvider,
  isPlaceholder,
  isSecretKeyName,
  isSecretReference,
  keyWords,
} from './credential-detector.js';

const b64url = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `eyJhbGciOiJIUzI1NiJ9.${b64url({ iss: 'https://auth.example.com', exp: 1798761600 })}.FAKESIGNATURE`;

describe('detectCredential: known formats', () => {
  it.each([
    ['github_pat_11FAKEFAKE0EXAMPLE_FAKEFAKEFAKEFAKEFAKEFAKE', 'pat', 'github', { fineGrained: true }],
    ['ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234', 'pat', 'github', { classic: true }],
    ['gho_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234', 'oauth-token', 'github', { tokenKind: 'oauth-app' }],
    ['ghu_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234', 'oauth-token', 'github', { tokenKind: 'user-to-server' }],
    ['ghs_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234', 'oauth-token', 'github', { tokenKind: 'installation' }],
    ['ghr_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234', 'oauth-token', 'github', { tokenKind: 'refresh' }],
    ['glpat-FAKEFAKEFAKEFAKEFAKE', 'pat', 'gitlab', {}],
    ['sk-ant-api03-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE-EXAMPLEAA', 'api-key', 'anthropic', {}],
    ['sk-ant-admin01-FAKEFAKEFAKEFAKEFAKEFAKEFAKE', 'api-key', 'anthropic', { admin: true }],
    ['sk-proj-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEEXAMPLE', 'api-key', 'openai', { project: true }],
    ['sk-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE', 'api-key', 'openai', {}],
    ['sk_test_FAKEFAKEFAKEFAKEFAKEFAKE', 'api-key', 'stripe', { live: false, restricted: false }],
    ['rk_live_FAKEFAKEFAKEFAKEFAKEFAKE', 'api-key', 'stripe', { live: true, restricted: true }],
    ['whsec_FAKEFAKEFAKEFAKEFAKEFAKE', 'webhook-secret', 'stripe', {}],
    ['xoxb-0000000000-0000000000000-FAKEFAKEFAKEFAKEFAKEFAKE', 'oauth-token', 'slack', { tokenKind: 'bot' }],
    ['xoxp-0000000000-0000000000000-FAKEFAKEFAKEFAKEFAKEFAKE', 'oauth-token', 'slack', { tokenKind: 'user' }],
    ['npm_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE', 'api-key', 'npm', {}],
    ['AIzaFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAK', 'api-key', 'google', {}],
    ['hf_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE', 'api-key', 'huggingface', {}],
  ])('%s → %s / %s', (value, type, provider, attributes) => {
    const d = detectCredential(value);
    expect(d).toMatchObject({
      type,
      provider,
      secret: value,
      fingerprintSource: 'value',
      externalId: null,
      attributes,
    });
  });

  it('treats AWS access key ids as references with the id as externalId (ASIA = temporary)', () => {
    expect(detectCredential('AKIAIOSFODNN7EXAMPLE')).toMatchObject({
      type: 'access-key',
      provider: 'aws',
      fingerprintSource: 'reference',
      externalId: 'AKIAIOSFODNN7EXAMPLE',
      attributes: {},
    });
    expect(detectCredential('ASIAIOSFODNN7EXAMPLE')?.attributes).toEqual({ temporary: true });
  });

  it('reads JWTs, taking the expiry and issuer from the claims', () => {
    expect(detectCredential(JWT)).toMatchObject({
      type: 'jwt',
      expiresAt: '2027-01-01T00:00:00.000Z',
      attributes: { issuer: 'https://auth.example.com' },
    });
  });

  it('lets a hint name the provider of a generic sk- key', () => {
    expect(
      detectCredential('sk-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE', { keyName: 'DEEPSEEK_API_KEY' })?.provider,
    ).toBe('deepseek');
  });
});

describe('detectCredential: wrapped values', () => {
  it('classifies the token inside Bearer/token headers and fingerprints only the token', () => {
    expect(detectCredential('Bearer ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234')).toMatchObject({
      type: 'pat',
      provider: 'github',
      secret: 'ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234',
      attributes: { classic: true, scheme: 'bearer' },
    });
    expect(detectCredential('token ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234')?.attributes.scheme).toBe(
      'token',
    );
    expect(
      detectCredential('Bearer FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx', { hints: ['api.notion.com'] }),
    ).toMatchObject({
      type: 'api-key',
      provider: 'notion',
      secret: 'FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx',
    });
    expect(detectCredential(`Bearer ${JWT}`)?.type).toBe('jwt');
  });

  it('treats Basic values as basic-auth', () => {
    expect(detectCredential('Basic ZmFrZTpGQUtFLXBhc3N3b3Jk')).toMatchObject({
      type: 'basic-auth',
      secret: 'ZmFrZTpGQUtFLXBhc3N3b3Jk',
      attributes: { scheme: 'basic' },
    });
  });

  it('finds private keys in PEM blocks, with escaped newlines too, fingerprinting the key body', () => {
    const pem =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEFAKE\nFAKEFAKE==\n-----END OPENSSH PRIVATE KEY-----\n';
    expect(detectCredential(pem)).toMatchObject({
      type: 'private-key',
      secret: 'b3BlbnNzaC1rZXktdjEFAKEFAKEFAKE==',
      attributes: { keyFormat: 'OPENSSH' },
    });
    expect(detectCredential(pem.replace(/\n/g, '\\n'))?.secret).toBe('b3BlbnNzaC1rZXktdjEFAKEFAKEFAKE==');
    const gcp = JSON.stringify({
      type: 'service_account',
      private_key: '-----BEGIN PRIVATE KEY-----\nMIIEFAKE\n-----END PRIVATE KEY-----\n',
      client_email: 'x@proj.iam.gserviceaccount.com',
    });
    expect(detectCredential(gcp)).toMatchObject({
      type: 'private-key',
      provider: 'google',
      attributes: { keyFormat: 'PKCS8', gcpServiceAccountKey: true },
    });
    expect(detectCredential('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).toBeNull();
  });

  it('finds passwords in connection strings and tokens in URLs', () => {
    expect(detectCredential('mongodb+srv://app:FAKE%40pw@cluster0.example.mongodb.net/db')).toMatchObject({
      type: 'connection-string',
      provider: 'mongodb',
      secret: 'FAKE@pw',
      attributes: { scheme: 'mongodb+srv', host: 'cluster0.example.mongodb.net' },
    });
    expect(
      detectCredential(
        'https://x-access-token:ghs_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234@github.com/acme/api.git',
      ),
    ).toMatchObject({
      type: 'oauth-token',
      provider: 'github',
    });
    expect(detectCredential('https://user:FAKE-pass@example.com/')).toMatchObject({
      type: 'basic-auth',
      secret: 'FAKE-pass',
    });
    expect(detectCredential('jdbc:postgresql://db:5432/app?user=app&password=FAKE-pw-123')).toMatchObject({
      type: 'password',
      secret: 'FAKE-pw-123',
      attributes: { queryParam: 'password' },
    });
    expect(detectCredential('https://hooks.slack.com/services/T000/B000/FAKEFAKEFAKE')).toMatchObject({
      type: 'webhook-secret',
      provider: 'slack',
    });
    expect(detectCredential('postgres://app:${DB_PASSWORD}@db/app')).toBeNull();
    expect(detectCredential('postgres://db.internal:5432/app')).toBeNull();
  });
});

describe('detectCredential: key names', () => {
  it.each([
    ['DB_PASSWORD', 'hunter22', 'password'],
    ['smtpPass', 'FAKE pass phrase', 'password'],
    ['OAUTH_CLIENT_SECRET', 'FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx', 'oauth-client-secret'],
    ['GITHUB_WEBHOOK_SECRET', 'FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx', 'webhook-secret'],
    ['aws_secret_access_key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'access-key'],
    ['GITHUB_PERSONAL_ACCESS_TOKEN', 'FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx', 'pat'],
    ['SALESFORCE_ACCESS_TOKEN', 'FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx', 'oauth-token'],
    ['DATADOG_API_KEY', '0f4ke9c2e81b7d40FAKEf2c9e8a1b3d7', 'api-key'],
    ['X-Api-Key', 'FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx', 'api-key'],
  ])('%s=%s → %s', (keyName, value, type) => {
    expect(detectCredential(value, { keyName })?.type).toBe(type);
  });

  it('ignores low-entropy values, ids, paths, URLs, public keys and numbers under secret-ish names', () => {
    expect(detectCredential('production', { keyName: 'API_KEY' })).toBeNull();
    expect(detectCredential('FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx', { keyName: 'API_KEY_ID' })).toBeNull();
    expect(detectCredential('/run/secrets/api-key', { keyName: 'API_KEY' })).toBeNull();
    expect(detectCredential('https://auth.example.com/token', { keyName: 'TOKEN_URL' })).toBeNull();
    expect(
      detectCredential('pk_test_FAKEFAKEFAKEFAKEFAKEFAKE', { keyName: 'STRIPE_PUBLISHABLE_KEY' }),
    ).toBeNull();
    expect(detectCredential('3600', { keyName: 'TOKEN_TTL' })).toBeNull();
    expect(detectCredential('12345678', { keyName: 'PASSWORD' })).toBeNull();
    expect(detectCredential('FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx')).toBeNull();
  });
});

describe('references and placeholders', () => {
  it.each([
    '${env:GITHUB_TOKEN}',
    '${GITHUB_TOKEN}',
    '${input:token}',
    '$GITHUB_TOKEN',
    '$(cat /run/secret)',
    '%TOKEN%',
    '{{ secrets.TOKEN }}',
    'op://vault/item/field',
    'vault:secret/data/app#token',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app',
    '',
    '   ',
  ])('%j is a reference, not a credential', (v) => {
    expect(isSecretReference(v)).toBe(true);
    expect(detectCredential(v, { keyName: 'API_TOKEN' })).toBeNull();
  });

  it.each(['<your-token>', 'xxxxxxxx', '********', 'changeme', 'your_api_key_here', 'TODO', 'REPLACE_ME'])(
    '%j is a placeholder',
    (v) => {
      expect(isPlaceholder(v)).toBe(true);
      expect(detectCredential(v, { keyName: 'DB_PASSWORD' })).toBeNull();
    },
  );
});

describe('key names and providers', () => {
  it('splits names into words and decides secretness', () => {
    expect(keyWords('openaiApiKey')).toEqual(['openai', 'api', 'key']);
    expect(keyWords('X-GitHub-Token')).toEqual(['x', 'git', 'hub', 'token']);
    expect(
      ['GITHUB_TOKEN', 'apiKey', '--api-key', 'Authorization', 'PGPASSWORD', 'client_secret'].map(
        isSecretKeyName,
      ),
    ).toEqual([true, true, true, true, true, true]);
    expect(
      ['AWS_ACCESS_KEY_ID', 'TOKEN_URL', 'PUBLIC_KEY', 'SSH_KEY_PATH', 'KEYBOARD_LAYOUT', 'PORT'].map(
        isSecretKeyName,
      ),
    ).toEqual([false, false, false, false, false, false]);
  });

  it('guesses providers from words in names and hosts', () => {
    expect(guessProvider('GITHUB_TOKEN')).toBe('github');
    expect(guessProvider('API_KEY', 'api.openai.com')).toBe('openai');
    expect(guessProvider('TOKEN')).toBe('unknown');
  });
});

describe('detectCredential properties', () => {
  it('never throws, and never leaks the value into attributes, reason or externalId unless it is an AWS key id', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
        (value, keyName) => {
          const d = detectCredential(value, { keyName });
          if (!d) return;
          expect(d.secret.length).toBeGreaterThan(0);
          if (d.fingerprintSource === 'value' && d.secret.length >= 8) {
            expect(JSON.stringify(d.attributes)).not.toContain(d.secret);
            expect(d.reason).not.toContain(d.secret);
            expect(d.externalId).toBeNull();
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('finds every generated GitHub token and never a reference to one', () => {
    const body = fc.stringMatching(/^[A-Za-z0-9]{36}$/);
    fc.assert(
      fc.property(body, fc.constantFrom('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'), (b, prefix) => {
        expect(detectCredential(`${prefix}${b}`)?.provider).toBe('github');
        expect(detectCredential(`\${${prefix}${b}}`)).toBeNull();
      }),
    );
  });
});
