import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { loadConfig } from './app-config.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'kw-config-'));

describe('loadConfig', () => {
  it('uses documented defaults', () => {
    const c = loadConfig({ env: {}, flags: { dataDir: tmp() } });
    expect(c.port).toBe(7300);
    expect(c.host).toBe('127.0.0.1');
    expect(c.posture.unusedDays).toBe(90);
    expect(c.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('layers file < env < flags', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'keyward.yaml'), 'port: 8000\nhost: 0.0.0.0\nposture:\n  unusedDays: 30\n');
    const c = loadConfig({ env: { KEYWARD_PORT: '8100' }, flags: { dataDir: dir, host: '127.0.0.2' } });
    expect(c.port).toBe(8100);
    expect(c.host).toBe('127.0.0.2');
    expect(c.posture.unusedDays).toBe(30);
    expect(c.posture.maxSecretAgeDays).toBe(90);
  });

  it('names the file and field of a bad value', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'keyward.yaml'), 'posture:\n  unusedDays: -3\n');
    try {
      loadConfig({ env: {}, flags: { dataDir: dir } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const e = err as ValidationError;
      expect(e.code).toBe('KW_INVALID_CONFIG');
      expect(e.message).toContain('keyward.yaml');
      expect(e.details[0]?.path).toBe('posture.unusedDays');
    }
  });

  it('rejects unknown keys and reports YAML syntax errors with the line', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'keyward.yaml'), 'prot: 1\n');
    expect(() => loadConfig({ env: {}, flags: { dataDir: dir } })).toThrow(/invalid configuration/);
    writeFileSync(join(dir, 'keyward.yaml'), 'port: 1\nhost: [unclosed\n');
    expect(() => loadConfig({ env: {}, flags: { dataDir: dir } })).toThrow(/keyward\.yaml:\d+/);
  });

  it('rejects a bad port from the environment, naming it', () => {
    expect(() => loadConfig({ env: { KEYWARD_PORT: 'abc' }, flags: { dataDir: tmp() } })).toThrow(
      /environment/,
    );
  });

  it('has a broker section: issuer from host and port unless given, other fields defaulted and checked', () => {
    const c = loadConfig({ env: {}, flags: { dataDir: tmp(), port: 8443 } });
    expect(c.broker).toEqual({
      issuer: 'http://127.0.0.1:8443',
      defaultTokenTtlSeconds: 900,
      maxTokenTtlSeconds: 3600,
      keyRotationDays: 30,
      revocationPollIntervalMs: 250,
      dpopIatWindowSeconds: 60,
      dpopNonce: false,
      approvalPollIntervalSeconds: 5,
    });
    expect(Object.isFrozen(c.broker)).toBe(true);
    expect(loadConfig({ env: {}, flags: { dataDir: tmp(), host: '::1' } }).broker.issuer).toBe(
      'http://[::1]:7300',
    );

    const dir = tmp();
    writeFileSync(
      join(dir, 'keyward.yaml'),
      'broker:\n  issuer: https://file.example/\n  maxTokenTtlSeconds: 1800\n',
    );
    const fromFile = loadConfig({ env: {}, flags: { dataDir: dir } });
    expect(fromFile.broker).toMatchObject({ issuer: 'https://file.example', maxTokenTtlSeconds: 1800 });
    // KEYWARD_ISSUER replaces the issuer only, keeping the file's other broker settings.
    const fromEnv = loadConfig({
      env: { KEYWARD_ISSUER: 'https://keyward.example' },
      flags: { dataDir: dir },
    });
    expect(fromEnv.broker).toMatchObject({ issuer: 'https://keyward.example', maxTokenTtlSeconds: 1800 });

    writeFileSync(join(dir, 'keyward.yaml'), 'broker:\n  issuer: ftp://x\n');
    try {
      loadConfig({ env: {}, flags: { dataDir: dir } });
      expect.unreachable();
    } catch (err) {
      expect((err as ValidationError).details[0]?.path).toBe('broker.issuer');
    }
  });
});
