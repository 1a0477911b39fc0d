/** Finding repeated keys among many strings without a Map entry per string. */

/**
 * 32-bit FNV-1a over the length and at most the first and last 16 UTF-16 code units of a string. Keys here are
 * keyed HMAC fingerprints, uniformly random in every position, so 32 characters spread them as well as 64;
 * equal hashes are always confirmed by comparing the whole strings.
 */
export function keyHash(s: string): number {
  let h = Math.imul(0x811c9dc5 ^ s.length, 0x01000193);
  const n = s.length;
  const head = Math.min(n, 16);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  for (let i = Math.max(head, n - 16); i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Groups the positions `0 … n-1` by equal key and returns only the keys that occur at least twice: each group
 * lists its positions in ascending order, groups ordered by their first position. An open-addressing table over
 * typed arrays (a 32-bit hash, then exact string comparison) keeps 300k fingerprints to a few milliseconds and
 * allocates only for the repeated keys.
 */
export function repeatedKeys(n: number, keyAt: (position: number) => string): number[][] {
  let size = 1;
  while (size < n * 2) size <<= 1;
  const mask = size - 1;
  const slotFirst = new Int32Array(size).fill(-1);
  const slotHash = new Uint32Array(size);
  // Per first position: the last member appended and the group size; `next` chains the members.
  const next = new Int32Array(n).fill(-1);
  const last = new Int32Array(n);
  const count = new Int32Array(n);
  const heads: number[] = [];
  for (let k = 0; k < n; k++) {
    const key = keyAt(k);
    const h = keyHash(key);
    let s = h & mask;
    for (;;) {
      const first = slotFirst[s]!;
      if (first === -1) {
        slotFirst[s] = k;
        slotHash[s] = h;
        last[k] = k;
        count[k] = 1;
        break;
      }
      if (slotHash[s] === h && keyAt(first) === key) {
        next[last[first]!] = k;
        last[first] = k;
        if (++count[first]! === 2) heads.push(first);
        break;
      }
      s = (s + 1) & mask;
    }
  }
  heads.sort((a, b) => a - b);
  return heads.map((head) => {
    const group: number[] = [];
    for (let k = head; k !== -1; k = next[k]!) group.push(k);
    return group;
  });
}
