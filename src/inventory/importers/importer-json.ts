/**
 * JSON for the importers: parsing with errors that say line:column, and finding the line a value sits on.
 * Parsing uses the engine's JSON.parse; only when it fails does a small scanner walk the text to find where.
 */
import { importError, lineIndex, type PathSegment } from './importer-support.js';

/** Where a JSON text stops being valid and why. */
export interface JsonSyntaxProblem {
  /** Offset (UTF-16 code units) of the first character that makes the text invalid. */
  offset: number;
  message: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
/** Deepest nesting accepted; no export Keyward reads comes close, and deeper input only costs time and memory. */
export const MAX_JSON_DEPTH = 512;
// Runs of plain string characters (RFC 8259 §7: no quote, backslash or control characters).
// eslint-disable-next-line no-control-regex
const PLAIN_STRING = /[^"\\\u0000-\u001f]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function tooDeep(offset: number): JsonSyntaxProblem {
  return { offset, message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
}

/**
 * Finds where brackets nest deeper than MAX_JSON_DEPTH (skipping strings), or null. Run before JSON.parse, which
 * takes seconds on a file of 50 MB of `[`.
 */
export function findExcessiveNesting(text: string): number | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Jump to the closing quote: one not preceded by an odd number of backslashes.
      let j = text.indexOf('"', i + 1);
      while (j !== -1) {
        let b = 0;
        while (text.charCodeAt(j - 1 - b) === 0x5c) b++;
        if (b % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      if (j === -1) return null;
      i = j;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return null;
}

/** A cursor over JSON text; every scan method returns the offset after what it read, or a problem. */
class JsonScanner {
  constructor(readonly text: string) {}

  skipWs(pos: number): number {
    const t = this.text;
    while (pos < t.length && WS.has(t.charCodeAt(pos))) pos++;
    return pos;
  }

  /** Scans a string starting at its opening quote. */
  string(pos: number): number | JsonSyntaxProblem {
    const t = this.text;
    pos++;
    for (;;) {
      PLAIN_STRING.lastIndex = pos;
      PLAIN_STRING.test(t);
      pos = PLAIN_STRING.lastIndex;
      if (pos >= t.length)
        return {
          offset: t.length,
          message: 'unexpected end of file inside a string (the JSON is truncated)',
        };
      const c = t.charCodeAt(pos);
      if (c === 0x22) return pos + 1;
      if (c === 0x5c) {
        const e = t[pos + 1];
        if (e === undefined)
          return {
            offset: t.length,
            message: 'unexpected end of file inside a string (the JSON is truncated)',
          };
        if ('"\\/bfnrt'.includes(e)) pos += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(pos + 2, pos + 6))) pos += 6;
        else return { offset: pos, message: 'invalid escape sequence in a string' };
      } else {
        return { offset: pos, message: 'control character inside a string (escape it, e.g. \\n)' };
      }
    }
  }

  /** Scans any value without building it; iterative so deep nesting cannot overflow the stack. */
  value(start: number): number | JsonSyntaxProblem {
    const t = this.text;
    const stack: Array<'{' | '['> = [];
    let pos = start;
    let expectValue = true;
    for (;;) {
      pos = this.skipWs(pos);
      if (expectValue) {
        if (pos >= t.length)
          return {
            offset: pos,
            message: 'unexpected end of file where a value was expected (the JSON is truncated)',
          };
        const c = t[pos]!;
        if (c === '{') {
          pos = this.skipWs(pos + 1);
          if (t[pos] === '}') {
            pos++;
            expectValue = false;
            continue;
          }
          const k = this.key(pos);
          if (typeof k !== 'number') return k;
          pos = k;
          stack.push('{');
          if (stack.length > MAX_JSON_DEPTH) return tooDeep(pos);
          continue;
        }
        if (c === '[') {
          pos = this.skipWs(pos + 1);
          if (t[pos] === ']') {
            pos++;
            expectValue = false;
            continue;
          }
          stack.push('[');
          if (stack.length > MAX_JSON_DEPTH) return tooDeep(pos);
          continue;
        }
        const end = this.scalar(pos);
        if (typeof end !== 'number') return end;
        pos = end;
        expectValue = false;
        continue;
      }
      const top = stack[stack.length - 1];
      if (top === undefined) return pos;
      if (pos >= t.length) {
        return {
          offset: pos,
          message: `unexpected end of file: ${top === '{' ? 'an object' : 'an array'} is not closed (the JSON is truncated)`,
        };
      }
      const c = t[pos];
      if (c === ',') {
        pos = this.skipWs(pos + 1);
        if (top === '{') {
          const k = this.key(pos);
          if (typeof k !== 'number') return k;
          pos = k;
        }
        expectValue = true;
      } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
        stack.pop();
        pos++;
      } else {
        return {
          offset: pos,
          message:
            top === '{'
              ? "expected ',' or '}' after a property value"
              : "expected ',' or ']' after an array element",
        };
      }
    }
  }

