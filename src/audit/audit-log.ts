/**
 * The audit capability: the one way other capabilities append to the hash-chained event log, a streaming
 * reader, and the verifier behind `keyward audit verify`.
 *
 * How verification classifies the FIRST bad record. Records are read in seq order; for each record `r` the
 * verifier knows the seq it expects (`e`, one more than the previous record's, 1 at the start) and the hash
 * the previous record holds (`ph`, 64 zeros at the start). Three facts are checked:
 *   seq:  r.seq === e
 *   self: r.hash === hashEvent(r)            (the hash covers seq, content and prevHash)
 *   link: r.prevHash === ph
 * and the first failure is reported as:
 *   1. seq fails (r.seq > e)            → `missing` at seq e: records e … r.seq−1 are not in the log.
 *   2. link holds, self fails           → `changed` at r.seq: the record was edited in place (its content or
 *                                         its stored hash no longer match).
 *   3. self holds, link fails           → `changed` at e−1: r is intact where it was written, so the record
 *                                         before it is not the one r was chained to — it was rewritten with a
 *                                         recomputed hash (at e = 1: the first record was forged).
 *   4. both fail: r is not where it was written, or was edited including its prevHash. The log is searched
 *      for the record whose hash r.prevHash names:
 *      - present elsewhere               → `reordered` at r.seq (records were swapped or moved: r was chained
 *                                         after a record that now sits at another position);
 *      - absent, and r hashes correctly under some seq in (e, e + RENUMBER_WINDOW]
 *                                        → `missing` at e: the record r followed was deleted and the later
 *                                         records renumbered to close the gap;
 *      - absent otherwise                → `changed` at r.seq.
 * A log whose newest records were deleted is still a valid, shorter chain: detecting truncation at the end
 * needs the last hash kept elsewhere. Pass such a copy as `anchor` ({ seq, hash } from an earlier
 * verification, kept outside the database): a log that now ends before `anchor.seq` is reported `missing` at
 * the first absent seq, and a record at `anchor.seq` whose hash differs is reported `changed` (the log was
 * rewritten from there on, even if the new chain is self-consistent).
 */
import { ValidationError, type ErrorDetail } from '../core/errors.js';
import { GENESIS_HASH, hashEvent } from '../core/event-hash.js';
import type { EventRecord, NewEvent } from '../core/types.js';
import type { Store } from '../store/index.js';

/** What appending needs from the store. */
export type EventAppender = Pick<Store, 'appendEvents'>;
/** What reading and verifying need from the store. */
export type EventReader = Pick<Store, 'readEvents'>;

/** Largest page the stores return from one read. */
export const MAX_EVENT_BATCH = 10_000;
/** How far past its position a renumbered record's original seq is searched for (see the file comment). */
export const RENUMBER_WINDOW = 10_000;

/** How a record fails verification; see the file comment for the exact rules. */
export type EventLogProblemKind = 'changed' | 'missing' | 'reordered';

/** The first bad record found. */
export interface EventLogProblem {
  seq: number;
  kind: EventLogProblemKind;
  message: string;
}

/** Verification outcome: `checked` counts the records confirmed intact (all of them when ok). */
export type EventLogVerification =
  | { ok: true; checked: number; lastSeq: number; lastHash: string }
  | { ok: false; checked: number; problem: EventLogProblem };

/** Options for reading the log as a stream. */
export interface EventStreamOptions {
  /** Start after this seq (default 0: from the first record). */
  afterSeq?: number;
  /** Records fetched per read, 1–10,000 (default 1,000). */
  batchSize?: number;
}

const TYPE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Collects problems with a value that must survive JSON unchanged (so its hash can be checked later). */
function checkJson(value: unknown, path: string, out: ErrorDetail[], depth = 0): void {
  if (out.length >= 20) return;
  if (depth > 64) {
    out.push({ path, message: 'nested more than 64 levels deep' });
    return;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push({ path, message: `${value} is not a JSON number` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (v === undefined) out.push({ path: `${path}[${i}]`, message: 'undefined is not a JSON value' });
      else checkJson(v, `${path}[${i}]`, out, depth + 1);
    });
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      out.push({ path, message: `a ${name} is not plain JSON; convert it (a Date to an ISO string, say)` });
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) checkJson(v, `${path}.${k}`, out, depth + 1);
    }
    return;
  }
  out.push({ path, message: `a ${typeof value} is not a JSON value` });
}

