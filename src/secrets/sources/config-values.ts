/**
 * Structure-aware reading of the files agents keep credentials in: .env files, JSON/JSONC (MCP client configs,
 * editor settings) and YAML. Every string value comes out with the key it sits under and its position, so the
 * scanner can judge `OPENAI_API_KEY: <value>` by its key name as well as by its shape.
 */
import type * as JsoncModule from 'jsonc-parser';
import type { Node as JsonNode, ParseError } from 'jsonc-parser';
import { createRequire } from 'node:module';
import type * as YamlModule from 'yaml';
import type { Scalar } from 'yaml';

/**
 * The parsers, loaded on first use: a scan that meets no config to parse (the main thread of a scan on workers,
 * most files of a tree) skips their load, about 35 ms of CPU for `yaml` and 20 ms for `jsonc-parser` per thread.
 * Both packages' Node entry points are CommonJS, so `require` loads what `import` would.
 */
const requireHere = createRequire(import.meta.url);
let yamlModule: typeof YamlModule | null = null;
let jsoncModule: typeof JsoncModule | null = null;
const yaml = (): typeof YamlModule => (yamlModule ??= requireHere('yaml') as typeof YamlModule);
const jsonc = (): typeof JsoncModule => (jsoncModule ??= requireHere('jsonc-parser') as typeof JsoncModule);

/** One string value of a config file, where it sits and what it is called. */
export interface ConfigValue {
  /** Path of keys from the document root: `mcpServers.github.env.GITHUB_TOKEN`, `servers.x.args[3]`. */
  keyPath: string;
  /** The nearest key: `GITHUB_TOKEN`; an args value after `--api-key` is `api-key`; `KEY=v` in args is `KEY`. */
  keyName: string;
  value: string;
  /** 1-based line and column (UTF-16 code units) of the value's first character in the file. */
  line: number;
  column: number;
}

/** The formats `extractConfigValues` understands. TOML is not among them: no TOML parser with positions is installed. */
export type ConfigFormat = 'dotenv' | 'json' | 'yaml';

/** Tells which format a file is by its name (any `/` or `\` separated path), or null when none applies. */
export function configFormat(path: string): ConfigFormat | null {
  const base = (path.split(/[\\/]/).pop() ?? '').toLowerCase();
  if (base.endsWith('.json') || base.endsWith('.jsonc')) return 'json';
  if (base.endsWith('.yml') || base.endsWith('.yaml')) return 'yaml';
  if (base === '.env' || base.startsWith('.env.') || base.endsWith('.env')) return 'dotenv';
  return null;
}

/**
 * Extracts every non-empty string value of a .env (`.env`, `.env.*`, `*.env`), JSON/JSONC (`*.json`, `*.jsonc`)
 * or YAML (`*.yml`, `*.yaml`) file with its key path, key name and position. In MCP server entries (an object with
 * a `command` string) the `args` array is split: the value after a `--flag` is named after the flag, `--flag=v`
 * and `KEY=v` yield `v` named `flag` / `KEY`, and `Name: value` after `--header` / `-H` yields `value` named
 * `Name`. An `Authorization` value of the form `Bearer X` (also Basic, Token, Bot) yields the credential `X`.
 * Empty strings are left out. Returns null when the file is of no format it understands or does not parse
 * (the caller then scans it as plain text); never throws.
 */
