import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../store/index.js';
import { sha256Hex } from '../core/fingerprint.js';
import { createAdminTokenVerifier, decodeMasterKey, ensureAdminToken, loadMasterKey } from './keys.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'kw-keys-'));

describe('loadMasterKey', () => {
  it('creates a 0600 key file on first start and reads the same key later', () => {
    const dir = tmp();
    const a = loadMasterKey(dir, undefined);
    expect(a.created).toBe(true);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    const b = loadMasterKey(dir, undefined);
    expect(b.created).toBe(false);
    expect(b.key.equals(a.key)).toBe(true);
  });

  it('refuses a key file others can read', () => {
    const dir = tmp();
    loadMasterKey(dir, undefined);
    chmodSync(join(dir, 'master.key'), 0o644);
    expect(() => loadMasterKey(dir, undefined)).toThrow(/readable by other users .*chmod 600/);
  });

  it('takes the configured key (hex or base64) and rejects a wrong length', () => {
    const hex = 'ab'.repeat(32);
    expect(loadMasterKey(tmp(), hex).key.toString('hex')).toBe(hex);
    expect(decodeMasterKey(Buffer.alloc(32, 1).toString('base64'), 'x').length).toBe(32);
    expect(() => decodeMasterKey('c2hvcnQ=', 'KEYWARD_MASTER_KEY')).toThrow(
      /KEYWARD_MASTER_KEY: the master key must be 32 bytes/,
    );
  });
});

describe('admin token', () => {
  it('is written once to a 0600 file, stored only as a hash, and verified in constant time', async () => {
    const dir = tmp();
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    const first = await ensureAdminToken(store, dir);
    expect(first.created).toBe(true);
    const file = join(dir, 'admin.token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8').trim();
    expect(token).toMatch(/^kw_admin_[A-Za-z0-9_-]{43}$/);
    expect(await store.getSetting('admin_token_sha256')).toBe(sha256Hex(token));

    const again = await ensureAdminToken(store, dir);
    expect(again.created).toBe(false);

    const verify = createAdminTokenVerifier(store);
    expect(await verify(token)).toBe(true);
    expect(await verify(token + 'x')).toBe(false);
    expect(await verify('')).toBe(false);

    const rotated = await ensureAdminToken(store, dir, { rotate: true });
    expect(rotated.created).toBe(true);
    const newToken = readFileSync(file, 'utf8').trim();
    expect(newToken).not.toBe(token);
    expect(await createAdminTokenVerifier(store)(token)).toBe(false);
    expect(await createAdminTokenVerifier(store)(newToken)).toBe(true);
    expect(existsSync(file)).toBe(true);
    await store.close();
  });
});
