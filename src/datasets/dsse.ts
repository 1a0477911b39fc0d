/**
 * DSSE (Dead Simple Signing Envelope, github.com/secure-systems-lab/dsse, protocol.md): the pre-authentication
 * encoding that is signed, envelope construction, strict parsing and signature verification with Ed25519 keys.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ValidationError, type ErrorDetail } from '../core/errors.js';
import { keyIdOf } from './dataset-keys.js';

/** A DSSE envelope as serialised to JSON. */
export interface DsseEnvelope {
  payloadType: string;
  /** Standard base64 of the payload bytes. */
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** Standard padded base64 (a round trip, not a regular expression: payloads of many MB would overflow the stack). */
const isBase64 = (s: string): boolean => Buffer.from(s, 'base64').toString('base64') === s;
const b64 = z.string().refine(isBase64, 'must be standard base64');

const envelopeSchema = z.strictObject({
  payloadType: z.string().min(1),
  payload: b64,
  signatures: z
    .array(z.strictObject({ keyid: z.string().optional(), sig: b64.min(1) }))
    .min(1, 'must hold at least one signature'),
});

/**
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN being the byte length in ASCII decimal
 * (protocol.md). This is what is signed, never the payload alone.
 */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

/** Signs `body` with an Ed25519 private key and returns the one-signature envelope. */
export function signEnvelope(payloadType: string, body: Buffer, privateKey: KeyObject): DsseEnvelope {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ValidationError('The signing key must be an Ed25519 private key', {
      details: [
        {
          path: 'key',
          message: `got a ${privateKey.asymmetricKeyType ?? privateKey.type} ${privateKey.type} key`,
        },
      ],
    });
  }
  const sig = sign(null, pae(payloadType, body), privateKey);
  return {
    payloadType,
    payload: body.toString('base64'),
    signatures: [{ keyid: keyIdOf(privateKey), sig: sig.toString('base64') }],
  };
}

/**
 * Parses envelope JSON strictly.
 * @throws ValidationError when the text is not JSON (a truncated file) or not a DSSE envelope, naming the field.
 */
export function parseEnvelope(text: string, source = 'envelope'): DsseEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(
      `${source} is not valid JSON (truncated or edited?): ${(err as Error).message}`,
      { details: [{ path: source, message: 'not valid JSON' }], cause: err },
    );
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    const details: ErrorDetail[] = parsed.error.issues.map((i) => ({
      path: [source, ...i.path].join('.'),
      message: i.message,
    }));
    throw new ValidationError(
      `${source} is not a DSSE envelope: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      {
        details,
      },
    );
  }
  return {
    payloadType: parsed.data.payloadType,
    payload: parsed.data.payload,
    signatures: parsed.data.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })),
  };
}

/** Outcome of checking an envelope's signatures against trusted keys. */
export interface EnvelopeCheck {
  /** Key id of the trusted key whose signature verified, or null. */
  signer: string | null;
  /** Why no signature was accepted (empty when `signer` is set). */
  problems: ErrorDetail[];
}

/**
 * Accepts the envelope when any signature verifies over PAE(payloadType, payload) with one of `trusted` (Ed25519
 * public keys). The keyid in a signature is only a hint: it picks the key to try first, it is never trusted.
 */
export function verifyEnvelope(env: DsseEnvelope, trusted: readonly KeyObject[]): EnvelopeCheck {
  const message = pae(env.payloadType, Buffer.from(env.payload, 'base64'));
  const keys = trusted.map((key) => ({ key, id: keyIdOf(key) }));
  const problems: ErrorDetail[] = [];
  for (const [i, s] of env.signatures.entries()) {
    const sig = Buffer.from(s.sig, 'base64');
    const hinted = keys.filter((k) => k.id === s.keyid);
    const order = [...hinted, ...keys.filter((k) => k.id !== s.keyid)];
    const ok = order.find((k) => sig.length === 64 && verify(null, message, k.key, sig));
    if (ok) return { signer: ok.id, problems: [] };
    const who = s.keyid ? `key ${s.keyid}` : 'a key with no keyid';
    problems.push({
      path: `signatures[${i}]`,
      message:
        hinted.length > 0
          ? `signature by trusted ${who} does not verify: the payload or the signature was changed after signing`
          : `signed by ${who}, which is not in the trust list (or the payload was changed after signing)`,
    });
  }
  return { signer: null, problems };
}
