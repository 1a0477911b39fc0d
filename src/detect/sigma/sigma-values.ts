/**
 * Compilation of one detection item — `field|mod1|mod2: value(s)` or a keyword list — into an event
 * predicate, with every Sigma v2.1 value modifier (sigma-appendix-modifiers.md). Anything the engine cannot
 * honour exactly (unknown modifier, a combination without a defined meaning, a regex outside RE2 syntax) is a
 * CompileError naming the offending path; nothing is silently approximated.
 *
 * Semantics (see README.md in this directory for the full list):
 * - strings compare case-insensitively unless `|cased`; `re` is case-sensitive unless `|re|i`;
 * - numbers and booleans in the event are compared through their text (`4769`, `true`) by string patterns;
 *   a plain numeric rule value matches the same number or its decimal text;
 * - an array- or object-valued event field matches when any scalar inside it matches (for `|all`, each value
 *   may be matched by a different element; for `|neq`, no element may equal any value);
 * - `null` matches a field that is absent or null; `|exists` only looks at presence.
 */
import { isIP } from 'node:net';
import { RE2JS } from 're2js';
import type { DetectEvent } from '../detect-types.js';
import { compileAccessor } from './sigma-field.js';
import {
  compilePattern,
  expandClasses,
  isPlain,
  literal,
  normalize,
  parseSigmaString,
  plainText,
  render,
  windash,
  wrapContains,
  wrapEndsWith,
  wrapStartsWith,
  type StringMatcher,
  type Token,
} from './sigma-pattern.js';

/** A rule part that cannot be compiled; `path` is the document path of the offending field. */
export class CompileError extends Error {
  constructor(
    message: string,
    readonly path: ReadonlyArray<string | number>,
  ) {
    super(message);
  }
}

/** Options that change compilation. */
export interface CompileOptions {
  /** Values of `%name%` placeholders for `|expand` (each a Sigma string: wildcards allowed). */
  placeholders?: Readonly<Record<string, readonly string[]>>;
}

/** A predicate over an event. */
export type EventPredicate = (event: DetectEvent) => boolean;
type ScalarPredicate = (value: unknown) => boolean;

const FLAG_MODS = ['all', 'cased', 'neq'] as const;
const SHAPE_MODS = ['contains', 'startswith', 'endswith'] as const;
const UTF16_MODS = ['utf16le', 'wide', 'utf16be', 'utf16'] as const;
const TRANSFORM_MODS = [...SHAPE_MODS, 'windash', 'base64', 'base64offset', ...UTF16_MODS, 'expand'] as const;
const TYPE_MODS = ['re', 'cidr', 'exists', 'fieldref'] as const;
const COMPARE_MODS = ['lt', 'lte', 'gt', 'gte'] as const;
const TIME_MODS = ['minute', 'hour', 'day', 'week', 'month', 'year'] as const;
const RE_FLAGS = ['i', 'm', 's'] as const;
const KNOWN = new Set<string>([...FLAG_MODS, ...TRANSFORM_MODS, ...TYPE_MODS, ...COMPARE_MODS, ...TIME_MODS]);

const has = (list: readonly string[], m: string): boolean => list.includes(m);

/** A field key split into its field and checked modifiers. */
interface ParsedKey {
  field: string;
  mods: string[];
  all: boolean;
  cased: boolean;
  neq: boolean;
  transforms: string[];
  type: (typeof TYPE_MODS)[number] | null;
  reFlags: Set<string>;
  compare: (typeof COMPARE_MODS)[number] | null;
  time: (typeof TIME_MODS)[number] | null;
}

