/**
 * The broker's signing keys: Ed25519 key generation (kid = RFC 7638 thumbprint), sealing the private key at rest,
 * a pure rotation planner, and the public JWKS. No store access: records come in, decisions go out.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';
import { KeywardError, ValidationError } from '../core/errors.js';
import type { SecretBox } from '../core/secret-box.js';

/** The only algorithm the broker signs with (RFC 8037 §3.1: EdDSA over Ed25519). */
export const SIGNING_ALG = 'EdDSA';

/** The public half of a signing key, as published in the JWKS. */
export interface PublicSigningJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: typeof SIGNING_ALG;
  use: 'sig';
}

/** A signing key ready to sign: its kid, private key (a CryptoKey) and public JWK. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: PublicSigningJwk;
}

/** The fields of a stored signing key the rotation planner looks at (ISO-8601 timestamps). */
export interface SigningKeySchedule {
  kid: string;
  createdAt: string;
  /** From when the key may sign; a key is published before it signs so cached key sets already hold it. */
  activatesAt: string;
  /** From when the key no longer signs; null while it is the current (or a pending) key. */
  retiresAt: string | null;
  /** From when the key leaves the JWKS: retiresAt + the maximum token lifetime. Null while not retired. */
  expiresAt: string | null;
}

/** Inputs of the rotation planner besides the key records. */
export interface RotationOptions {
  now: Date;
  /** The longest lifetime any access token may have; a retired key stays published this long. */
  maxTokenTtlSeconds: number;
  /** How long a key signs before its successor takes over (default 30 days). */
  rotationPeriodSeconds?: number;
  /** How long a successor is published before it signs (default 1 day, at most half the rotation period). */
  prepublishSeconds?: number;
  /** Retire the current key now and create a successor that signs at once (manual rotation). */
  rotateNow?: boolean;
}

/** What to do now: which key signs, whether to create one, which keys to retire, what to publish. */
export interface RotationPlan {
  /** The key that signs tokens now; null when none can, and the key in `create` (active at once) must be made. */
  signingKid: string | null;
  /** Create a new key with this activation time (its retiresAt and expiresAt start null). */
  create: { activatesAt: string } | null;
  /** Schedule updates to store: these keys stop signing at retiresAt and leave the JWKS at expiresAt. */
  retire: Array<{ kid: string; retiresAt: string; expiresAt: string }>;
  /** The kids whose public keys belong in the JWKS (newest activation first). */
  jwksKids: string[];
  /** Keys past their expiresAt: no token they signed is still valid; they may be deleted. */
  expired: string[];
  /** When the plan next changes on its own (a key activates, is due, or expires); run the planner again then. */
  nextReviewAt: string | null;
}

export const DEFAULT_ROTATION_PERIOD_SECONDS = 30 * 86_400;
export const DEFAULT_PREPUBLISH_SECONDS = 86_400;

/**
 * Generates a new Ed25519 signing key; its kid is the RFC 7638 SHA-256 thumbprint of the public key.
 * The private key is extractable so it can be sealed; keys read back with openSigningKey are not.
 */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(publicKey);
  if (typeof jwk.x !== 'string') throw new KeywardError('KW_INTERNAL', 'generated key has no public part');
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'sha256');
  return { kid, privateKey, publicJwk: publicSigningJwk(jwk.x, kid) };
}

function publicSigningJwk(x: string, kid: string): PublicSigningJwk {
  return { kty: 'OKP', crv: 'Ed25519', x, kid, alg: SIGNING_ALG, use: 'sig' };
}

function checkBox(box: SecretBox): void {
  if (box.purpose !== 'signing-keys') {
    throw new ValidationError(
      `signing keys are sealed with the 'signing-keys' secret box, not '${box.purpose}'`,
    );
  }
}

/** Seals a signing key's private JWK for storage; the blob is bound to the kid and opens for no other record. */
export async function sealSigningKey(box: SecretBox, key: SigningKey): Promise<string> {
  checkBox(box);
  const jwk = await exportJWK(key.privateKey);
  const text = JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d });
  return box.seal(text, key.kid);
}

