import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { EventRecord } from './types.js';

/** The prevHash of the first record in the log. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 (hex) over the canonical form of a record's content and the hash before it. */
export function hashEvent(record: Omit<EventRecord, 'hash'>): string {
  const body = canonicalJson({
    seq: record.seq,
    id: record.id,
    time: record.time,
    type: record.type,
    actor: record.actor,
    subject: record.subject,
    data: record.data,
    prevHash: record.prevHash,
  });
  return createHash('sha256').update(body).digest('hex');
}