/** Splits `field|mod|mod` and refuses unknown modifiers and combinations without a defined meaning. */
export function parseKey(key: string, path: ReadonlyArray<string | number>): ParsedKey {
  const [field = '', ...mods] = key.split('|');
  const fail = (message: string): never => {
    throw new CompileError(message, path);
  };
  const parsed: ParsedKey = {
    field,
    mods,
    all: false,
    cased: false,
    neq: false,
    transforms: [],
    type: null,
    reFlags: new Set(),
    compare: null,
    time: null,
  };
  const seen = new Set<string>();
  let prev = '';
  for (const m of mods) {
    if (seen.has(m)) fail(`modifier '${m}' is given twice`);
    seen.add(m);
    if (has(RE_FLAGS, m)) {
      if (prev !== 're' && !has(RE_FLAGS, prev))
        fail(`modifier '${m}' is a sub-modifier of 're' and must follow it`);
      parsed.reFlags.add(m);
    } else if (!KNOWN.has(m)) {
      fail(`unknown modifier '${m}'`);
    } else if (m === 'all') parsed.all = true;
    else if (m === 'cased') parsed.cased = true;
    else if (m === 'neq') parsed.neq = true;
    else if (has(TRANSFORM_MODS, m)) parsed.transforms.push(m);
    else if (has(TYPE_MODS, m)) {
      if (parsed.type) fail(`modifiers '${parsed.type}' and '${m}' cannot be combined`);
      parsed.type = m as ParsedKey['type'];
    } else if (has(COMPARE_MODS, m)) {
      if (parsed.compare) fail(`modifiers '${parsed.compare}' and '${m}' cannot be combined`);
      parsed.compare = m as ParsedKey['compare'];
    } else if (has(TIME_MODS, m)) {
      if (parsed.time) fail(`modifiers '${parsed.time}' and '${m}' cannot be combined`);
      parsed.time = m as ParsedKey['time'];
    }
    prev = m;
  }
  checkCombination(parsed, fail);
  return parsed;
}

function checkCombination(p: ParsedKey, fail: (message: string) => never): void {
  const shapes = p.transforms.filter((t) => has(SHAPE_MODS, t));
  if (shapes.length > 1) fail(`modifiers '${shapes[0]}' and '${shapes[1]}' cannot be combined`);
  const utf16 = p.transforms.filter((t) => has(UTF16_MODS, t));
  if (utf16.length > 1) fail(`modifiers '${utf16[0]}' and '${utf16[1]}' cannot be combined`);
  if (p.transforms.includes('base64') && p.transforms.includes('base64offset')) {
    fail(`modifiers 'base64' and 'base64offset' cannot be combined`);
  }
  if (utf16.length === 1) {
    const at = p.transforms.indexOf(utf16[0]!);
    if (!p.transforms.slice(at + 1).some((t) => t === 'base64' || t === 'base64offset')) {
      fail(
        `modifier '${utf16[0]}' must be followed by 'base64' or 'base64offset' (events are text, not bytes)`,
      );
    }
  }
  const special = p.type ?? p.compare ?? p.time;
  if (special) {
    const other = p.transforms[0];
    if (other) fail(`modifier '${other}' cannot be combined with '${special}'`);
  }
  if (p.type === 'exists' && p.mods.length > 1)
    fail(`modifier 'exists' cannot be combined with other modifiers`);
  if (p.compare && p.type) fail(`modifier '${p.compare}' cannot be combined with '${p.type}'`);
  if (p.time && p.type) fail(`modifier '${p.time}' cannot be combined with '${p.type}'`);
  if (p.compare && p.neq) fail(`modifiers '${p.compare}' and 'neq' cannot be combined`);
  if (p.compare && p.all) fail(`modifiers '${p.compare}' and 'all' cannot be combined`);
  if (p.neq && p.all) fail(`modifiers 'neq' and 'all' cannot be combined`);
  if (p.cased && (p.compare || p.time || p.type === 'cidr')) fail(`modifier 'cased' applies to strings only`);
  if (p.field === '') {
    const bad = p.mods.find((m) => !['all', 'cased', 're', ...RE_FLAGS, ...TRANSFORM_MODS].includes(m));
    if (bad) fail(`modifier '${bad}' needs a field (keyword searches take only string modifiers)`);
  }
}

/** A scalar value as text for string matching: strings as is, numbers and booleans as their text. */
function toText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return null;
}

/** A scalar value as a number: numbers, and strings holding a decimal number. */
function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

const MAX_DEPTH = 32;