function checkEvent(e: NewEvent, path: string, out: ErrorDetail[]): void {
  if (e === null || typeof e !== 'object') {
    out.push({ path, message: 'must be an object' });
    return;
  }
  if (typeof e.time !== 'string' || !TIME_PATTERN.test(e.time) || Number.isNaN(Date.parse(e.time)))
    out.push({
      path: `${path}.time`,
      message: 'must be an ISO-8601 timestamp such as 2026-01-01T00:00:00.000Z',
    });
  if (typeof e.type !== 'string' || e.type.length > 100 || !TYPE_PATTERN.test(e.type))
    out.push({
      path: `${path}.type`,
      message: 'must be a dotted lower-case name such as identity.created (at most 100 characters)',
    });
  if (
    typeof e.actor !== 'string' ||
    e.actor.length === 0 ||
    e.actor.length > 200 ||
    CONTROL_CHARS.test(e.actor)
  )
    out.push({ path: `${path}.actor`, message: 'must be 1–200 characters without control characters' });
  if (
    e.subject !== null &&
    (typeof e.subject !== 'string' ||
      e.subject.length === 0 ||
      e.subject.length > 200 ||
      CONTROL_CHARS.test(e.subject))
  )
    out.push({
      path: `${path}.subject`,
      message: 'must be null or 1–200 characters without control characters',
    });
  if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data))
    out.push({ path: `${path}.data`, message: 'must be a JSON object' });
  else checkJson(e.data, `${path}.data`, out);
}

/**
 * Appends one event to the log and returns it with its seq and hashes.
 * @example
 * await appendEvent(store, { time: clock.now().toISOString(), type: 'token.issued', actor: 'broker', subject: identityId, data: { jti } });
 */
export async function appendEvent(store: EventAppender, event: NewEvent): Promise<EventRecord> {
  const [record] = await appendEvents(store, [event]);
  return record!;
}

/** Appends events in order, all or none; an invalid event rejects the whole list with a ValidationError. */
export async function appendEvents(store: EventAppender, events: NewEvent[]): Promise<EventRecord[]> {
  checkEvents(events);
  if (events.length === 0) return [];
  return store.appendEvents(events);
}

/**
 * Throws a ValidationError naming the first problem when an event could not be appended as it is (a missing
 * field, data that is not plain JSON and so would not hash the same when read back).
 */
export function checkEvents(events: NewEvent[]): void {
  if (!Array.isArray(events))
    throw new ValidationError('events must be an array', {
      details: [{ path: 'events', message: 'not an array' }],
    });
  const details: ErrorDetail[] = [];
  events.forEach((e, i) => checkEvent(e, events.length === 1 ? 'event' : `events[${i}]`, details));
  if (details.length > 0) {
    throw new ValidationError(
      `cannot append ${events.length === 1 ? 'the event' : 'the events'}: ${details[0]!.path} ${details[0]!.message}`,
      { details },
    );
  }
}

function checkStreamOptions(o: EventStreamOptions): { afterSeq: number; batchSize: number } {
  const afterSeq = o.afterSeq ?? 0;
  const batchSize = o.batchSize ?? 1000;
  const details: ErrorDetail[] = [];
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0)
    details.push({ path: 'afterSeq', message: 'must be a whole number ≥ 0' });
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_EVENT_BATCH)
    details.push({ path: 'batchSize', message: `must be a whole number from 1 to ${MAX_EVENT_BATCH}` });
  if (details.length > 0)
    throw new ValidationError(`invalid event stream options: ${details[0]!.path} ${details[0]!.message}`, {
      details,
    });
  return { afterSeq, batchSize };
}

/**
 * Reads the log in seq order, one batch at a time, so memory stays constant however long it is. Options are
 * checked on the first `next()`. Records appended while reading are included when they arrive in time.
 * @example
 * for await (const e of readEventStream(store, { afterSeq: checkpoint })) handle(e);
 */
export async function* readEventStream(
  store: EventReader,
  options: EventStreamOptions = {},
): AsyncGenerator<EventRecord, void, undefined> {
  const { afterSeq, batchSize } = checkStreamOptions(options);
  let after = afterSeq;
  for (;;) {
    const page = await store.readEvents(after, batchSize);
    for (const e of page) yield e;
    if (page.length < batchSize) return;
    after = page[page.length - 1]!.seq;
  }
}

/** The seq of the record holding this hash, or null when no record does (one pass over the log). */
async function findSeqByHash(store: EventReader, hash: string, batchSize: number): Promise<number | null> {
  for await (const e of readEventStream(store, { batchSize })) if (e.hash === hash) return e.seq;
  return null;
}

