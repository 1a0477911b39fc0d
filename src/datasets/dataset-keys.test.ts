import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generateSigningKey,
  keyIdOf,
  loadSigningKey,
  parseSigningKey,
  privateKeyPem,
  publicKeyPem,
  toTrustedKeys,
} from './dataset-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadSigningKey', () => {
  it('loads an Ed25519 PKCS#8 PEM made by openssl; its keyid is the SHA-256 of the SPKI DER', async () => {
    const file = join(dir, 'key.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', file]);
    const key = await loadSigningKey(file);
    expect(key.asymmetricKeyType).toBe('ed25519');
    const der = execFileSync('openssl', ['pkey', '-in', file, '-pubout', '-outform', 'DER']);
    expect(keyIdOf(key)).toBe(createHash('sha256').update(der).digest('hex'));
  });

  it('round-trips a generated key through PEM', () => {
    const pair = generateSigningKey();
    const back = parseSigningKey(privateKeyPem(pair.privateKey));
    expect(keyIdOf(back)).toBe(pair.keyid);
    expect(publicKeyPem(back)).toBe(publicKeyPem(pair.publicKey));
  });

  it('names the file and says what is wrong', async () => {
    const put = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const enc = generateSigningKey()
      .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    await expect(loadSigningKey(put('enc.pem', enc))).rejects.toThrow(
      `Key ${join(dir, 'enc.pem')} is encrypted; decrypt it first`,
    );
    await expect(
      loadSigningKey(put('pub.pem', publicKeyPem(generateSigningKey().publicKey))),
    ).rejects.toThrow('holds a public key or certificate; signing needs the private key (PKCS#8 PEM)');
    await expect(loadSigningKey(put('junk.pem', 'hello'))).rejects.toThrow('is not a PEM file');
    await expect(
      loadSigningKey(put('bad.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')),
    ).rejects.toThrow('is not a readable private key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    await expect(loadSigningKey(put('rsa.pem', rsa))).rejects.toThrow(
      `is a rsa key; dataset manifests are signed with Ed25519`,
    );
    await expect(loadSigningKey(join(dir, 'absent.pem'))).rejects.toThrow(
      `Key ${join(dir, 'absent.pem')} cannot be read`,
    );
  });
});

describe('toTrustedKeys', () => {
  it('accepts public PEMs, public and private KeyObjects, and names a bad entry', () => {
    const a = generateSigningKey();
    const keys = toTrustedKeys([publicKeyPem(a.publicKey), a.publicKey, a.privateKey]);
    expect(keys.map((k) => [k.type, keyIdOf(k)])).toEqual([
      ['public', a.keyid],
      ['public', a.keyid],
      ['public', a.keyid],
    ]);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(() => toTrustedKeys([a.publicKey, ec])).toThrow(
      'Key trust[1] is a ec key; trusted keys must be Ed25519 public keys',
    );
    expect(() => toTrustedKeys(['nope'])).toThrow('Key trust[0] is not a PEM public key');
  });
});