/**
 * The value itself (a scalar) or, for a container, any scalar inside it satisfies `pred`: array elements
 * and object values are searched (to depth 32; object keys are not). This is how SigmaHQ's CloudTrail rules
 * use object fields: `requestParameters|contains: 'Suspended'` holds when some value inside
 * `requestParameters` contains `Suspended`.
 */
function anyElement(v: unknown, pred: ScalarPredicate, depth = 0): boolean {
  if (v === null || typeof v !== 'object') return pred(v);
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (anyElement(v[i], pred, depth + 1)) return true;
    return false;
  }
  for (const key in v) {
    if (Object.hasOwn(v, key) && anyElement((v as Record<string, unknown>)[key], pred, depth + 1))
      return true;
  }
  return false;
}

/** Any string leaf of a record (objects and arrays walked, keys not searched) satisfies `pred`. */
function anyStringLeaf(node: unknown, pred: ScalarPredicate, depth: number): boolean {
  if (typeof node === 'string') return pred(node);
  if (node === null || typeof node !== 'object' || depth > MAX_DEPTH) return false;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) if (anyStringLeaf(node[i], pred, depth + 1)) return true;
    return false;
  }
  for (const key in node) {
    if (Object.hasOwn(node, key) && anyStringLeaf((node as Record<string, unknown>)[key], pred, depth + 1))
      return true;
  }
  return false;
}

function orScalar(ps: ScalarPredicate[]): ScalarPredicate {
  if (ps.length === 1) return ps[0]!;
  return (v) => {
    for (let i = 0; i < ps.length; i++) if (ps[i]!(v)) return true;
    return false;
  };
}

/** The values of an item, each with its path; refuses nested structures and misplaced nulls. */
function valueList(
  value: unknown,
  path: ReadonlyArray<string | number>,
  p: ParsedKey,
): Array<{ v: unknown; path: ReadonlyArray<string | number> }> {
  const items = Array.isArray(value)
    ? value.map((v, i) => ({ v: v as unknown, path: [...path, i] }))
    : [{ v: value, path }];
  if (items.length === 0) throw new CompileError('empty value list', path);
  for (const it of items) {
    if (it.v !== null && typeof it.v === 'object')
      throw new CompileError('a value must be a string, number, boolean or null', it.path);
    if (it.v === null && items.length > 1)
      throw new CompileError('null cannot be part of a value list (use a separate selection)', it.path);
  }
  if (p.all && items.length < 2)
    throw new CompileError(`modifier 'all' needs a list of two or more values`, path);
  return items;
}

/** An intermediate value while transformations apply: text (with wildcards) or bytes (after utf16*). */
type Alt = { k: 'str'; toks: Token[]; cased: boolean } | { k: 'bytes'; b: Buffer };

function stringAlternatives(
  v: unknown,
  p: ParsedKey,
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
  implicitContains: boolean,
): Alt[] {
  if (typeof v !== 'string' && typeof v !== 'number') {
    throw new CompileError(`modifier '${p.transforms[0] ?? 'keyword'}' needs a string or number value`, path);
  }
  const expand = p.transforms.includes('expand');
  let alts: Alt[] = [
    {
      k: 'str',
      toks: typeof v === 'string' ? parseSigmaString(v, expand) : literal(String(v)),
      cased: false,
    },
  ];
  for (const t of p.transforms) alts = alts.flatMap((a) => transform(t, a, path, options));
  if (implicitContains) alts = alts.map((a) => (a.k === 'str' ? { ...a, toks: wrapContains(a.toks) } : a));
  return alts;
}

const MAX_WINDASH_PERMUTATIONS = 625;

/** Plain text of a string alternative, for encodings: wildcards and placeholders are refused. */
function plainForEncoding(a: Alt, mod: string, path: ReadonlyArray<string | number>): string[] {
  if (a.k !== 'str') throw new Error('internal');
  if (a.toks.some((t) => t.t === 'ph'))
    throw new CompileError(`placeholders must be expanded ('expand') before '${mod}'`, path);
  const perms = expandClasses(a.toks, MAX_WINDASH_PERMUTATIONS);
  if (!perms) throw new CompileError(`too many windash permutations for '${mod}'`, path);
  return perms.map((toks) => {
    if (!isPlain(toks))
      throw new CompileError(`'${mod}' cannot encode a value with wildcards (${render(a.toks)})`, path);
    return plainText(toks);
  });
}

