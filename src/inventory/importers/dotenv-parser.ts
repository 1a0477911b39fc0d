/**
 * A strict `.env` parser: `KEY=VALUE` lines with optional `export `, blank lines, `#` comments, single, double
 * and backtick quotes (which may span lines), escapes inside double quotes, and inline comments after values.
 * Anything else is an error naming `file:line`; error messages never contain the line's text (it may be a secret).
 */
import { createIssueCollector } from './importer-support.js';

/** One variable assignment in a `.env` file. */
export interface DotenvEntry {
  key: string;
  value: string;
  /** 1-based line the assignment starts on. */
  line: number;
  /** The quote the value was written in, or null for an unquoted value. */
  quote: '"' | "'" | '`' | null;
}

const KEY = /^[ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*/;
const DOUBLE_QUOTE_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '"': '"',
  $: '$',
};

function unescapeDouble(raw: string): string {
  return raw.replace(/\\(.)/gs, (all, ch: string) => DOUBLE_QUOTE_ESCAPES[ch] ?? all);
}

/** Finds the closing quote from `from` (a quote preceded by a backslash does not close); -1 when there is none. */
function closingQuote(text: string, quote: string, from: number): number {
  for (let i = text.indexOf(quote, from); i !== -1; i = text.indexOf(quote, i + 1)) {
    let backslashes = 0;
    for (let j = i - 1; j >= from && text[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return -1;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Parses `.env` text into its assignments, in file order.
 * @example parseDotenv('.env', 'export API_KEY="abc" # note\n') // [{ key: 'API_KEY', value: 'abc', line: 1, quote: '"' }]
 */
export function parseDotenv(fileName: string, text: string): DotenvEntry[] {
  const issues = createIssueCollector(fileName);
  const entries: DotenvEntry[] = [];
  let pos = 0;
  let line = 1;
  while (pos < text.length) {
    let lineEnd = text.indexOf('\n', pos);
    if (lineEnd === -1) lineEnd = text.length;
    const raw = text.slice(pos, lineEnd).replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      pos = lineEnd + 1;
      line++;
      continue;
    }
    const m = KEY.exec(raw);
    if (!m) {
      issues.add(`${fileName}:${line}`, notAssignment(trimmed));
      pos = lineEnd + 1;
      line++;
      continue;
    }
    const key = m[2]!;
    const rest = raw.slice(m[0].length);
    const q = rest[0];
    if (q === '"' || q === "'" || q === '`') {
      const open = pos + m[0].length;
      const close = closingQuote(text, q, open + 1);
      if (close === -1) {
        issues.add(`${fileName}:${line}`, `the value of ${key} opens a ${q} quote that is never closed`);
        break;
      }
      const inner = text.slice(open + 1, close).replace(/\r\n/g, '\n');
      const value = q === '"' ? unescapeDouble(inner) : inner.replace(new RegExp(`\\\\${q}`, 'g'), q);
      let closeLineEnd = text.indexOf('\n', close);
      if (closeLineEnd === -1) closeLineEnd = text.length;
      const after = text.slice(close + 1, closeLineEnd).replace(/\r$/, '');
      const endLine = line + countNewlines(text, pos, close);
      const tail = after.trim();
      if (tail !== '' && !tail.startsWith('#')) {
        issues.add(`${fileName}:${endLine}`, `unexpected text after the closing ${q} quote of ${key}`);
      }
      entries.push({ key, value, line, quote: q });
      pos = closeLineEnd + 1;
      line = endLine + 1;
      continue;
    }
    // Unquoted: a `#` preceded by whitespace starts a comment (as in docker compose and python-dotenv).
    const hash = rest.search(/(^|[ \t])#/);
    const value = (hash === -1 ? rest : rest.slice(0, hash)).trim();
    entries.push({ key, value, line, quote: null });
    pos = lineEnd + 1;
    line++;
  }
  issues.throwIfAny();
  return entries;
}

function notAssignment(trimmed: string): string {
  if (/^(export[ \t]+)?[A-Za-z_][A-Za-z0-9_.-]*$/.test(trimmed))
    return 'a variable name without "=" and a value; expected KEY=VALUE';
  if (trimmed.startsWith('=')) return 'an assignment without a variable name; expected KEY=VALUE';
  if (/^(export[ \t]+)?[A-Za-z_][A-Za-z0-9_.-]*[ \t]*:/.test(trimmed))
    return 'uses ":" instead of "="; expected KEY=VALUE';
  return 'not a KEY=VALUE assignment (names start with a letter or _ and hold letters, digits, _ . -)';
}