/**
 * Opens a sealed signing key and checks that it is the key its kid names.
 * Throws SecretBoxError when the blob does not open, KeywardError (KW_INTERNAL) when its content is not that key.
 */
export async function openSigningKey(box: SecretBox, kid: string, sealed: string): Promise<SigningKey> {
  checkBox(box);
  const plain = box.open(sealed, kid);
  let jwk: JWK;
  try {
    jwk = JSON.parse(plain.toString('utf8')) as JWK;
  } catch {
    throw new KeywardError('KW_INTERNAL', `signing key ${kid}: the sealed content is not a JSON Web Key`);
  } finally {
    plain.fill(0);
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string' || typeof jwk.d !== 'string') {
    throw new KeywardError(
      'KW_INTERNAL',
      `signing key ${kid}: the sealed content is not an Ed25519 private key`,
    );
  }
  const thumbprint = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'sha256');
  if (thumbprint !== kid) {
    throw new KeywardError('KW_INTERNAL', `signing key ${kid}: the sealed key has a different thumbprint`);
  }
  let privateKey: CryptoKey;
  try {
    const imported = await importJWK(jwk, SIGNING_ALG, { extractable: false });
    if (imported instanceof Uint8Array || imported.type !== 'private') throw new Error('not a private key');
    privateKey = imported;
  } catch {
    throw new KeywardError('KW_INTERNAL', `signing key ${kid}: the sealed private key cannot be imported`);
  }
  return { kid, privateKey, publicJwk: publicSigningJwk(jwk.x, kid) };
}

/** The public JWK of a stored key as the JWKS publishes it (only kty, crv, x, kid, alg, use — never `d`). */
export function toPublicSigningJwk(
  kid: string,
  jwk: { kty?: unknown; crv?: unknown; x?: unknown },
): PublicSigningJwk {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string' || jwk.x === '') {
    throw new ValidationError(`signing key ${kid}: the public key is not an Ed25519 JWK`);
  }
  return publicSigningJwk(jwk.x, kid);
}

// --- rotation -------------------------------------------------------------------------------------------

interface Timeline {
  kid: string;
  created: number;
  activates: number;
  retires: number | null;
  expires: number | null;
}

function parseTime(value: string | null, kid: string, field: string): number | null {
  if (value === null) return null;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ValidationError(`signing key ${kid}: ${field} is not a timestamp`);
  return t;
}

function toTimeline(k: SigningKeySchedule): Timeline {
  return {
    kid: k.kid,
    created: parseTime(k.createdAt, k.kid, 'createdAt')!,
    activates: parseTime(k.activatesAt, k.kid, 'activatesAt')!,
    retires: parseTime(k.retiresAt, k.kid, 'retiresAt'),
    expires: parseTime(k.expiresAt, k.kid, 'expiresAt'),
  };
}

// Newest last: by activation, then creation, then kid, so every replica picks the same signer.
function byActivation(a: Timeline, b: Timeline): number {
  return a.activates - b.activates || a.created - b.created || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);
}

function positiveSeconds(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new ValidationError(`${name} must be a positive number of seconds`);
  return value;
}

/**
 * Decides which key signs now, whether a new key must be created, which keys retire and which public keys
 * the JWKS holds. Pure and idempotent: apply the plan (create, then store the retire updates), run it again,
 * and the second plan asks for nothing.
 *
 * - A key signs from activatesAt until retiresAt; among the keys that may sign, the newest does.
 * - When the signer has signed for the rotation period, a successor is created that activates no sooner than
 *   `prepublishSeconds` from now, so resource servers caching the JWKS already know it when it signs.
 * - A key that is no longer the signer is retired at the moment the planner sees it (a replica may have
 *   signed with it until then), and stays in the JWKS until retiresAt + maxTokenTtl, when the last token it
 *   can have signed has expired.
 *
 * @example
 * const plan = planKeyRotation(records, { now: clock.now(), maxTokenTtlSeconds: 3600 });
 * if (plan.create) await createKey(plan.create.activatesAt);
 * for (const r of plan.retire) await store.retireSigningKey(r.kid, r.retiresAt, r.expiresAt);
 */