function transform(t: string, a: Alt, path: ReadonlyArray<string | number>, options: CompileOptions): Alt[] {
  if (a.k === 'bytes' && t !== 'base64' && t !== 'base64offset') {
    throw new CompileError(`modifier '${t}' cannot follow a utf16 encoding`, path);
  }
  switch (t) {
    case 'contains':
    case 'startswith':
    case 'endswith': {
      if (a.k !== 'str') throw new Error('internal');
      const wrap = t === 'contains' ? wrapContains : t === 'startswith' ? wrapStartsWith : wrapEndsWith;
      return [{ ...a, toks: wrap(a.toks) }];
    }
    case 'windash':
      if (a.k !== 'str') throw new Error('internal');
      return [{ ...a, toks: windash(a.toks) }];
    case 'expand':
      if (a.k !== 'str') throw new Error('internal');
      return expandPlaceholders(a.toks, path, options).map((toks) => ({ ...a, toks }));
    case 'utf16le':
    case 'wide':
    case 'utf16be':
    case 'utf16':
      return plainForEncoding(a, t, path).map((s) => ({ k: 'bytes' as const, b: encodeUtf16(s, t) }));
    case 'base64':
      return bytesOf(a, t, path).map((b) => ({
        k: 'str' as const,
        toks: literal(b.toString('base64')),
        cased: true,
      }));
    case 'base64offset':
      return bytesOf(a, t, path).flatMap((b) =>
        base64Offsets(b).map((s) => ({ k: 'str' as const, toks: literal(s), cased: true })),
      );
    default:
      throw new Error(`internal: transform ${t}`);
  }
}

function bytesOf(a: Alt, mod: string, path: ReadonlyArray<string | number>): Buffer[] {
  return a.k === 'bytes' ? [a.b] : plainForEncoding(a, mod, path).map((s) => Buffer.from(s, 'utf8'));
}

function encodeUtf16(s: string, mod: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  if (mod === 'utf16le' || mod === 'wide') return le;
  const be = Buffer.from(le);
  be.swap16();
  if (mod === 'utf16be') return be;
  return Buffer.concat([Buffer.from([0xff, 0xfe]), le]); // utf16: byte order mark, then little endian
}

/**
 * The three base64 forms of `bytes` as it may appear at any byte offset inside a longer base64 text: for a
 * shift of 0, 1 or 2 bytes, the encoding of (shift filler bytes + value) without the leading characters that
 * depend on the filler and the trailing ones that depend on the bytes that follow.
 */
export function base64Offsets(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const enc = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = [0, 2, 3][shift]!;
    const rem = (shift + bytes.length) % 3;
    const end = enc.length - [0, 3, 2][rem]!;
    out.push(enc.slice(start, end));
  }
  return out;
}

function expandPlaceholders(
  toks: Token[],
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
): Token[][] {
  let results: Token[][] = [[]];
  for (const tok of toks) {
    if (tok.t !== 'ph') {
      for (const r of results) r.push(tok);
      continue;
    }
    const values = options.placeholders?.[tok.name];
    if (!values) throw new CompileError(`unknown placeholder %${tok.name}%`, path);
    if (values.length === 0) throw new CompileError(`placeholder %${tok.name}% has no values`, path);
    const next: Token[][] = [];
    for (const r of results) for (const v of values) next.push([...r, ...parseSigmaString(v, false)]);
    if (next.length > 10_000) throw new CompileError(`placeholders expand to more than 10000 values`, path);
    results = next;
  }
  return results.map(normalize);
}

/**
 * Scalar predicates that, on a string, are exactly a StringMatcher: combineField calls the matcher directly
 * when the event value is a string (the common case), skipping two calls per evaluation.
 */
const STRING_FORM = new WeakMap<ScalarPredicate, StringMatcher>();

