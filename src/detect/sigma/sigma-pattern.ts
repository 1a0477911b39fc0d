/**
 * Sigma strings: parsing of wildcards (`*`, `?`) and escapes (`\*`, `\?`, `\\`), placeholders (`%name%`,
 * only under `|expand`), and compilation of a pattern into a string predicate.
 *
 * Complexity: a pattern without `?` (and without windash character classes) is matched with at most one
 * `startsWith`, one `endsWith` and one `indexOf` per `*`-separated segment, i.e. O(n·k) for a value of
 * length n and k segments, usually O(n). Patterns with `?` or classes use the classic two-pointer wildcard
 * algorithm (O(n·m) worst case, no recursion, no allocation).
 */

/** A piece of a Sigma string. */
export type Token =
  | { t: 'lit'; s: string }
  | { t: 'any' }
  | { t: 'one' }
  /** One of a set of characters (windash: `-`, `/`, en dash, em dash, horizontal bar). */
  | { t: 'class'; chars: string }
  | { t: 'ph'; name: string };

const ANY: Token = { t: 'any' };
const ONE: Token = { t: 'one' };

/**
 * Parses a Sigma string value. Escapes (spec "Escape Character"): `\*` and `\?` are literal wildcards, `\\`
 * is one backslash, a backslash before anything else is itself (`C:\Windows`). With `placeholders`, `%name%`
 * is a placeholder and `\%` a literal percent sign (spec "Placeholders").
 */
export function parseSigmaString(raw: string, placeholders: boolean): Token[] {
  const out: Token[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit !== '') out.push({ t: 'lit', s: lit });
    lit = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      const next = raw[i + 1];
      if (next === '*' || next === '?' || next === '\\' || (placeholders && next === '%')) {
        lit += next;
        i++;
      } else {
        lit += '\\';
      }
    } else if (c === '*') {
      flush();
      out.push(ANY);
    } else if (c === '?') {
      flush();
      out.push(ONE);
    } else if (c === '%' && placeholders) {
      const end = raw.indexOf('%', i + 1);
      const name = end > i + 1 ? raw.slice(i + 1, end) : '';
      if (name !== '' && /^[A-Za-z0-9_.-]+$/.test(name)) {
        flush();
        out.push({ t: 'ph', name });
        i = end;
      } else {
        lit += c;
      }
    } else {
      lit += c;
    }
  }
  flush();
  return out;
}

/** A literal Sigma string (no wildcards): for encoded values and numbers. */
export function literal(s: string): Token[] {
  return s === '' ? [] : [{ t: 'lit', s }];
}

/** Merges adjacent literals and repeated `*` (so `a**b` is `a*b`). */
export function normalize(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (const tok of tokens) {
    const prev = out[out.length - 1];
    if (tok.t === 'lit' && prev?.t === 'lit') out[out.length - 1] = { t: 'lit', s: prev.s + tok.s };
    else if (tok.t === 'any' && prev?.t === 'any') continue;
    else if (tok.t !== 'lit' || tok.s !== '') out.push(tok);
  }
  return out;
}

/** `contains`: `*` at both ends (not doubled). */
export function wrapContains(tokens: Token[]): Token[] {
  return normalize([ANY, ...tokens, ANY]);
}

/** `startswith`: `*` at the end. */
export function wrapStartsWith(tokens: Token[]): Token[] {
  return normalize([...tokens, ANY]);
}

/** `endswith`: `*` at the start. */
export function wrapEndsWith(tokens: Token[]): Token[] {
  return normalize([ANY, ...tokens]);
}

/** True when the tokens are plain text (no wildcard, class or placeholder). */
export function isPlain(tokens: Token[]): boolean {
  return tokens.every((t) => t.t === 'lit');
}

/** The plain text of literal-only tokens. */
export function plainText(tokens: Token[]): string {
  return tokens.map((t) => (t.t === 'lit' ? t.s : '')).join('');
}

/** Renders tokens back in Sigma notation (for messages). */
export function render(tokens: Token[]): string {
  return tokens
    .map((t) => {
      switch (t.t) {
        case 'lit':
          return t.s.replace(/[\\*?]/g, (m) => `\\${m}`);
        case 'any':
          return '*';
        case 'one':
          return '?';
        case 'class':
          return `[${t.chars}]`;
        case 'ph':
          return `%${t.name}%`;
      }
    })
    .join('');
}

const WINDASH_CHARS = '-/\u2013\u2014\u2015';

/** `windash`: every dash-like character becomes the class of all five (no permutation explosion). */
export function windash(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (const tok of tokens) {
    if (tok.t !== 'lit') {
      out.push(tok);
      continue;
    }
    let lit = '';
    for (const c of tok.s) {
      if (WINDASH_CHARS.includes(c)) {
        if (lit !== '') out.push({ t: 'lit', s: lit });
        lit = '';
        out.push({ t: 'class', chars: WINDASH_CHARS });
      } else {
        lit += c;
      }
    }
    if (lit !== '') out.push({ t: 'lit', s: lit });
  }
  return out;
}

