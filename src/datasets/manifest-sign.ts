/** Signs a dataset manifest statement into a DSSE envelope. */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import { signEnvelope, type DsseEnvelope } from './dsse.js';
import { serializeStatement } from './manifest.js';
import { IN_TOTO_PAYLOAD_TYPE, type DatasetStatement } from './manifest-types.js';

/**
 * Signs the canonical bytes of `statement` with an Ed25519 private key (DSSE, payload type in-toto JSON).
 * @example const envelope = signManifest(toStatement(await buildManifest(dir, { supplier })), key);
 */
export function signManifest(statement: DatasetStatement, key: KeyObject): DsseEnvelope {
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, serializeStatement(statement), key);
}

/** The envelope as the text written to a `.dsse.json` file: canonical JSON and a final newline. */
export function envelopeText(envelope: DsseEnvelope): string {
  return `${canonicalJson(envelope)}\n`;
}