function withStringForm(m: StringMatcher): ScalarPredicate {
  const pred: ScalarPredicate = (v) => {
    const s = toText(v);
    return s !== null && m(s);
  };
  STRING_FORM.set(pred, m);
  return pred;
}

function altPredicate(a: Alt, cased: boolean): ScalarPredicate {
  if (a.k !== 'str') throw new Error('internal: bytes left after transformations');
  return withStringForm(compilePattern(a.toks, cased || a.cased));
}

/** The string form of an OR of scalar predicates, when each has one. */
function stringForm(preds: ScalarPredicate[]): StringMatcher | null {
  const ms: StringMatcher[] = [];
  for (const p of preds) {
    const m = STRING_FORM.get(p);
    if (!m) return null;
    ms.push(m);
  }
  if (ms.length === 1) return ms[0]!;
  return (s) => {
    for (let i = 0; i < ms.length; i++) if (ms[i]!(s)) return true;
    return false;
  };
}

/** The matcher of one value: a number or boolean without transformations compares as such. */
function plainValuePredicate(
  v: unknown,
  p: ParsedKey,
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
  implicitContains: boolean,
): ScalarPredicate {
  if (p.transforms.length === 0 && !implicitContains) {
    if (typeof v === 'number') {
      const text = String(v);
      return (x) => (typeof x === 'number' ? x === v : typeof x === 'string' && x === text);
    }
    if (typeof v === 'boolean') {
      const text = String(v);
      return (x) => x === v || (typeof x === 'string' && x.toLowerCase() === text);
    }
  }
  if (typeof v === 'boolean')
    throw new CompileError(`modifier '${p.transforms[0] ?? 'keyword'}' needs a string or number value`, path);
  const alts = stringAlternatives(v, p, path, options, implicitContains).map((a) => altPredicate(a, p.cased));
  if (alts.length === 1) return alts[0]!;
  const m = stringForm(alts);
  return m ? withStringForm(m) : orScalar(alts);
}

function regexPredicate(v: unknown, p: ParsedKey, path: ReadonlyArray<string | number>): ScalarPredicate {
  if (typeof v !== 'string') throw new CompileError(`modifier 're' needs a string value`, path);
  let flags = 0;
  if (p.reFlags.has('i')) flags |= RE2JS.CASE_INSENSITIVE;
  if (p.reFlags.has('m')) flags |= RE2JS.MULTILINE;
  if (p.reFlags.has('s')) flags |= RE2JS.DOTALL;
  let re: RE2JS;
  try {
    re = RE2JS.compile(v, flags);
  } catch (err) {
    throw new CompileError(
      `regex ${JSON.stringify(v)} refused: ${(err as Error).message} (only linear-time RE2 syntax is supported: no lookaround, no backreferences)`,
      path,
    );
  }
  // Case-insensitive RE2 folds k and s with the Kelvin sign and the long s, which toLowerCase does not:
  // no prefilter for such literals.
  const caseless = p.reFlags.has('i');
  const found = requiredLiteral(v);
  const needle = found !== null && caseless && /[ks]/i.test(found) ? null : found;
  if (needle === null) {
    return (x) => {
      const s = toText(x);
      return s !== null && re.test(s);
    };
  }
  // A literal every match must contain: a cheap includes() spares the regex most values.
  const lit = caseless ? needle.toLowerCase() : needle;
  return (x) => {
    const s = toText(x);
    return s !== null && (caseless ? s.toLowerCase() : s).includes(lit) && re.test(s);
  };
}

const REGEX_META = new Set([...'\\.^$|?*+()[]{}']);

/**
 * The longest run of plain characters that every match of `pattern` must contain, or null. Conservative:
 * only for patterns without alternation or inline flags, only outside groups and classes, and a character
 * followed by a quantifier is left out. Runs shorter than 3 are not worth a check.
 */
