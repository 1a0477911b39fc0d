import { randomBytes } from 'node:crypto';

// 32 symbols, so `byte & 31` is unbiased (base 36 with `% 36` favours the first symbols).
const ALPHABET = '0123456789abcdefghijklmnopqrstuv';

// One randomBytes call per id costs several microseconds; a batch import makes tens of thousands of ids, so
// random bytes are drawn from a pool refilled 4 KiB at a time.
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** Reserves n (≤ 4096) unused random bytes of the pool and returns their offset; each byte is handed out once. */
function take(n: number): number {
  if (poolOffset + n > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += n;
  return at;
}

/** A new random id with a type prefix, e.g. `idn_4f9k2m…` (16 base-32 characters, 80 bits). */
export function newId(prefix: string): string {
  const at = take(16);
  let out = '';
  for (let i = at; i < at + 16; i++) out += ALPHABET[pool[i]! & 31];
  return `${prefix}_${out}`;
}

/** How many leading characters of a sequential id encode its sequence number (50 bits). */
const SEQUENCE_CHARS = 10;

/**
 * An id for the record with sequence number `seq` (a positive whole number below 2^50), in newId's form: the
 * prefix, an underscore and 16 base-32 characters, of which the first 10 write `seq` (most significant first)
 * and the last 6 are random. Ids of a sequence sort like their numbers, so a B-tree index over them grows at its
 * end instead of at random pages (the event log's UNIQUE index on `id`: random ids made every row of a group
 * commit dirty a page of its own). Distinct sequence numbers give distinct ids.
 */
export function newSequentialId(prefix: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq >= 2 ** (5 * SEQUENCE_CHARS)) {
    throw new RangeError(`newSequentialId: ${seq} is not a sequence number below 2^50`);
  }
  let head = '';
  let rest = seq;
  for (let i = 0; i < SEQUENCE_CHARS; i++) {
    head = ALPHABET[rest % 32]! + head;
    rest = Math.floor(rest / 32);
  }
  const at = take(16 - SEQUENCE_CHARS);
  let tail = '';
  for (let i = at; i < at + 16 - SEQUENCE_CHARS; i++) tail += ALPHABET[pool[i]! & 31];
  return `${prefix}_${head}${tail}`;
}

/** 128 fresh random bits as base64url (22 characters), e.g. for a token id. */
export function randomToken128(): string {
  const at = take(16);
  return pool.toString('base64url', at, at + 16);
}

/** Id prefixes by record type, so an id says what it points at. */
export const ID_PREFIX = {
  identity: 'idn',
  credential: 'crd',
  grant: 'grt',
  resource: 'res',
  person: 'per',
  finding: 'fnd',
  import: 'imp',
  event: 'evt',
} as const;
