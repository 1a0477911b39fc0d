/**
 * Ed25519 keys for signing dataset manifests: load a PKCS#8 PEM, generate a key pair, export PEMs, compute the
 * stable key id (SHA-256 of the public key's SPKI DER, hex) and turn a trust list into public keys.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ValidationError } from '../core/errors.js';

/** A generated signing key pair with its key id. */
export interface SigningKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyid: string;
}

/** The key id of a key: hex SHA-256 of the DER SubjectPublicKeyInfo of its public half. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Generates a fresh Ed25519 key pair. */
export function generateSigningKey(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyid: keyIdOf(publicKey) };
}

/** PKCS#8 PEM of a private key (unencrypted: store it as a secret). */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** SPKI PEM of a key's public half (what verifiers put in their trust list; `openssl pkeyutl -pubin` reads it). */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Reads an unencrypted PKCS#8 PEM Ed25519 private key.
 * @throws ValidationError naming the file when it is missing, encrypted, a public key, another key type or not PEM.
 */
export async function loadSigningKey(pemPath: string): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(pemPath, 'utf8');
  } catch (err) {
    throw keyError(pemPath, `cannot be read: ${(err as Error).message}`, err);
  }
  return parseSigningKey(text, pemPath);
}

/** Parses PEM text as {@link loadSigningKey} does; `source` names it in errors. */
export function parseSigningKey(text: string, source = 'signing key'): KeyObject {
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw keyError(
      source,
      'is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem) or let Keyward manage the key',
    );
  }
  if (/-----BEGIN (?:PUBLIC KEY|CERTIFICATE)-----/.test(text) && !text.includes('PRIVATE KEY-----')) {
    throw keyError(source, 'holds a public key or certificate; signing needs the private key (PKCS#8 PEM)');
  }
  if (!text.includes('-----BEGIN')) {
    throw keyError(source, 'is not a PEM file (expected -----BEGIN PRIVATE KEY-----)');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    throw keyError(source, `is not a readable private key: ${(err as Error).message}`, err);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw keyError(
      source,
      `is a ${key.asymmetricKeyType ?? 'unknown'} key; dataset manifests are signed with Ed25519 (openssl genpkey -algorithm ed25519)`,
    );
  }
  return key;
}

/**
 * Turns a trust list (public KeyObjects, private KeyObjects whose public half is taken, or PEM texts) into Ed25519
 * public keys.
 * @throws ValidationError naming the entry (`trust[2]`) that is not an Ed25519 key.
 */
export function toTrustedKeys(trust: ReadonlyArray<KeyObject | string>): KeyObject[] {
  return trust.map((entry, i) => {
    const where = `trust[${i}]`;
    let key: KeyObject;
    try {
      key = typeof entry === 'string' ? createPublicKey({ key: entry, format: 'pem' }) : entry;
      if (key.type === 'private') key = createPublicKey(key);
    } catch (err) {
      throw keyError(where, `is not a PEM public key: ${(err as Error).message}`, err);
    }
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
      throw keyError(
        where,
        `is a ${key.asymmetricKeyType ?? key.type} key; trusted keys must be Ed25519 public keys`,
      );
    }
    return key;
  });
}

function keyError(where: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError(`Key ${where} ${message}`, { details: [{ path: where, message }], cause });
}