export function requiredLiteral(pattern: string): string | null {
  if (pattern.includes('|') || pattern.includes('(?')) return null;
  let best = '';
  let run = '';
  let depth = 0;
  const end = (): void => {
    if (run.length > best.length) best = run;
    run = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      end();
      i++;
    } else if (c === '[') {
      end();
      // skip the class: a ']' right after '[' or '[^' is literal
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j;
    } else if (c === '(') {
      end();
      depth++;
    } else if (c === ')') {
      end();
      depth--;
    } else if (c === '?' || c === '*' || c === '{') {
      run = run.slice(0, -1); // the previous character is optional or repeated a variable number of times
      end();
      if (c === '{') {
        const close = pattern.indexOf('}', i);
        if (close < 0) return null;
        i = close;
      }
    } else if (REGEX_META.has(c)) {
      end();
    } else if (depth === 0) {
      run += c;
    }
  }
  end();
  return best.length >= 3 ? best : null;
}

/** Parses `addr/prefix` (or a bare address) for `cidr`. */
function parseCidr(
  v: unknown,
  path: ReadonlyArray<string | number>,
): { addr: string; prefix: number; type: 'ipv4' | 'ipv6' } {
  if (typeof v !== 'string') throw new CompileError(`modifier 'cidr' needs a string value`, path);
  const [addr = '', prefixText, extra] = v.split('/');
  const version = isIP(addr);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (version === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
    throw new CompileError(`'${v}' is not a CIDR range (e.g. 10.0.0.0/8 or 2001:db8::/32)`, path);
  }
  return { addr, prefix, type: version === 4 ? 'ipv4' : 'ipv6' };
}

/** An IPv4 address in dotted-quad form as an unsigned 32-bit number, or null (no leading zeros beyond one digit). */
export function ipv4ToNumber(s: string): number | null {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return null; // a leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else if (c === 46 && digits > 0 && dots < 3) {
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return n * 256 + part;
}

/** An IPv6 address (any textual form node:net accepts, embedded IPv4 too) as a 128-bit bigint, or null. */
export function ipv6ToBigInt(s: string): bigint | null {
  if (isIP(s) !== 6) return null;
  let text = s.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  const lastColon = text.lastIndexOf(':');
  let tail: number[] = [];
  if (text.includes('.', lastColon)) {
    const v4 = ipv4ToNumber(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    text = `${text.slice(0, lastColon + 1)}0`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  if (tail.length) (rest === undefined ? left : right).pop();
  const fill = 8 - left.length - right.length - tail.length;
  groups.push(...left, ...Array<number>(rest === undefined ? 0 : fill).fill(0), ...right, ...tail);
  if (groups.length !== 8) return null;
  let out = 0n;
  for (const g of groups) out = (out << 16n) | BigInt(g);
  return out;
}

// CIDR matching on numbers: node:net's BlockList builds a SocketAddress per check, which cost most of a
// detection run's time with one cidr rule among a hundred.
function cidrPredicate(ranges: Array<ReturnType<typeof parseCidr>>): ScalarPredicate {
  const v4: Array<{ net: number; mask: number }> = [];
  const v6: Array<{ net: bigint; mask: bigint }> = [];
  for (const r of ranges) {
    if (r.type === 'ipv4') {
      const mask = r.prefix === 0 ? 0 : (0xffffffff << (32 - r.prefix)) >>> 0;
      v4.push({ net: (ipv4ToNumber(r.addr)! & mask) >>> 0, mask });
    } else {
      const mask = r.prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - r.prefix)) - 1n);
      v6.push({ net: ipv6ToBigInt(r.addr)! & mask, mask });
    }
  }
  return (x) => {
    if (typeof x !== 'string') return false;
    const a4 = ipv4ToNumber(x);
    if (a4 !== null) return v4.some((r) => (a4 & r.mask) >>> 0 === r.net);
    if (v6.length === 0 || !x.includes(':')) return false;
    const a6 = ipv6ToBigInt(x);
    return a6 !== null && v6.some((r) => (a6 & r.mask) === r.net);
  };
}

function compareWith(op: ParsedKey['compare'], n: number): (x: number) => boolean {
  switch (op) {
    case 'lt':
      return (x) => x < n;
    case 'lte':
      return (x) => x <= n;
    case 'gt':
      return (x) => x > n;
    case 'gte':
      return (x) => x >= n;
    default:
      return (x) => x === n;
  }
}

