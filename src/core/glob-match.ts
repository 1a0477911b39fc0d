/**
 * Glob matching for resource and scope patterns (inventory grants in AWS ARN style, broker policy rules): `*`
 * matches any run of characters, `/` and `:` included; `?` matches exactly one character; everything else matches
 * itself, case-sensitively. Both matchers are iterative and run in O(pattern × value) time at worst, so no pattern
 * can cause a backtracking blow-up. Characters are UTF-16 code units (resource names are ASCII in practice).
 */

/**
 * True when `pattern` matches the whole of `value`.
 * @example
 * matchesPattern('arn:aws:s3:::acme-*', 'arn:aws:s3:::acme-prod'); // true
 * matchesPattern('k8s:prod/?', 'k8s:prod/ab'); // false
 */
export function matchesPattern(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  // Position of the last `*` seen and the value position it is currently assumed to stop at.
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    const pc = pattern.charCodeAt(p);
    if (p < pattern.length && pc === STAR) {
      star = p++;
      resume = v;
    } else if (p < pattern.length && (pc === QUESTION || pc === value.charCodeAt(v))) {
      p++;
      v++;
    } else if (star !== -1) {
      // Let the last star swallow one more character and retry; earlier stars never need revisiting,
      // which is what keeps this linear in the number of retries per star.
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

/**
 * True when `pattern` matches at least one string that starts with `prefix` (the pattern reaches something
 * under it): `k8s:prod/secrets/*` can match a string starting with `k8s:prod/`, `github:acme/api` one
 * starting with `github:acme/`. Simulates the pattern as a set of states, without backtracking.
 */
export function canMatchWithPrefix(pattern: string, prefix: string): boolean {
  const m = pattern.length;
  let states = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  states[0] = 1;
  closeOverStars(pattern, states);
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    next.fill(0);
    let alive = false;
    for (let s = 0; s < m; s++) {
      if (states[s] === 0) continue;
      const pc = pattern.charCodeAt(s);
      if (pc === STAR) {
        next[s] = 1;
        alive = true;
      } else if (pc === QUESTION || pc === c) {
        next[s + 1] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    closeOverStars(pattern, next);
    [states, next] = [next, states];
  }
  // Any state still alive can be completed: literals, `?` and `*` are all satisfiable by some suffix.
  return states.includes(1);
}

const STAR = 42; // '*'
const QUESTION = 63; // '?'

/** A `*` may match nothing: a state before a star also stands after it. */
function closeOverStars(pattern: string, states: Uint8Array): void {
  for (let s = 0; s < pattern.length; s++) {
    if (states[s] === 1 && pattern.charCodeAt(s) === STAR) states[s + 1] = 1;
  }
}