/** A seq in (from, from + RENUMBER_WINDOW] under which the record's hash is right, or null. */
function originalSeq(r: EventRecord, from: number): number | null {
  const { hash, ...body } = r;
  for (let s = from + 1; s <= from + RENUMBER_WINDOW; s++)
    if (hashEvent({ ...body, seq: s }) === hash) return s;
  return null;
}

const short = (h: string): string => `${h.slice(0, 12)}…`;

/**
 * Walks the whole chain in batches (constant memory) and reports the first changed, missing or reordered
 * record, classified as the file comment describes.
 * @example
 * const v = await verifyEventLog(store);
 * if (!v.ok) console.error(`event ${v.problem.seq}: ${v.problem.kind}: ${v.problem.message}`);
 */
export async function verifyEventLog(
  store: EventReader,
  options: { batchSize?: number; anchor?: { seq: number; hash: string } } = {},
): Promise<EventLogVerification> {
  const anchor = options.anchor;
  if (
    anchor &&
    (!Number.isSafeInteger(anchor.seq) || anchor.seq < 1 || !/^[0-9a-f]{64}$/.test(anchor.hash))
  ) {
    throw new ValidationError('the anchor must be a record seq (1 or more) and its 64-hex-digit hash', {
      details: [{ path: 'anchor', message: 'expected <seq>:<sha256 hex>' }],
    });
  }
  const { batchSize } = checkStreamOptions({ batchSize: options.batchSize });
  let checked = 0;
  let prevSeq = 0;
  let prevHash = GENESIS_HASH;
  const fail = (problem: EventLogProblem, intact = checked): EventLogVerification => ({
    ok: false,
    checked: intact,
    problem,
  });

  for await (const r of readEventStream(store, { batchSize })) {
    const e = prevSeq + 1;
    if (r.seq < e) {
      return fail({
        seq: r.seq,
        kind: 'reordered',
        message: `record ${r.seq} was read after record ${prevSeq}: the log is not in seq order`,
      });
    }
    if (r.seq > e) {
      const range = r.seq - e === 1 ? `record ${e} is` : `records ${e}–${r.seq - 1} are`;
      const where =
        prevSeq === 0 ? `the log starts at record ${r.seq}` : `record ${r.seq} follows record ${prevSeq}`;
      return fail({ seq: e, kind: 'missing', message: `${range} missing: ${where}` });
    }
    const { hash, ...body } = r;
    const selfOk = hashEvent(body) === hash;
    const linkOk = r.prevHash === prevHash;
    if (selfOk && linkOk) {
      if (anchor && r.seq === anchor.seq && hash !== anchor.hash) {
        return fail({
          seq: r.seq,
          kind: 'changed',
          message: `record ${r.seq} is not the anchored record (hash ${short(hash)}, anchored ${short(anchor.hash)}): the log was rewritten from here on`,
        });
      }
      checked++;
      prevSeq = r.seq;
      prevHash = hash;
      continue;
    }
    if (linkOk) {
      return fail({
        seq: r.seq,
        kind: 'changed',
        message: `record ${r.seq} does not match its hash: its content or hash was edited`,
      });
    }
    if (selfOk) {
      if (e === 1) {
        return fail({
          seq: 1,
          kind: 'changed',
          message: `record 1 does not start the chain: its prevHash is ${short(r.prevHash)}, not the genesis hash`,
        });
      }
      return fail(
        {
          seq: e - 1,
          kind: 'changed',
          message: `record ${e - 1} is not the record that record ${e} was chained to: it was rewritten with a recomputed hash`,
        },
        checked - 1,
      );
    }
    const at = await findSeqByHash(store, r.prevHash, batchSize);
    if (at !== null) {
      return fail({
        seq: r.seq,
        kind: 'reordered',
        message: `record ${r.seq} was written after the record now at seq ${at}, not after record ${prevSeq}: records were swapped or moved`,
      });
    }
    const was = originalSeq(r, e);
    if (was !== null) {
      const range = was - e === 1 ? `the record before it was` : `${was - e} records before it were`;
      return fail({
        seq: e,
        kind: 'missing',
        message: `record ${e} was written as record ${was}; ${range} deleted and later records renumbered`,
      });
    }
    return fail({
      seq: r.seq,
      kind: 'changed',
      message: `record ${r.seq} does not match its hash and its prevHash names no record in the log: it was edited`,
    });
  }
  if (anchor && anchor.seq > prevSeq) {
    return fail({
      seq: prevSeq + 1,
      kind: 'missing',
      message: `the log ends at record ${prevSeq}, but record ${anchor.seq} was anchored: records ${prevSeq + 1}–${anchor.seq} (at least) were removed from the end`,
    });
  }
  return { ok: true, checked, lastSeq: prevSeq, lastHash: prevHash };
}
