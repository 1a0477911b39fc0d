/**
 * Line numbers for JSON object members. `JSON.parse` keeps no positions, so one pass over the (already valid)
 * text records the line of each member key a caller asks for.
 */

/** Separator of path segments in the returned map's keys (cannot occur unescaped in JSON text). */
export const PATH_SEPARATOR = '\u0000';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * Scans valid JSON text and returns the 1-based line of every object member whose key `wanted` accepts.
 * `parent` is the path of member keys from the top-level object down to the object holding `key` (array
 * elements appear as `#`); map keys are `[...parent, key]` joined with {@link PATH_SEPARATOR}.
 * @param wanted - Called for each member key; return true to record its line. Must not keep `parent`.
 */
export function jsonKeyLines(
  text: string,
  wanted: (parent: readonly string[], key: string) => boolean,
): Map<string, number> {
  const lines = new Map<string, number>();
  // Keys of the open containers below the top level (the top-level container has no key).
  const path: string[] = [];
  // Per open container: true for an object (the next string at key position is a key), false for an array.
  const isObject: boolean[] = [];
  let expectKey = false;
  let lastKey = '';
  let line = 1;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i += 1) {
    const c = text.charCodeAt(i);
    if (c === NEWLINE) {
      line += 1;
    } else if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth > 0 && isObject[depth - 1] === true && expectKey) {
        const raw = text.slice(i + 1, end);
        lastKey = raw.includes('\\') ? decodeJsonString(text.slice(i, end + 1)) : raw;
        if (wanted(path, lastKey)) lines.set([...path, lastKey].join(PATH_SEPARATOR), line);
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth > 0) path.push(isObject[depth - 1] === true ? lastKey : '#');
      isObject[depth] = c === OPEN_BRACE;
      depth += 1;
      expectKey = c === OPEN_BRACE;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth > 1) path.pop();
      depth = Math.max(depth - 1, 0);
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = depth > 0 && isObject[depth - 1] === true;
    }
  }
  return lines;
}

/** Index of the closing quote of the JSON string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const q = text.indexOf('"', at);
    if (q === -1) return text.length - 1;
    let backslashes = 0;
    for (let k = q - 1; k > start && text.charCodeAt(k) === BACKSLASH; k -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return q;
    at = q + 1;
  }
}

function decodeJsonString(literal: string): string {
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === 'string' ? value : literal;
  } catch {
    return literal;
  }
}
