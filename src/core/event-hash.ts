import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { EventRecord } from './types.js';

/** The prevHash of the first record in the log. */
export const GENESIS_HASH = '0'.repeat(64);

// The canonical text of event data objects the store prepared for appending, so the text is made once per
// event: for the hash and for the stored column.
const canonicalData = new WeakMap<object, string>();

/**
 * Makes an event's data ready to append: plain JSON (a copy) and its canonical text, which `hashEvent` and
 * `canonicalDataText` reuse for this copy.
 */
export function prepareEventData(data: unknown): Record<string, unknown> {
  const text = canonicalJson(data ?? {});
  const copy = JSON.parse(text) as Record<string, unknown>;
  canonicalData.set(copy, text);
  return copy;
}

/** The canonical JSON of event data: remembered when prepareEventData made the object, else computed. */
export function canonicalDataText(data: Record<string, unknown>): string {
  return canonicalData.get(data) ?? canonicalJson(data);
}

/** SHA-256 (hex) over the canonical form of a record's content and the hash before it. */
export function hashEvent(record: Omit<EventRecord, 'hash'>): string {
  const { seq, id, time, type, actor, subject, data, prevHash } = record;
  let body: string;
  if ([seq, id, time, type, actor, subject, prevHash].some((v) => v === undefined)) {
    // What canonicalJson does with a missing member (leaves it out); never the case for stored records.
    body = canonicalJson({ seq, id, time, type, actor, subject, data, prevHash });
  } else {
    // canonicalJson of the record, with its keys in sorted order, written out: the data's text is reused.
    body =
      `{"actor":${canonicalJson(actor)},"data":${canonicalDataText(data)},"id":${canonicalJson(id)},` +
      `"prevHash":${canonicalJson(prevHash)},"seq":${canonicalJson(seq)},"subject":${canonicalJson(subject)},` +
      `"time":${canonicalJson(time)},"type":${canonicalJson(type)}}`;
  }
  // One-shot hash (UTF-8 of the text, like Hash.update): no Hash object per event.
  return hash('sha256', body, 'hex');
}
