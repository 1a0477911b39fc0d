import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeywardError, ValidationError } from './errors.js';
import { deriveKey } from './fingerprint.js';

/**
 * What a sealed value is for. Each purpose gets its own key (HKDF from the master key), so a blob sealed for
 * one purpose never opens under another.
 */
export type SecretBoxPurpose = 'vault' | 'signing-keys';

/** Why a sealed value could not be opened; never carries any part of the plaintext or the key. */
export type SecretBoxFailure = 'malformed' | 'unsupported-version' | 'authentication-failed';

/** A sealed value could not be opened: it is malformed, of an unknown version, or fails authentication. */
export class SecretBoxError extends KeywardError {
  readonly reason: SecretBoxFailure;

  constructor(reason: SecretBoxFailure, message: string) {
    super('KW_INTERNAL', message);
    this.reason = reason;
  }
}

/** Seals and opens secrets at rest for one purpose; every blob is bound to the id of the record holding it. */
export interface SecretBox {
  readonly purpose: SecretBoxPurpose;
  /** Encrypts `plaintext` for the record `recordId`; returns `kw1.<iv>.<ciphertext>.<tag>` (base64url parts). */
  seal(plaintext: string | Uint8Array, recordId: string): string;
  /** Decrypts a sealed value of the record `recordId`; throws SecretBoxError when it cannot be opened. */
  open(sealed: string, recordId: string): Buffer;
  /** Like `open`, decoding the plaintext as UTF-8. */
  openText(sealed: string, recordId: string): string;
}

const VERSION = 'kw1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

// The associated data binds version, purpose and record id; JSON keeps the three fields unambiguous whatever
// characters a record id holds.
function associatedData(purpose: SecretBoxPurpose, recordId: string): Buffer {
  return Buffer.from(JSON.stringify([VERSION, purpose, recordId]), 'utf8');
}

function checkRecordId(recordId: string): void {
  if (typeof recordId !== 'string' || recordId === '') {
    throw new ValidationError('secret box: the record id must be a non-empty string');
  }
}

function decodePart(part: string, what: string): Buffer {
  const bytes = Buffer.from(part, 'base64url');
  // Strict: only the base64url alphabet, and canonical (re-encoding gives the same text).
  if (!BASE64URL.test(part) || bytes.toString('base64url') !== part) {
    throw new SecretBoxError('malformed', `sealed value: the ${what} is not canonical base64url`);
  }
  return bytes;
}

/**
 * Creates the secret box for one purpose from the installation's master key (AES-256-GCM, random 12-byte IVs).
 *
 * @example
 * const box = createSecretBox(masterKey, 'vault');
 * const sealed = box.seal('sk-upstream-key', upstream.id); // store this
 * const value = box.openText(sealed, upstream.id);
 */
export function createSecretBox(masterKey: Buffer, purpose: SecretBoxPurpose): SecretBox {
  if (masterKey.length < KEY_BYTES) {
    throw new ValidationError(`the master key must be at least ${KEY_BYTES} bytes`, {
      code: 'KW_INVALID_CONFIG',
    });
  }
  const key = deriveKey(masterKey, purpose);

  const seal = (plaintext: string | Uint8Array, recordId: string): string => {
    checkRecordId(recordId);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(purpose, recordId));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      iv.toString('base64url'),
      ciphertext.toString('base64url'),
      tag.toString('base64url'),
    ].join('.');
  };

  const open = (sealed: string, recordId: string): Buffer => {
    checkRecordId(recordId);
    if (typeof sealed !== 'string') throw new SecretBoxError('malformed', 'sealed value: not a string');
    const parts = sealed.split('.');
    if (parts.length !== 4) {
      throw new SecretBoxError(
        'malformed',
        `sealed value: expected 4 dot-separated parts, got ${parts.length}`,
      );
    }
    const [version, ivText, ciphertextText, tagText] = parts as [string, string, string, string];
    if (version !== VERSION) {
      // Print the version only when it looks like one, never a fragment of an arbitrary string.
      const shown = /^kw\d{1,3}$/.test(version) ? ` "${version}"` : '';
      throw new SecretBoxError(
        'unsupported-version',
        `sealed value: unsupported format version${shown} (this build reads ${VERSION})`,
      );
    }
    const iv = decodePart(ivText, 'IV');
    const ciphertext = decodePart(ciphertextText, 'ciphertext');
    const tag = decodePart(tagText, 'authentication tag');
    if (iv.length !== IV_BYTES)
      throw new SecretBoxError('malformed', `sealed value: the IV must be ${IV_BYTES} bytes`);
    if (tag.length !== TAG_BYTES) {
      throw new SecretBoxError(
        'malformed',
        `sealed value: the authentication tag must be ${TAG_BYTES} bytes`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(purpose, recordId));
    decipher.setAuthTag(tag);
    const head = decipher.update(ciphertext);
    try {
      return Buffer.concat([head, decipher.final()]);
    } catch {
      // GCM cannot tell a changed byte from a wrong key or a blob moved to another record; neither can we.
      head.fill(0);
      throw new SecretBoxError(
        'authentication-failed',
        `sealed ${purpose} value of record ${JSON.stringify(recordId)} failed authentication: it was changed, ` +
          'belongs to another record, or was sealed under a different master key',
      );
    }
  };

  return {
    purpose,
    seal,
    open,
    openText: (sealed, recordId) => open(sealed, recordId).toString('utf8'),
  };
}