  /** Scans `"key" :` and returns the offset after the colon. */
  private key(pos: number): number | JsonSyntaxProblem {
    const t = this.text;
    if (pos >= t.length)
      return {
        offset: pos,
        message: 'unexpected end of file where a property name was expected (the JSON is truncated)',
      };
    if (t[pos] !== '"') {
      return {
        offset: pos,
        message: t[pos] === '}' ? 'trailing comma before }' : 'expected a double-quoted property name',
      };
    }
    const end = this.string(pos);
    if (typeof end !== 'number') return end;
    const colon = this.skipWs(end);
    if (t[colon] !== ':') {
      return colon >= t.length
        ? { offset: colon, message: "unexpected end of file where ':' was expected (the JSON is truncated)" }
        : { offset: colon, message: "expected ':' after a property name" };
    }
    return colon + 1;
  }

  private scalar(pos: number): number | JsonSyntaxProblem {
    const t = this.text;
    const c = t[pos]!;
    if (c === '"') return this.string(pos);
    if (c === ']') return { offset: pos, message: 'trailing comma before ]' };
    for (const lit of ['true', 'false', 'null']) {
      if (t.startsWith(lit, pos)) return pos + lit.length;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = pos;
      if (NUMBER.test(t)) return NUMBER.lastIndex;
      return { offset: pos, message: 'invalid number' };
    }
    if (c === "'") return { offset: pos, message: 'strings must use double quotes' };
    return { offset: pos, message: `unexpected character ${JSON.stringify(c)} where a value was expected` };
  }
}

/** Finds the first syntax error in a JSON text, or null when the text is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | null {
  const s = new JsonScanner(text);
  const start = s.skipWs(0);
  if (start >= text.length) return { offset: start, message: 'no JSON value in the file' };
  const end = s.value(start);
  if (typeof end !== 'number') return end;
  const after = s.skipWs(end);
  return after < text.length ? { offset: after, message: 'unexpected data after the JSON value' } : null;
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Parses JSON text; on a syntax error throws ValidationError (KW_INVALID_IMPORT) naming `file:line:column`.
 * @example parseJsonText('mcp.json', '{"mcpServers": {}}')
 */
export function parseJsonText(fileName: string, text: string): unknown {
  const deep = findExcessiveNesting(text);
  if (deep !== null) {
    const { line, column } = lineColumn(text, deep);
    const where = `${fileName}:${line}:${column}`;
    const message = `nested deeper than ${MAX_JSON_DEPTH} levels; this is not an export Keyward reads`;
    throw importError(where, `invalid JSON: ${message}`, [{ path: where, message }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (!(err instanceof SyntaxError)) {
      throw importError(fileName, 'the JSON is too large or too deeply nested to read', undefined, err);
    }
    const problem = findJsonSyntaxError(text) ?? { offset: 0, message: 'invalid JSON' };
    const { line, column } = lineColumn(text, problem.offset);
    const where = `${fileName}:${line}:${column}`;
    throw importError(where, `invalid JSON: ${problem.message}`, [{ path: where, message: problem.message }]);
  }
}

/**
 * Finds the offset where the value at `path` starts, walking the text and skipping everything else; when a key
 * repeats, the last one wins, as with JSON.parse. Null when the path is not there. The text must be valid JSON.
 */
export function locateJsonValue(text: string, path: readonly PathSegment[]): number | null {
  const s = new JsonScanner(text);
  let pos = s.skipWs(0);
  for (const seg of path) {
    const c = text[pos];
    let found: number | null = null;
    if (c === '{' && typeof seg === 'string') {
      pos = s.skipWs(pos + 1);
      while (text[pos] === '"') {
        const keyEnd = s.string(pos);
        if (typeof keyEnd !== 'number') return null;
        const key = JSON.parse(text.slice(pos, keyEnd)) as string;
        const valueStart = s.skipWs(s.skipWs(keyEnd) + 1);
        if (key === seg) found = valueStart;
        const valueEnd = s.value(valueStart);
        if (typeof valueEnd !== 'number') return null;
        pos = s.skipWs(valueEnd);
        if (text[pos] === ',') pos = s.skipWs(pos + 1);
      }
    } else if (c === '[' && typeof seg === 'number') {
      pos = s.skipWs(pos + 1);
      for (let i = 0; text[pos] !== ']' && pos < text.length; i++) {
        if (i === seg) {
          found = pos;
          break;
        }
        const valueEnd = s.value(pos);
        if (typeof valueEnd !== 'number') return null;
        pos = s.skipWs(valueEnd);
        if (text[pos] === ',') pos = s.skipWs(pos + 1);
      }
    }
    if (found === null) return null;
    pos = found;
  }
  return pos;
}

/** Returns a function giving the 1-based line where the value at a path sits (null when it is not there). */
export function jsonLineFinder(text: string): (path: readonly PathSegment[]) => number | null {
  const lineOf = lineIndex(text);
  return (path) => {
    const offset = locateJsonValue(text, path);
    return offset === null ? null : lineOf(offset);
  };
}