export function extractConfigValues(path: string, text: string): ConfigValue[] | null {
  try {
    switch (configFormat(path)) {
      case 'dotenv':
        return parseDotenv(text);
      case 'json':
        return fromTree(text, jsonTree(text));
      case 'yaml':
        return fromTree(text, yamlTree(text));
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/** Maps offsets to 1-based line and column. */
class Positions {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// dotenv

const DOTENV_KEY = /[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=([ \t]*)/y;
const DQ_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/**
 * Parses dotenv syntax: `KEY=value`, optional `export`, `#` comment lines, unquoted values ending at ` #` (a `#`
 * without a space before it is part of the value, as tokens may hold one), single-quoted and backtick values taken
 * literally, double-quoted values with `\n \r \t \" \\` escapes; quoted values may span lines. Returns null on
 * any line that is none of these, so a file merely named like a .env file is scanned as text.
 */
function parseDotenv(text: string): ConfigValue[] | null {
  const pos = new Positions(text);
  const out: ConfigValue[] = [];
  let i = 0;
  const n = text.length;
  const lineEnd = (from: number): number => {
    const nl = text.indexOf('\n', from);
    return nl === -1 ? n : nl;
  };
  while (i < n) {
    const end = lineEnd(i);
    const line = text.slice(i, end);
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = end + 1;
      continue;
    }
    DOTENV_KEY.lastIndex = i;
    const m = DOTENV_KEY.exec(text);
    if (!m || m.index !== i || DOTENV_KEY.lastIndex > end) return null;
    const key = m[1]!;
    const p = DOTENV_KEY.lastIndex;
    const q = text[p];
    let value: string;
    let start: number;
    let after: number;
    if (q === '"' || q === "'" || q === '`') {
      start = p + 1;
      let j = start;
      let decoded = '';
      for (;;) {
        if (j >= n) return null;
        const c = text[j]!;
        if (c === q) break;
        if (q === '"' && c === '\\' && j + 1 < n) {
          const e = text[j + 1]!;
          decoded += DQ_ESCAPES[e] ?? `\\${e}`;
          j += 2;
          continue;
        }
        decoded += c;
        j++;
      }
      value = decoded;
      after = j + 1;
      const rest = text.slice(after, lineEnd(after)).trim();
      if (rest !== '' && !rest.startsWith('#')) return null;
      i = lineEnd(after) + 1;
    } else {
      start = p;
      let raw = text.slice(p, end);
      const comment = raw.search(/\s#/);
      if (comment !== -1) raw = raw.slice(0, comment);
      value = raw.replace(/\s+$/, '');
      // `KEY= # note` is a comment; `KEY=#x` is a value starting with `#`.
      if (value.startsWith('#') && m[2] !== '') value = '';
      i = end + 1;
    }
    if (value !== '') out.push({ keyPath: key, keyName: key, value, ...pos.at(start) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// A small common tree for JSON and YAML, so the MCP-aware walk is written once.

/** A string leaf: `start` is the offset of its first character, `end` the end of its source. */
interface StrNode {
  t: 'str';
  value: string;
  start: number;
  end: number;
}
type CNode =
  { t: 'obj'; entries: Array<[string, CNode]> } | { t: 'arr'; items: CNode[] } | StrNode | { t: 'other' };

const OTHER: CNode = { t: 'other' };

/** Parses JSON with comments and trailing commas; null on any syntax error. */
function jsonTree(text: string): CNode[] | null {
  const errors: ParseError[] = [];
  const root = jsonc().parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !root) return null;
  const convert = (node: JsonNode | undefined): CNode => {
    if (!node) return OTHER;
    switch (node.type) {
      case 'object':
        return {
          t: 'obj',
          entries: (node.children ?? []).map((prop): [string, CNode] => [
            String(prop.children?.[0]?.value ?? ''),
            convert(prop.children?.[1]),
          ]),
        };
      case 'array':
        return { t: 'arr', items: (node.children ?? []).map(convert) };
      case 'string':
        return {
          t: 'str',
          value: String(node.value),
          start: node.offset + 1,
          end: node.offset + node.length - 1,
        };
      default:
        return OTHER;
    }
  };
  return [convert(root)];
}

/** Parses every YAML document; null when any has an error. Aliases are not followed (their anchor is reported). */
function yamlTree(text: string): CNode[] | null {
  const { isAlias, isMap, isScalar, isSeq, parseAllDocuments, Scalar } = yaml();
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  if (!Array.isArray(docs)) return [];
  if (docs.some((d) => d.errors.length > 0)) return null;
  const convert = (node: unknown): CNode => {
    if (isAlias(node)) return OTHER;
    if (isMap(node)) {
      return {
        t: 'obj',
        entries: node.items.map((pair): [string, CNode] => {
          const k = pair.key;
          const key = isScalar(k) ? String(k.value) : String(k ?? '');
          return [key, convert(pair.value)];
        }),
      };
    }
    if (isSeq(node)) return { t: 'arr', items: node.items.map(convert) };
    if (isScalar(node) && node.range) {
      const [from, to] = node.range;
      if (typeof node.value === 'string')
        return { t: 'str', value: node.value, start: scalarStart(text, node), end: to };
      // A plain scalar that YAML reads as a number (`12345e7`) may still be a hex or decimal key: keep its text.
      if (typeof node.value === 'number' && node.type === Scalar.PLAIN)
        return { t: 'str', value: text.slice(from, to), start: from, end: to };
    }
    return OTHER;
  };
  return docs.map((d) => convert(d.contents));
}

/** Offset of a YAML scalar's first character: past the quote, or past a block scalar's header line. */
function scalarStart(text: string, node: Scalar): number {
  const { Scalar } = yaml();
  const from = node.range![0];
  switch (node.type) {
    case Scalar.QUOTE_DOUBLE:
    case Scalar.QUOTE_SINGLE:
      return from + 1;
    case Scalar.BLOCK_FOLDED:
    case Scalar.BLOCK_LITERAL: {
      const nl = text.indexOf('\n', from);
      if (nl === -1) return from;
      const m = /[^\s]/.exec(text.slice(nl + 1, node.range![1]));
      return m ? nl + 1 + m.index : nl + 1;
    }
    default:
      return from;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The walk

type Segment = string | number;

/** Formats a key path: `a.b[2]`, with `["odd key"]` for keys that are not identifier-like. */
function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

const AUTH_SCHEME = /^(?:Bearer|Basic|Token|Bot)\s+(\S+)\s*$/i;
const LONG_FLAG = /^--([A-Za-z0-9][\w.-]*)$/;
const LONG_FLAG_VALUE = /^--([A-Za-z0-9][\w.-]*)=([^]+)$/;
const SHORT_FLAG = /^-[A-Za-z]$/;
const ENV_ASSIGN = /^([A-Za-z_][A-Za-z0-9_]*)=([^]+)$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const HEADER_ARG = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(\S[^]*)$/;
const HEADER_FLAGS = new Set(['--header', '-H']);

function fromTree(text: string, roots: CNode[] | null): ConfigValue[] | null {
  if (roots === null) return null;
  const pos = new Positions(text);
  const out: ConfigValue[] = [];

  /** Offset of `sub` found at `index` of the decoded value, mapped back to the file despite escapes. */
  const offsetIn = (node: StrNode, index: number, sub: string): number => {
    if (index === 0 && sub === node.value) return node.start;
    if (text.slice(node.start, node.start + node.value.length) === node.value) return node.start + index;
    const found = text.indexOf(sub, node.start);
    return found !== -1 && found + sub.length <= node.end ? found : node.start;
  };
  const emit = (segments: Segment[], keyName: string, node: StrNode, value = node.value, index = 0): void => {
    if (value === '') return;
    out.push({ keyPath: formatPath(segments), keyName, value, ...pos.at(offsetIn(node, index, value)) });
  };
  /** Emits an Authorization-like value, reduced to its credential when it has a scheme. */
  const emitAuth = (
    segments: Segment[],
    keyName: string,
    node: StrNode,
    value: string,
    index: number,
  ): void => {
    const m = AUTH_SCHEME.exec(value);
    if (m) emit(segments, keyName, node, m[1]!, index + value.lastIndexOf(m[1]!));
    else emit(segments, keyName, node, value, index);
  };

  const splitArgs = (items: CNode[], segments: Segment[]): void => {
    let flag: string | null = null;
    items.forEach((item, i) => {
      const here = [...segments, i];
      const prev = flag;
      flag = null;
      if (item.t !== 'str') {
        walk(item, here, 'args');
        return;
      }
      const s = item.value;
      let m: RegExpExecArray | null;
      if ((m = LONG_FLAG_VALUE.exec(s))) {
        emit(here, m[1]!, item, m[2]!, s.indexOf('=') + 1);
      } else if (LONG_FLAG.test(s) || SHORT_FLAG.test(s)) {
        flag = s;
        emit(here, 'args', item);
      } else if (
        (m = HEADER_ARG.exec(s)) &&
        !s.startsWith('//', m[1]!.length + 1) &&
        ((prev !== null && HEADER_FLAGS.has(prev)) || m[1]!.toLowerCase() === 'authorization')
      ) {
        emitAuth(here, m[1]!, item, m[2]!, s.length - m[2]!.length);
      } else if (
        (m = ENV_ASSIGN.exec(s)) &&
        (ENV_NAME.test(m[1]!) || prev === null || !LONG_FLAG.test(prev))
      ) {
        emit(here, m[1]!, item, m[2]!, m[1]!.length + 1);
      } else if (prev !== null && LONG_FLAG.test(prev)) {
        emit(here, prev.slice(2), item);
      } else {
        emit(here, 'args', item);
      }
    });
  };

  const walk = (node: CNode, segments: Segment[], keyName: string): void => {
    switch (node.t) {
      case 'str':
        emit(segments, keyName, node);
        return;
      case 'arr':
        node.items.forEach((item, i) => walk(item, [...segments, i], keyName));
        return;
      case 'obj': {
        const isServer = node.entries.some(([k, v]) => k === 'command' && v.t === 'str');
        for (const [key, value] of node.entries) {
          const here = [...segments, key];
          if (isServer && key === 'args' && value.t === 'arr') splitArgs(value.items, here);
          else if (value.t === 'str' && key.toLowerCase() === 'authorization')
            emitAuth(here, key, value, value.value, 0);
          else walk(value, here, key);
        }
        return;
      }
      default:
        return;
    }
  };

  for (const root of roots) walk(root, [], '');
  return out;
}