/** Expands classes into every permutation (for encodings, which need plain text); null when more than `max`. */
export function expandClasses(tokens: Token[], max: number): Token[][] | null {
  let results: Token[][] = [[]];
  for (const tok of tokens) {
    if (tok.t === 'class') {
      const next: Token[][] = [];
      for (const r of results) for (const c of tok.chars) next.push([...r, { t: 'lit', s: c }]);
      if (next.length > max) return null;
      results = next;
    } else {
      for (const r of results) r.push(tok);
    }
  }
  return results.map(normalize);
}

/** A compiled string predicate. */
export type StringMatcher = (value: string) => boolean;

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

/**
 * Compiles a pattern into a predicate. Case-insensitive (the Sigma default) lowercases the pattern once
 * here and the value once per call; `cased` compares as is.
 */
export function compilePattern(tokens: Token[], cased: boolean): StringMatcher {
  const toks = normalize(tokens).map((t) =>
    t.t === 'lit' && !cased ? { t: 'lit' as const, s: t.s.toLowerCase() } : t,
  );
  if (toks.some((t) => t.t === 'ph')) throw new Error('internal: placeholder left in a compiled pattern');
  const fold = cased ? (s: string): string => s : (s: string): string => s.toLowerCase();
  if (toks.every((t) => t.t === 'lit' || t.t === 'any')) return compileSegments(toks, fold, cased);
  return compileGeneral(toks, fold);
}

function compileSegments(toks: Token[], fold: (s: string) => string, cased: boolean): StringMatcher {
  const segs: string[] = [''];
  for (const t of toks) {
    if (t.t === 'any') segs.push('');
    else if (t.t === 'lit') segs[segs.length - 1] += t.s;
  }
  if (segs.length === 1) {
    const lit = segs[0]!;
    if (cased) return (v) => v === lit;
    const len = lit.length;
    // Lowercasing never shortens a string and only lengthens it with non-ASCII output, so an ASCII pattern
    // can skip values of a different length without lowercasing them.
    if (isAscii(lit)) return (v) => v.length === len && v.toLowerCase() === lit;
    return (v) => v.toLowerCase() === lit;
  }
  const first = segs[0]!;
  const last = segs[segs.length - 1]!;
  if (segs.length === 2) {
    if (first === '' && last === '') return () => true;
    if (last === '') return (v) => fold(v).startsWith(first);
    if (first === '') return (v) => fold(v).endsWith(last);
    const min = first.length + last.length;
    return (v) => {
      const s = fold(v);
      return s.length >= min && s.startsWith(first) && s.endsWith(last);
    };
  }
  const middle = segs.slice(1, -1).filter((s) => s !== '');
  if (first === '' && last === '' && middle.length === 1) {
    const needle = middle[0]!;
    return (v) => fold(v).includes(needle);
  }
  return (v) => {
    const s = fold(v);
    if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
    const end = s.length - last.length;
    let pos = first.length;
    for (let i = 0; i < middle.length; i++) {
      const seg = middle[i]!;
      const at = s.indexOf(seg, pos);
      if (at < 0 || at + seg.length > end) return false;
      pos = at + seg.length;
    }
    return true;
  };
}

const P_ANY = -1;
const P_ONE = -2;

function compileGeneral(toks: Token[], fold: (s: string) => string): StringMatcher {
  // Pattern as code units: >= 0 a literal unit, P_ANY, P_ONE, or an index into `classes` encoded as -3 - i.
  const pat: number[] = [];
  const classes: string[] = [];
  for (const t of toks) {
    if (t.t === 'lit') for (let i = 0; i < t.s.length; i++) pat.push(t.s.charCodeAt(i));
    else if (t.t === 'any') pat.push(P_ANY);
    else if (t.t === 'one') pat.push(P_ONE);
    else if (t.t === 'class') {
      classes.push(t.chars);
      pat.push(-3 - (classes.length - 1));
    }
  }
  const m = pat.length;
  return (v) => {
    const s = fold(v);
    const n = s.length;
    let si = 0;
    let pi = 0;
    let starP = -1;
    let starS = 0;
    while (si < n) {
      const p = pi < m ? pat[pi]! : 0;
      if (pi < m && p === P_ANY) {
        starP = pi++;
        starS = si;
        continue;
      }
      if (pi < m) {
        const c = s.charCodeAt(si);
        const ok = p >= 0 ? p === c : p === P_ONE ? true : classes[-3 - p]!.includes(s[si]!);
        if (ok) {
          si++;
          pi++;
          continue;
        }
      }
      if (starP < 0) return false;
      pi = starP + 1;
      si = ++starS;
    }
    while (pi < m && pat[pi] === P_ANY) pi++;
    return pi === m;
  };
}