export function planKeyRotation(keys: readonly SigningKeySchedule[], options: RotationOptions): RotationPlan {
  const now = options.now.getTime();
  const maxTtl = positiveSeconds(options.maxTokenTtlSeconds, 'maxTokenTtlSeconds') * 1000;
  const period =
    positiveSeconds(
      options.rotationPeriodSeconds ?? DEFAULT_ROTATION_PERIOD_SECONDS,
      'rotationPeriodSeconds',
    ) * 1000;
  const prepublish = Math.min(
    positiveSeconds(options.prepublishSeconds ?? DEFAULT_PREPUBLISH_SECONDS, 'prepublishSeconds') * 1000,
    period / 2,
  );
  const iso = (t: number): string => new Date(t).toISOString();

  const timelines = keys.map(toTimeline).sort(byActivation);
  const seen = new Set<string>();
  for (const t of timelines) {
    if (seen.has(t.kid)) throw new ValidationError(`signing key ${t.kid} is listed twice`);
    seen.add(t.kid);
  }

  const canSign = (t: Timeline): boolean =>
    t.activates <= now && (t.retires === null || now < t.retires) && (t.expires === null || now < t.expires);
  const signers = timelines.filter(canSign);
  let signer = signers.at(-1) ?? null;

  const retire: RotationPlan['retire'] = [];
  const retireAt = (t: Timeline, at: number): void => {
    t.retires = at;
    t.expires = at + maxTtl;
    retire.push({ kid: t.kid, retiresAt: iso(at), expiresAt: iso(t.expires) });
  };

  // Keys that may still sign but are not the newest: retire them now.
  for (const t of signers) if (t !== signer) retireAt(t, now);
  // Keys retired without an expiry (written by hand or by an older build): give them one.
  for (const t of timelines) {
    if (t.retires !== null && t.expires === null) {
      t.expires = t.retires + maxTtl;
      retire.push({ kid: t.kid, retiresAt: iso(t.retires), expiresAt: iso(t.expires) });
    }
  }

  let create: RotationPlan['create'] = null;
  if (signer && options.rotateNow) {
    retireAt(signer, now);
    signer = null;
  }
  const pending = timelines.filter(
    (t) => t.activates > now && (t.retires === null || t.retires > t.activates),
  );
  if (!signer) {
    create = { activatesAt: iso(now) };
  } else if (pending.length === 0 && now >= signer.activates + period - prepublish) {
    create = { activatesAt: iso(Math.max(signer.activates + period, now + prepublish)) };
  }

  const live = timelines.filter((t) => t.expires === null || now < t.expires);
  const expired = timelines.filter((t) => t.expires !== null && now >= t.expires).map((t) => t.kid);

  // The next moment the plan changes without new input.
  const events: number[] = [];
  for (const t of live) {
    if (t.activates > now) events.push(t.activates);
    if (t.expires !== null) events.push(t.expires);
  }
  if (signer && pending.length === 0 && !create) events.push(signer.activates + period - prepublish);
  if (create) events.push(Date.parse(create.activatesAt) + period - prepublish);
  const future = events.filter((t) => t > now);

  return {
    signingKid: signer?.kid ?? null,
    create,
    retire,
    jwksKids: [...live].reverse().map((t) => t.kid),
    expired,
    nextReviewAt: future.length ? iso(Math.min(...future)) : null,
  };
}

/** A stored key as buildJwks takes it: its schedule and its public JWK. */
export interface PublishedKey {
  kid: string;
  publicJwk: { kty?: unknown; crv?: unknown; x?: unknown };
  activatesAt: string;
  expiresAt: string | null;
}

/**
 * The JWKS to serve at /.well-known/jwks.json: every key not past its expiresAt (pending keys included), newest
 * activation first, each reduced to its public members.
 */
export function buildJwks(keys: readonly PublishedKey[], now: Date): JSONWebKeySet {
  const t = now.getTime();
  const published = keys
    .filter((k) => k.expiresAt === null || t < Date.parse(k.expiresAt))
    .sort((a, b) => Date.parse(b.activatesAt) - Date.parse(a.activatesAt) || (a.kid < b.kid ? -1 : 1));
  return { keys: published.map((k) => ({ ...toPublicSigningJwk(k.kid, k.publicJwk) })) };
}
