import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { dotenvIdentityName, dotenvImporter } from './dotenv-importer.js';

const fingerprinter = createFingerprinter(Buffer.alloc(32, 7));
const ctx = { fingerprinter, now: '2025-06-01T00:00:00.000Z' };
const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/dotenv/${name}`, import.meta.url));
const parse = (fileName: string, content: Buffer | string) =>
  dotenvImporter.parse({ fileName, content: Buffer.isBuffer(content) ? content : Buffer.from(content) }, ctx);

describe('dotenv importer', () => {
  const file = 'services/billing/.env.production';
  const batch = parse(file, fixture('billing.env'));
  const ref = { provider: 'dotenv', externalId: file };
  const at = (line: number, key: string) => [{ kind: 'file', path: file, line, key }];

  it('treats the file as one workload named after its directory, with the environment from its suffix', () => {
    expect(batch.identities).toEqual([
      {
        provider: 'dotenv',
        externalId: file,
        name: 'billing',
        kind: 'workload',
        environment: 'production',
        description: `Workload configured by ${file}`,
        attributes: { file, variables: 20 },
      },
    ]);
  });

  it('records each secret-looking variable with its type, provider, preview and file:line:key', () => {
    expect(
      batch.credentials.map((c) => [c.type, c.provider, c.preview, c.name, c.externalId, c.locations]),
    ).toEqual([
      ['connection-string', 'postgres', 'FAKE…w0rd', 'DATABASE_URL', null, at(8, 'DATABASE_URL')],
      ['api-key', 'stripe', 'sk_t…FAKE', 'STRIPE_SECRET_KEY', null, at(12, 'STRIPE_SECRET_KEY')],
      [
        'webhook-secret',
        'stripe',
        'whse…FAKE',
        'STRIPE_WEBHOOK_SECRET',
        null,
        at(14, 'STRIPE_WEBHOOK_SECRET'),
      ],
      ['api-key', 'openai', 'sk-p…MPLE', 'OPENAI_API_KEY', null, at(15, 'OPENAI_API_KEY')],
      ['webhook-secret', 'slack', 'http…FAKE', 'SLACK_WEBHOOK_URL', null, at(17, 'SLACK_WEBHOOK_URL')],
      [
        'access-key',
        'aws',
        'wJal…EKEY',
        'AWS_SECRET_ACCESS_KEY',
        'AKIAIOSFODNN7EXAMPLE',
        [...at(19, 'AWS_ACCESS_KEY_ID'), ...at(20, 'AWS_SECRET_ACCESS_KEY')],
      ],
      ['password', 'unknown', 'corr…aple', 'SMTP_PASSWORD', null, at(23, 'SMTP_PASSWORD')],
      ['private-key', 'unknown', 'MHcC…FAKE', 'JWT_SIGNING_KEY', null, at(26, 'JWT_SIGNING_KEY')],
    ]);
    for (const c of batch.credentials) {
      expect(c.identity).toEqual(ref);
      expect(c.fingerprintSource).toBe('value');
      expect(c.status).toBe('active');
    }
  });

  it('fingerprints the secret itself: the password inside a URL, the body of a PEM key, the value after unquoting', () => {
    const byName = Object.fromEntries(batch.credentials.map((c) => [c.name, c.fingerprint]));
    expect(byName.DATABASE_URL).toBe(fingerprinter.fingerprint('FAKE-db-Passw0rd'));
    expect(byName.STRIPE_WEBHOOK_SECRET).toBe(fingerprinter.fingerprint('whsec_FAKEFAKEFAKEFAKEFAKEFAKE'));
    expect(byName.SMTP_PASSWORD).toBe(fingerprinter.fingerprint('correct horse battery staple'));
    expect(byName.JWT_SIGNING_KEY).toBe(
      fingerprinter.fingerprint(
        'MHcCAQEEIFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEoAoGCCqGSM49AwEHoUQDQgAEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE',
      ),
    );
  });

  it('skips public keys, references (${X}, op://), placeholders and ordinary settings', () => {
    const names = batch.credentials.map((c) => c.name);
    for (const skipped of [
      'STRIPE_PUBLISHABLE_KEY',
      'SENDGRID_API_KEY',
      'SESSION_SECRET',
      'ADMIN_PASSWORD',
      'REDIS_URL',
      'PORT',
      'GREETING',
    ]) {
      expect(names).not.toContain(skipped);
    }
  });

  it('is stable across imports and holds no secret value', () => {
    expect(parse(file, fixture('billing.env'))).toEqual(batch);
    const text = JSON.stringify(batch);
    for (const secret of [
      'FAKE-db-Passw0rd',
      'sk_test_FAKEFAKE',
      'correct horse',
      'bPxRfiCYEXAMPLEKEY',
      'MHcCAQEEIFAKE',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('names the line of each bad assignment', () => {
    let err: unknown;
    try {
      parse('.env', fixture('broken.env'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    expect((err as ValidationError).details.map((d) => d.path)).toEqual([
      '.env:3',
      '.env:4',
      '.env:5',
      '.env:6',
    ]);
    expect(() => parse('.env', fixture('unterminated.env'))).toThrow(
      '.env:2: the value of PRIVATE_KEY opens a " quote that is never closed',
    );
  });

  it('allows a file of only comments and blank lines', () => {
    expect(parse('.env', '# nothing yet\n\n').credentials).toEqual([]);
  });
});

describe('dotenvIdentityName', () => {
  it.each([
    ['.env', '.env', null],
    ['.env.staging', '.env.staging', 'staging'],
    ['services/billing/.env', 'billing', null],
    ['services/billing/.env.production', 'billing', 'production'],
    ['deploy/prod.env', 'deploy', 'production'],
    ['billing.env', 'billing', null],
    ['apps\\worker-dev\\.env', 'worker-dev', 'development'],
    ['config/settings.txt', 'settings.txt', null],
  ])('%s → %s (%s)', (fileName, name, environment) => {
    expect(dotenvIdentityName(fileName)).toEqual({ name, environment });
  });
});
