import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A new random id with a type prefix, e.g. `idn_4f9k2m…` (16 base-36 characters, ~82 bits). */
export function newId(prefix: string): string {
  const bytes = randomBytes(16);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 36];
  return `${prefix}_${out}`;
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
