/**
 * Text-level obfuscation checks of the static JavaScript analyser: very long high-entropy lines and code pushed
 * off-screen by runs of whitespace. Both work on raw lines in one linear pass.
 */

/** A text-level finding: what was seen, 1-based line and column. */
export interface TextHit {
  what: string;
  line: number;
  column: number;
}

/** Lines longer than this are checked for entropy. */
export const LONG_LINE = 5000;
/**
 * Bits per character above which a long line counts as packed or encrypted. Minified JavaScript measures
 * 4.9–5.6 bits/char on real packages (node_modules of this project), so 5 would flag every minified bundle;
 * base64 payloads measure ~6.
 */
export const LONG_LINE_ENTROPY = 5.8;
/** How many long lines of one file get their entropy measured. */
const MAX_LONG_LINES_CHECKED = 16;
/** A whitespace run this long, between code and more code, hides the code off-screen. */
export const OFFSCREEN_RUN = 150;
/** Code starting beyond this column on an otherwise short line is off-screen. */
export const OFFSCREEN_COLUMN = 300;

const bmpCounts = new Uint32Array(65536);

/**
 * Shannon entropy in bits per code point: the value of core/randomness.ts `shannonEntropy`, bit for bit (the
 * terms are summed in the same order, by first appearance), without a Map or an array of the code points.
 */
export function lineEntropy(value: string): number {
  if (value.length === 0) return 0;
  const order: number[] = [];
  let astral: Map<number, number> | null = null;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.codePointAt(i)!;
    n++;
    if (c > 0xffff) {
      i++;
      astral ??= new Map();
      const prev = astral.get(c) ?? 0;
      if (prev === 0) order.push(c);
      astral.set(c, prev + 1);
    } else {
      const prev = bmpCounts[c]!;
      bmpCounts[c] = prev + 1;
      if (prev === 0) order.push(c);
    }
  }
  let h = 0;
  for (const c of order) {
    let count: number;
    if (c > 0xffff) count = astral!.get(c)!;
    else {
      count = bmpCounts[c]!;
      bmpCounts[c] = 0;
    }
    const p = count / n;
    h -= p * Math.log2(p);
  }
  return h;
}

function mostlyAscii(s: string): boolean {
  let other = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 126) other++;
  return other * 20 <= s.length;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** Checks one line (without its newline) for a hiding whitespace run; returns the 0-based column of the hidden code. */
function offscreenColumn(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  const indent = i - from;
  if (i >= to) return -1;
  if (indent > OFFSCREEN_COLUMN && to - i < OFFSCREEN_COLUMN) return indent;
  let run = 0;
  let sawCode = false;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      run++;
      continue;
    }
    if (run >= OFFSCREEN_RUN && sawCode) {
      // `// comment` or `/* */` after the run is padding, not code.
      const next = text.charCodeAt(i + 1);
      if (!(c === 47 && (next === 47 || next === 42))) return i - from;
    }
    run = 0;
    sawCode = true;
  }
  return -1;
}

/** Keywords and arrows of ordinary code; minified bundles have several per 1000 characters, payload blobs ~none. */
const CODE_WORDS = /\b(?:return|function|var|let|const|this|typeof|null|new|if|else|for|while)\b|=>/g;
/** Below this many code words per 1000 characters a high-entropy line is a payload, not minified code. */
export const CODE_WORDS_PER_1000 = 2;

/** Code words per 1000 characters of `sample`. */
export function codeWordDensity(sample: string): number {
  if (sample.length === 0) return 0;
  let n = 0;
  CODE_WORDS.lastIndex = 0;
  while (CODE_WORDS.exec(sample) !== null) n++;
  return (n * 1000) / sample.length;
}

/** Finds long high-entropy lines and off-screen code; at most one hit of each kind (the first). */
export function scanTextObfuscation(text: string): TextHit[] {
  const hits: TextHit[] = [];
  let longDone = false;
  let longChecked = 0;
  let offDone = false;
  let line = 1;
  let start = 0;
  const len = text.length;
  while (start <= len && !(longDone && offDone)) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = len;
    const lineLen = end - start;
    if (!longDone && lineLen > LONG_LINE) {
      // A 16k-character sample measures a line's entropy well; minified bundles have hundreds of long lines,
      // so only the first few are measured.
      longChecked++;
      if (longChecked >= MAX_LONG_LINES_CHECKED) longDone = true;
      const sample = text.slice(start, Math.min(end, start + 16_384));
      // Packed payloads are ASCII (base64, escapes); lines rich in other characters are data tables. Minified code
      // is as dense in symbols as base64, but it is full of keywords: a payload has next to none.
      if (
        mostlyAscii(sample) &&
        lineEntropy(sample) > LONG_LINE_ENTROPY &&
        codeWordDensity(sample) < CODE_WORDS_PER_1000
      ) {
        hits.push({
          what: `a ${lineLen}-character line with high entropy (packed or encrypted code)`,
          line,
          column: 1,
        });
        longDone = true;
      }
    }
    if (!offDone && lineLen > OFFSCREEN_RUN) {
      const col = offscreenColumn(text, start, end);
      if (col >= 0) {
        hits.push({ what: 'code hidden off-screen after a long run of whitespace', line, column: col + 1 });
        offDone = true;
      }
    }
    line++;
    start = end + 1;
  }
  return hits;
}