/** The UTC part of a date value: epoch milliseconds (number) or a date text Date.parse reads. */
function timePart(part: NonNullable<ParsedKey['time']>): (x: unknown) => number | null {
  return (x) => {
    const ms = typeof x === 'number' ? x : typeof x === 'string' ? Date.parse(x) : NaN;
    if (!Number.isFinite(ms)) return null;
    const d = new Date(ms);
    switch (part) {
      case 'minute':
        return d.getUTCMinutes();
      case 'hour':
        return d.getUTCHours();
      case 'day':
        return d.getUTCDate();
      case 'month':
        return d.getUTCMonth() + 1;
      case 'year':
        return d.getUTCFullYear();
      case 'week':
        return isoWeek(d);
    }
  };
}

/** ISO 8601 week number (1–53) of a UTC date. */
export function isoWeek(d: Date): number {
  const day = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const yearStart = Date.UTC(new Date(thursday).getUTCFullYear(), 0, 1);
  return 1 + Math.floor((thursday - yearStart) / (7 * 86_400_000));
}

/**
 * A list of two or more plain values (strings without wildcards, numbers) under no modifier but `cased`:
 * one Set lookup instead of one comparison per value. Same result as the ORed comparisons.
 */
function literalSetPredicate(items: Array<{ v: unknown }>, p: ParsedKey): ScalarPredicate[] | null {
  if (items.length < 2 || p.transforms.length > 0 || p.all || p.neq) return null;
  const texts: string[] = [];
  for (const it of items) {
    if (typeof it.v === 'number') texts.push(String(it.v));
    else if (typeof it.v === 'string') {
      const toks = parseSigmaString(it.v, false);
      if (!isPlain(toks)) return null;
      texts.push(plainText(toks));
    } else return null;
  }
  if (p.cased) {
    const set = new Set(texts);
    return [withStringForm((s) => set.has(s))];
  }
  const set = new Set(texts.map((t) => t.toLowerCase()));
  return [withStringForm((s) => set.has(s.toLowerCase()))];
}

/** Compiles `field|mods: value(s)` (field non-empty) into an event predicate. */
export function compileFieldItem(
  key: string,
  value: unknown,
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
): { pred: EventPredicate; fields: string[] } {
  const p = parseKey(key, path);
  if (p.field === '') return { pred: compileKeywords(value, p, path, options), fields: [] };
  const acc = compileAccessor(p.field);
  const fields = [p.field];

  if (p.type === 'exists') {
    if (typeof value !== 'boolean') throw new CompileError(`modifier 'exists' needs true or false`, path);
    return { pred: value ? (e) => acc(e) !== undefined : (e) => acc(e) === undefined, fields };
  }
  if (value === null && p.mods.length === 0) {
    return {
      pred: (e) => {
        const v = acc(e);
        return v === undefined || v === null;
      },
      fields,
    };
  }
  if (value === null) throw new CompileError('null takes no modifiers', path);
  const items = valueList(value, path, p);

  if (p.type === 'fieldref') {
    const refs = items.map((it) => {
      if (typeof it.v !== 'string' || it.v === '')
        throw new CompileError(`modifier 'fieldref' needs a field name`, it.path);
      fields.push(it.v);
      return compileAccessor(it.v);
    });
    return { pred: fieldrefPredicate(acc, refs, p), fields };
  }

  let preds: ScalarPredicate[];
  if (p.type === 're') preds = items.map((it) => regexPredicate(it.v, p, it.path));
  else if (p.type === 'cidr') {
    const ranges = items.map((it) => parseCidr(it.v, it.path));
    preds = p.all ? ranges.map((r) => cidrPredicate([r])) : [cidrPredicate(ranges)];
  } else if (p.time) {
    const part = timePart(p.time);
    preds = items.map((it) => {
      if (typeof it.v !== 'number' || !Number.isInteger(it.v))
        throw new CompileError(`modifier '${p.time}' needs an integer value`, it.path);
      const cmp = compareWith(p.compare, it.v);
      return (x: unknown) => {
        const n = part(x);
        return n !== null && cmp(n);
      };
    });
  } else if (p.compare) {
    preds = items.map((it) => {
      if (typeof it.v !== 'number') throw new CompileError(`modifier '${p.compare}' needs a number`, it.path);
      const cmp = compareWith(p.compare, it.v);
      return (x: unknown) => {
        const n = toNumber(x);
        return n !== null && cmp(n);
      };
    });
  } else {
    preds =
      literalSetPredicate(items, p) ??
      items.map((it) => plainValuePredicate(it.v, p, it.path, options, false));
  }
  return { pred: combineField(acc, preds, p), fields };
}

