/** The installation's master key and the admin token: generated on first start into 0600 files. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { constantTimeEqual, sha256Hex } from '../core/fingerprint.js';
import type { Store } from '../store/index.js';

/** Decodes a 32-byte key given as base64, base64url or hex. */
export function decodeMasterKey(text: string, where: string): Buffer {
  const t = text.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(t)
    ? Buffer.from(t, 'hex')
    : Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
  if (buf.length !== 32) {
    throw new ValidationError(
      `${where}: the master key must be 32 bytes, as 64 hex characters or base64 (got ${buf.length} bytes)`,
      {
        code: 'KW_INVALID_CONFIG',
      },
    );
  }
  return buf;
}

/** Writes a new file with mode 0600, failing if it exists (never overwrites a key). */
function writeSecretFile(path: string, content: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** The master key: from config (env) when given, else `<dataDir>/master.key`, created on first start. */
export function loadMasterKey(
  dataDir: string,
  configured: string | undefined,
): { key: Buffer; source: string; created: boolean } {
  if (configured)
    return {
      key: decodeMasterKey(configured, 'KEYWARD_MASTER_KEY'),
      source: 'KEYWARD_MASTER_KEY',
      created: false,
    };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, 'master.key');
  if (!existsSync(path)) {
    writeSecretFile(path, randomBytes(32).toString('base64') + '\n');
    return { key: decodeMasterKey(readFileSync(path, 'utf8'), path), source: path, created: true };
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ValidationError(
      `${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
      { code: 'KW_INVALID_CONFIG' },
    );
  }
  return { key: decodeMasterKey(readFileSync(path, 'utf8'), path), source: path, created: false };
}

const ADMIN_TOKEN_SETTING = 'admin_token_sha256';

/** Path of the file the admin token is written to, once. */
export function adminTokenPath(dataDir: string): string {
  return join(dataDir, 'admin.token');
}

/**
 * Makes sure an admin token exists. On first start it generates one, stores only its SHA-256 and writes the
 * token once to `<dataDir>/admin.token` (0600). With `rotate` it replaces the token (the old one stops working).
 */
export async function ensureAdminToken(
  store: Pick<Store, 'getSetting' | 'setSetting' | 'setSettingIfAbsent'>,
  dataDir: string,
  options: { rotate?: boolean } = {},
): Promise<{ created: boolean; tokenFile: string | null; token?: string }> {
  const existing = await store.getSetting(ADMIN_TOKEN_SETTING);
  if (existing && !options.rotate)
    return {
      created: false,
      tokenFile: existsSync(adminTokenPath(dataDir)) ? adminTokenPath(dataDir) : null,
    };
  const token = `kw_admin_${randomBytes(32).toString('base64url')}`;
  if (options.rotate) await store.setSetting(ADMIN_TOKEN_SETTING, sha256Hex(token));
  else if ((await store.setSettingIfAbsent(ADMIN_TOKEN_SETTING, sha256Hex(token))) !== sha256Hex(token)) {
    // Another replica created the token first.
    return { created: false, tokenFile: null };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = adminTokenPath(dataDir);
  if (existsSync(path)) {
    const { rmSync } = await import('node:fs');
    rmSync(path);
  }
  writeSecretFile(path, token + '\n');
  return { created: true, tokenFile: path, token };
}

/** Checks a presented bearer token against the stored hash in constant time. */
export function createAdminTokenVerifier(store: Pick<Store, 'getSetting'>) {
  let cached: { hash: string; at: number } | null = null;
  return async (presented: string): Promise<boolean> => {
    // Re-read the hash at most every 5 s so a rotation on another replica takes effect.
    if (!cached || Date.now() - cached.at > 5000) {
      const hash = await store.getSetting(ADMIN_TOKEN_SETTING);
      if (!hash) return false;
      cached = { hash, at: Date.now() };
    }
    return constantTimeEqual(sha256Hex(presented), cached.hash);
  };
}
