/** A seeded generator of token-shaped values for rule cases, tests and the benchmark corpus. */
import { prng } from '../core/randomness.js';
import { BASE62, crc32Base62 } from './secret-checks.js';
import type { CaseGen } from './secret-types.js';

/**
 * Creates a case generator; the same seed yields the same sequence of values.
 * @example
 * const g = createCaseGen(1);
 * const token = g.githubToken(g.join('gh', 'p_')); // 40 characters with a valid checksum
 */
export function createCaseGen(seed = 1): CaseGen {
  const rnd = prng(seed);
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  };
  const chars = (length: number, alphabet = BASE62): string => {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(rnd() * alphabet.length)]!;
    return out;
  };
  const b64url = (n: number): string => bytes(n).toString('base64url');
  return {
    chars,
    githubToken(prefix) {
      const body = chars(30);
      return prefix + body + crc32Base62(body);
    },
    base64: (n) => bytes(n).toString('base64'),
    base64url: b64url,
    hex: (n) => bytes(n).toString('hex'),
    jwt(claims = { sub: 'svc-' + chars(6), iat: 1_700_000_000 }) {
      const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}.${b64url(32)}`;
    },
    join: (...parts) => parts.join(''),
  };
}