/** OR (default), AND (`all`: each value matched by some element) or NOT-any (`neq`) over one field. */
function combineField(
  acc: (e: DetectEvent) => unknown,
  preds: ScalarPredicate[],
  p: ParsedKey,
): EventPredicate {
  if (p.neq) {
    const any = orScalar(preds);
    return (e) => {
      const v = acc(e);
      return v !== undefined && v !== null && !anyElement(v, any);
    };
  }
  if (p.all) {
    return (e) => {
      const v = acc(e);
      if (v === undefined) return false;
      for (let i = 0; i < preds.length; i++) if (!anyElement(v, preds[i]!)) return false;
      return true;
    };
  }
  const any = orScalar(preds);
  const str = stringForm(preds);
  if (str) {
    return (e) => {
      const v = acc(e);
      return typeof v === 'string' ? str(v) : v !== undefined && v !== null && anyElement(v, any);
    };
  }
  return (e) => anyElement(acc(e), any);
}

function fieldrefPredicate(
  acc: (e: DetectEvent) => unknown,
  refs: Array<(e: DetectEvent) => unknown>,
  p: ParsedKey,
): EventPredicate {
  const norm = p.cased ? (s: string): string => s : (s: string): string => s.toLowerCase();
  const equal = (a: unknown, b: unknown): boolean => {
    if (Array.isArray(b)) return b.some((el) => equal(a, el));
    const sa = toText(a);
    const sb = toText(b);
    return sa !== null && sb !== null && norm(sa) === norm(sb);
  };
  const one = (e: DetectEvent, ref: (e: DetectEvent) => unknown): boolean | null => {
    const v = acc(e);
    const o = ref(e);
    if (v === undefined || v === null || o === undefined || o === null) return null;
    return anyElement(v, (x) => equal(x, o));
  };
  if (p.neq) return (e) => refs.every((r) => one(e, r) === false);
  if (p.all) return (e) => refs.every((r) => one(e, r) === true);
  return (e) => refs.some((r) => one(e, r) === true);
}

/**
 * Keyword search: a value matches when it occurs in any string value anywhere in the raw record (objects
 * and arrays walked to depth 32; keys, numbers and booleans not searched). Plain keywords are substring
 * matches (`*kw*`, wildcards inside allowed); with `startswith`/`endswith`/`contains` or `re` the leaf must
 * match that instead. `|all`: every keyword must be found (each in any leaf).
 */
export function compileKeywords(
  value: unknown,
  p: ParsedKey,
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
): EventPredicate {
  const items = valueList(value, path, p);
  const implicit = p.type !== 're' && !p.transforms.some((t) => has(SHAPE_MODS, t));
  const preds = items.map((it) => {
    if (it.v === null || typeof it.v === 'boolean')
      throw new CompileError('a keyword must be a string or number', it.path);
    return p.type === 're'
      ? regexPredicate(it.v, p, it.path)
      : plainValuePredicate(it.v, p, it.path, options, implicit);
  });
  if (p.all) {
    return (e) => {
      for (let i = 0; i < preds.length; i++) if (!anyStringLeaf(e.raw, preds[i]!, 0)) return false;
      return true;
    };
  }
  const any = orScalar(preds);
  return (e) => anyStringLeaf(e.raw, any, 0);
}

/** A plain list of keywords (a search identifier that is a list of strings). */
export function compilePlainKeywords(
  values: unknown[],
  path: ReadonlyArray<string | number>,
  options: CompileOptions,
): EventPredicate {
  return compileKeywords(values, parseKey('', path), path, options);
}
