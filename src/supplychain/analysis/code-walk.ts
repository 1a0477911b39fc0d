/**
 * The single AST pass of the static JavaScript analyser: `FileWalk` visits every node once (`walkPostOrder`
 * of code-traverse.ts), records capabilities, runs the string rules on literals, templates, folded concatenations and
 * command lines, and applies the file-level rules (obfuscated identifiers, wallet drainers, download + chmod +
 * exec, split GitHub API use, AI CLI tables) when the walk ends.
 */
import type * as acorn from 'acorn';
import type { Capability, NpmSeverity, Signal, ThreatCategory } from '../npm-types.js';
import {
  CHILD_PROCESS_MODULES,
  COMMAND_FUNCTIONS,
  DNS_QUERY_FUNCTIONS,
  ENV_PASS_THROUGH,
  ENV_SINKS,
  FS_MODULES,
  FS_READ_FUNCTIONS,
  FS_REMOVE_FUNCTIONS,
  FS_WRITE_FUNCTIONS,
  NETWORK_MODULES,
} from './code-indicators.js';
import {
  PLACEHOLDER,
  calleeName,
  containsDecode,
  dottedName,
  fold,
  isHomeExpression,
  isProcessEnv,
  literalString,
  moduleKey,
} from './code-ast.js';
import { AI_BYPASS_FLAGS, AI_CLIS, isPublicIpv4, matchStringRules } from './code-rules.js';
import { scanTextObfuscation } from './code-text.js';

type Node = acorn.AnyNode;

const OBFUSCATED_IDENTIFIER = /^_0x[0-9a-f]{4,}$/;
const MIN_OBFUSCATED_IDENTIFIERS = 5;
const GITHUB_HINT = /api\.github\.com|\/repos$|^token /i;
const DOWNLOAD_OR_CHMOD = /curl |wget |invoke-webrequest|chmod/i;
/** Words one of which the source of a decoding call contains (see `FileWalk.mayDecode`). */
const DECODE_HINTS = ['atob', 'from', 'toString', '\\'];
/** Text that may hold an identifier containing 'levenshtein' in some case (see `FileWalk.mayNameLevenshtein`). */
const LEVENSHTEIN_HINT = /levenshtein|\\u|[\u0080-\uffff]/i;

/** Collects signals, keeping the first occurrence (by position) of each key. */
class Collector {
  private readonly byKey = new Map<string, { signal: Signal; offset: number }>();
  constructor(
    private readonly path: string,
    private readonly text: string,
  ) {}

  add(
    key: string,
    base: {
      ruleId: string;
      kind: Signal['kind'];
      category: Capability | ThreatCategory;
      severity: NpmSeverity;
      message: string;
    },
    offset: number,
    line: number,
    column: number,
  ): void {
    const prev = this.byKey.get(key);
    if (prev && prev.offset <= offset) return;
    const signal: Signal = { ...base, file: this.path, line, column, snippet: this.snippet(offset) };
    this.byKey.set(key, { signal, offset });
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  all(): Signal[] {
    return [...this.byKey.values()]
      .sort((a, b) => a.offset - b.offset || a.signal.ruleId.localeCompare(b.signal.ruleId))
      .map((e) => e.signal);
  }

  signalsOf(category: string): Signal[] {
    return [...this.byKey.values()].map((e) => e.signal).filter((s) => s.category === category);
  }

  private snippet(offset: number): string {
    const t = this.text;
    const start = t.lastIndexOf('\n', offset - 1) + 1;
    let end = t.indexOf('\n', offset);
    if (end < 0) end = t.length;
    let from = start;
    let to = end;
    if (to - from > 160) {
      from = Math.max(start, offset - 60);
      to = Math.min(end, from + 160);
    }
    return t
      .slice(from, to)
      .replace(/[\r\t]/g, ' ')
      .trim()
      .slice(0, 160);
  }
}

function capability(c: Capability, message: string) {
  return {
    ruleId: `npm.capability.${c}`,
    kind: 'capability' as const,
    category: c,
    severity: 'info' as const,
    message,
  };
}

function threat(c: ThreatCategory, severity: NpmSeverity, message: string) {
  return { ruleId: `npm.threat.${c}`, kind: 'threat' as const, category: c, severity, message };
}

const ADDRESS_REGEX_HINTS = [
  '0x[a-fa-f0-9]{40}',
  '0x[0-9a-fa-f]{40}',
  '0x[a-f0-9]{40}',
  '0x[0-9a-f]{40}',
  'bc1[',
  '^t[1-9a-hj-np-za-km-z]',
  '[13][a-km-za-hj-np-z1-9]{25,34}',
];
const WALLET_TAG_TEXT: Record<string, string> = {
  'eth-request': 'window.ethereum transaction or signature requests',
  'fetch-override': 'an override of the global fetch',
  'xhr-override': 'an override of XMLHttpRequest.prototype.open/send',
  'address-regex': 'crypto address patterns',
  levenshtein: 'nearest-address (Levenshtein) matching',
  'clipboard-write': 'clipboard rewriting',
};

/** The name of the innermost named function declaration around the current node, or null. */
function enclosingFunctionName(ancestors: readonly Node[]): string | null {
  for (let i = ancestors.length - 2; i >= 0; i--) {
    const a = ancestors[i]!;
    if (a.type === 'FunctionDeclaration') return a.id?.name ?? null;
    if (a.type === 'FunctionExpression' || a.type === 'ArrowFunctionExpression') {
      const parent = ancestors[i - 1];
      if (parent?.type === 'VariableDeclarator' && parent.id.type === 'Identifier') return parent.id.name;
      return null;
    }
  }
  return null;
}

/** Largest encoded literal decoded to look inside (bigger payloads are still reported as decode-eval). */
const MAX_DECODED_LITERAL = 1024 * 1024;

/**
 * The text of a literal decoded in place: `Buffer.from('…', 'base64' | 'hex')` (with or without
 * `.toString()`), `atob('…')`, searched a few levels into the expression; null when there is none.
 */
function decodedLiteral(node: Node, depth = 0): string | null {
  if (depth > 6) return null;
  if (node.type === 'CallExpression') {
    const callee = node.callee as Node;
    const d = callee.type === 'MemberExpression' ? dottedName(callee) : calleeName(callee);
    const lit = literalString(node.arguments[0] as Node | undefined);
    if (lit !== null && lit.length <= MAX_DECODED_LITERAL) {
      if (d === 'atob') return Buffer.from(lit, 'base64').toString('latin1');
      if (d === 'Buffer.from') {
        const enc = literalString(node.arguments[1] as Node | undefined);
        if (enc === 'base64' || enc === 'base64url' || enc === 'hex')
          return Buffer.from(lit, enc).toString('utf8');
      }
    }
    if (callee.type === 'MemberExpression') return decodedLiteral(callee.object as Node, depth + 1);
    for (const a of node.arguments) {
      const t = decodedLiteral(a as Node, depth + 1);
      if (t !== null) return t;
    }
  }
  if (node.type === 'MemberExpression') return decodedLiteral(node.object as Node, depth + 1);
  return null;
}

/** Modules whose name malware hides from text searches (`require(['child', 'process'].join('_'))`). */
const HIDEABLE_MODULES = new Set(['child_process', 'http', 'https', 'net', 'fs', 'dns', 'os', 'vm', 'tls']);

/** `['a', 'b'].join('_')` of literals, folded; null otherwise. */
function joinedLiteral(node: Node): string | null {
  if (node.type !== 'CallExpression' || node.callee.type !== 'MemberExpression') return null;
  const callee = node.callee;
  if (calleeName(callee as Node) !== 'join' || callee.object.type !== 'ArrayExpression') return null;
  const sep = node.arguments.length === 0 ? ',' : literalString(node.arguments[0] as Node);
  if (sep === null) return null;
  const parts: string[] = [];
  for (const e of callee.object.elements) {
    const v = e && e.type !== 'SpreadElement' ? literalString(e as Node) : null;
    if (v === null) return null;
    parts.push(v);
  }
  return parts.join(sep);
}

/** Interactive shells a reverse shell hands to a socket. */
const SHELLS = new Set([
  '/bin/sh',
  '/bin/bash',
  '/bin/zsh',
  'sh',
  'bash',
  'zsh',
  'cmd.exe',
  'cmd',
  'powershell',
  'powershell.exe',
  'pwsh',
]);

/** The walk's state for one file. */
export class FileWalk {
  readonly out: Collector;
  readonly imports: string[] = [];
  private readonly fsNames = new Set<string>();
  private readonly fsFunctions = new Map<string, string>();
  private readonly obfuscatedIds = new Set<string>();
  private obfuscatedFirst: Node | null = null;
  private readonly walletTags = new Map<string, Node>();
  private chmodNode: Node | null = null;
  private packageJsonWrite: Node | null = null;
  private downloadSeen = false;
  private aiFlagNode: Node | null = null;
  private aiCliSeen = false;
  private readonly githubParts = new Set<string>();
  private githubNode: Node | null = null;
  private obfuscationKinds = new Set<string>();
  /** Names bound to decoded data (`const x = String.fromCharCode(…)`, `Buffer.from(…, 'base64')`). */
  private readonly decodedNames = new Set<string>();
  /** Text of decoded literals bound to names (`const p = Buffer.from('…', 'base64')`). */
  private readonly decodedTexts = new Map<string, string>();
  private shellSpawn: Node | null = null;
  /** Named functions that call themselves, and those that write or delete files. */
  private readonly recursiveFunctions = new Set<string>();
  private readonly writingFunctions = new Set<string>();
  /** Calls of a named function with the home directory as first argument. */
  private readonly homeCalls: { name: string; node: Node }[] = [];
  private socketNode: Node | null = null;

  constructor(
    path: string,
    private readonly text: string,
  ) {
    this.out = new Collector(path, text);
  }

  private lineStarts: number[] | null = null;

  /** Offset, 1-based line and column of a node; line starts are computed once, on the first signal. */
  pos(node: Node): [number, number, number] {
    return this.at(node.start);
  }

  at(offset: number): [number, number, number] {
    if (this.lineStarts === null) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return [offset, lo + 1, offset - (starts[lo] ?? 0) + 1];
  }

  /**
   * Per word a decoding call needs in its source (`DECODE_HINTS`): `hintAt[i]` is the first occurrence at or
   * after `hintFrom[i]` (-1: none), so that a query starting in `[hintFrom, hintAt]` is answered without a search.
   */
  private readonly hintFrom = [-1, -1, -1, -1];
  private readonly hintAt = [-1, -1, -1, -1];

  /**
   * False when `containsDecode(node)` must be false: its source has none of `atob`, `from` (`Buffer.from`,
   * `String.fromCharCode`) or `toString`, nor a backslash (an escape can spell them in a computed key or an
   * identifier). Saves re-walking most declarations' initialisers. Allocates nothing: each word's next occurrence
   * is searched from the node's start and remembered for the queries that follow.
   */
  private mayDecode(node: Node): boolean {
    for (let i = 0; i < DECODE_HINTS.length; i++) {
      let at = this.hintAt[i]!;
      const from = this.hintFrom[i]!;
      if (from < 0 || node.start < from || (at >= 0 && node.start > at)) {
        at = this.text.indexOf(DECODE_HINTS[i]!, node.start);
        this.hintFrom[i] = node.start;
        this.hintAt[i] = at;
      }
      if (at >= 0 && at < node.end) return true;
    }
    return false;
  }

  /** Whether an identifier of this file can contain 'levenshtein' (any case); decided on first use. */
  private levenshteinHint: boolean | null = null;

  /**
   * False when no identifier of the file can contain 'levenshtein' in any case: the text has no such word (ASCII
   * case-insensitively), no non-ASCII character (whose lower case could be ASCII) and no `\u` escape (which can
   * spell any letter of a name). Saves lower-casing every long identifier of ordinary files.
   */
  private mayNameLevenshtein(): boolean {
    this.levenshteinHint ??= LEVENSHTEIN_HINT.test(this.text);
    return this.levenshteinHint;
  }

  cap(c: Capability, message: string, node: Node): void {
    this.out.add(`cap:${c}`, capability(c, message), ...this.pos(node));
  }

  threat(c: ThreatCategory, severity: NpmSeverity, message: string, node: Node, key = message): void {
    this.out.add(`threat:${c}:${key}`, threat(c, severity, message), ...this.pos(node));
  }

  /**
   * Runs the string rules on `value`, reporting at `node`; `inWrite` marks a path that an fs write call receives,
   * or is the node's ancestor chain, from which that is decided only when a rule needs it (no closure per string).
   */
  strings(value: string, node: Node, inWrite: boolean | readonly Node[]): void {
    if (value.length < 16 && AI_CLIS.includes(value)) this.aiCliSeen = true;
    if (value.length < 4) return;
    if (GITHUB_HINT.test(value)) this.github(value, node);
    if (value.startsWith('--') && AI_BYPASS_FLAGS.some((f) => value.includes(f))) this.aiFlagNode ??= node;
    if (DOWNLOAD_OR_CHMOD.test(value)) {
      const lower = value.toLowerCase();
      if (lower.includes('curl ') || lower.includes('wget ') || lower.includes('invoke-webrequest'))
        this.downloadSeen = true;
      if (lower.includes('chmod +x') || /chmod\s{1,3}[0-7]?7[0-7][0-7]\b/.test(lower))
        this.chmodNode ??= node;
    }
    for (const hit of matchStringRules(value)) {
      let message = `String names ${hit.what}.`;
      let key = hit.what;
      if (
        hit.category === 'persistence' &&
        (typeof inWrite === 'boolean' ? inWrite : this.inFsWriteArgs(inWrite))
      ) {
        message = `An fs write call targets ${hit.what} (persistence).`;
        key = `${hit.what}:write`;
      }
      this.threat(hit.category, hit.severity, message, node, key);
    }
  }

  /** Host, path and `token …` header seen apart (`{ hostname: 'api.github.com', path: '/user/repos' }`). */
  private github(value: string, node: Node): void {
    const v = value.toLowerCase();
    if (v.includes('api.github.com')) this.githubParts.add('api');
    if (
      v === '/user/repos' ||
      /^\/orgs\/[^/]{1,100}\/repos$/.test(v) ||
      v.endsWith('api.github.com/user/repos')
    )
      this.githubParts.add('repos');
    if (v.startsWith('token ')) this.githubParts.add('token');
    this.githubNode ??= node;
  }

  private inFsWriteArgs(ancestors: readonly Node[]): boolean {
    for (let i = ancestors.length - 2, k = 0; i >= 0 && k < 6; i--, k++) {
      const a = ancestors[i];
      if (!a) break;
      if (a.type === 'CallExpression' && this.fsCall(a, FS_WRITE_FUNCTIONS)) return true;
      if (
        a.type.startsWith('Function') ||
        a.type === 'ArrowFunctionExpression' ||
        a.type.endsWith('Statement')
      )
        return false;
    }
    return false;
  }

  /** True when `call` is an fs function of `set` (`fs.writeFileSync`, a destructured import, `require('fs').x`). */
  private fsCall(call: acorn.CallExpression, set: ReadonlySet<string>): boolean {
    const callee = call.callee as Node;
    if (callee.type === 'Identifier') {
      const imported = this.fsFunctions.get(callee.name);
      return imported !== undefined && set.has(imported);
    }
    if (callee.type !== 'MemberExpression') return false;
    const name = calleeName(callee);
    if (name === null || !set.has(name)) return false;
    return this.isFsObject(callee.object as Node);
  }

  private isFsObject(obj: Node): boolean {
    if (obj.type === 'Identifier') {
      const n = obj.name;
      const l = n.toLowerCase();
      return (
        this.fsNames.has(n) ||
        l === 'fs' ||
        l.startsWith('fs') ||
        l.endsWith('fs') ||
        l === 'promises' ||
        l === 'fsextra'
      );
    }
    if (obj.type === 'MemberExpression') {
      return calleeName(obj) === 'promises' && this.isFsObject(obj.object as Node);
    }
    if (obj.type === 'CallExpression' && calleeName(obj.callee as Node) === 'require') {
      const spec = literalString(obj.arguments[0] as Node | undefined);
      return spec !== null && FS_MODULES.has(moduleKey(spec));
    }
    if (obj.type === 'AwaitExpression') return this.isFsObject(obj.argument as Node);
    if (obj.type === 'ImportExpression') {
      const spec = literalString(obj.source as Node);
      return spec !== null && FS_MODULES.has(moduleKey(spec));
    }
    return false;
  }

  /** A static module reference: capabilities, relative imports. */
  module(spec: string, node: Node): void {
    if (spec.endsWith('.node')) this.cap('native-binary', `Loads a native addon (${spec}).`, node);
    if (spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..') {
      if (!this.imports.includes(spec)) this.imports.push(spec);
      return;
    }
    const key = moduleKey(spec);
    if (NETWORK_MODULES.has(key)) this.cap('network', `Imports the network module '${key}'.`, node);
    if (CHILD_PROCESS_MODULES.has(key))
      this.cap('child-process', `Imports '${key}', which runs other programs.`, node);
  }

  /** Records names bound to fs modules or fs functions by `const x = require('fs')` and friends. */
  bind(id: Node, spec: string): void {
    if (!FS_MODULES.has(moduleKey(spec))) return;
    if (id.type === 'Identifier') this.fsNames.add(id.name);
    if (id.type === 'ObjectPattern') {
      for (const p of id.properties) {
        if (p.type !== 'Property') continue;
        const key = p.key as Node;
        const imported = key.type === 'Identifier' && !p.computed ? key.name : literalString(key);
        if (p.value.type === 'Identifier' && imported !== null) this.fsFunctions.set(p.value.name, imported);
      }
    }
  }

  visit(node: Node, ancestors: Node[]): void {
    const parent = ancestors[ancestors.length - 2];
    switch (node.type) {
      case 'Literal':
        if (typeof node.value === 'string') this.strings(node.value, node, ancestors);
        else if (node.regex) this.regexLiteral(node.regex.pattern, node);
        break;
      case 'TemplateLiteral': {
        const v = fold(node, true);
        if (v !== null) this.strings(v, node, ancestors);
        break;
      }
      case 'BinaryExpression':
        if (node.operator === '+' && !(parent?.type === 'BinaryExpression' && parent.operator === '+')) {
          const v = fold(node, true);
          if (v !== null && v !== PLACEHOLDER) this.strings(v, node, ancestors);
        }
        break;
      case 'Identifier':
        if (node.name.startsWith('_0x') && OBFUSCATED_IDENTIFIER.test(node.name)) {
          this.obfuscatedIds.add(node.name);
          if (!this.obfuscatedFirst || node.start < this.obfuscatedFirst.start) this.obfuscatedFirst = node;
        } else if (
          node.name.length >= 11 &&
          this.mayNameLevenshtein() &&
          node.name.toLowerCase().includes('levenshtein')
        ) {
          this.tagWallet('levenshtein', node);
        }
        break;
      case 'ImportDeclaration':
      case 'ExportAllDeclaration':
      case 'ExportNamedDeclaration': {
        const spec = literalString(node.source as Node | null);
        if (spec === null) break;
        this.module(spec, node);
        if (node.type === 'ImportDeclaration' && FS_MODULES.has(moduleKey(spec))) {
          for (const s of node.specifiers) {
            if (s.type === 'ImportSpecifier') {
              const imported = s.imported.type === 'Identifier' ? s.imported.name : String(s.imported.value);
              this.fsFunctions.set(s.local.name, imported);
            } else this.fsNames.add(s.local.name);
          }
        }
        break;
      }
      case 'ImportExpression': {
        const spec = literalString(node.source as Node);
        if (spec !== null) this.module(spec, node);
        else this.cap('dynamic-require', 'Calls import() with a computed module name.', node);
        break;
      }
      case 'VariableDeclarator':
        if (node.init) {
          let init = node.init as Node;
          if (init.type === 'AwaitExpression') init = init.argument as Node;
          if (init.type === 'CallExpression' && calleeName(init.callee as Node) === 'require') {
            const spec = literalString(init.arguments[0] as Node | undefined);
            if (spec !== null) this.bind(node.id as Node, spec);
          } else if (init.type === 'ImportExpression') {
            const spec = literalString(init.source as Node);
            if (spec !== null) this.bind(node.id as Node, spec);
          }
          if (node.id.type === 'Identifier' && this.mayDecode(init) && containsDecode(init)) {
            this.decodedNames.add(node.id.name);
            const text = decodedLiteral(init);
            if (text !== null) this.decodedTexts.set(node.id.name, text);
          }
        }
        break;
      case 'MemberExpression':
        this.member(node, parent);
        break;
      case 'Property': {
        // `{ host: '45.9.148.3' }` in request options: a raw address, as in a URL.
        const key = node.key as Node;
        const keyName = key.type === 'Identifier' && !node.computed ? key.name : literalString(key);
        if (keyName === 'host' || keyName === 'hostname')
          this.rawIpHost(literalString(node.value as Node), node);
        break;
      }
      case 'AssignmentExpression': {
        const d = node.left.type === 'MemberExpression' ? dottedName(node.left as Node) : null;
        if (d === 'window.fetch' || d === 'globalThis.fetch' || d === 'self.fetch' || d === 'global.fetch')
          this.tagWallet('fetch-override', node);
        if (
          d === 'XMLHttpRequest.prototype.open' ||
          d === 'XMLHttpRequest.prototype.send' ||
          d === 'window.XMLHttpRequest.prototype.open' ||
          d === 'window.XMLHttpRequest.prototype.send'
        ) {
          this.tagWallet('xhr-override', node);
        }
        break;
      }
      case 'NewExpression':
        this.newExpression(node);
        break;
      case 'CallExpression':
        this.call(node, ancestors);
        break;
      default:
        break;
    }
  }

  /** Notes self-calls and calls with the home directory, for the recursive home-writer rule. */
  private noteFunctionCall(
    callee: Node,
    name: string,
    arg0: Node | undefined,
    ancestors: Node[],
    node: Node,
  ): void {
    if (callee.type !== 'Identifier') return;
    if (arg0 && isHomeExpression(arg0)) this.homeCalls.push({ name, node });
    if (enclosingFunctionName(ancestors) === name) this.recursiveFunctions.add(name);
  }

  private rawIpHost(host: string | null, node: Node): void {
    const m = host === null ? null : /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
    if (m && isPublicIpv4(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])))
      this.threat(
        'exfiltration',
        'medium',
        `Connects to a raw public IP address (${host}).`,
        node,
        'raw-ip-host',
      );
  }

  private tagWallet(tag: string, node: Node): void {
    const prev = this.walletTags.get(tag);
    if (!prev || node.start < prev.start) this.walletTags.set(tag, node);
  }

  private regexLiteral(pattern: string, node: Node): void {
    const p = pattern.toLowerCase();
    if (ADDRESS_REGEX_HINTS.some((h) => p.includes(h))) this.tagWallet('address-regex', node);
  }

  private member(node: acorn.MemberExpression, parent: Node | undefined): void {
    const obj = node.object as Node;
    if (obj.type === 'Identifier' && obj.name === 'process') {
      const prop = calleeName(node);
      if (prop === 'env') {
        this.cap('env-read', 'Reads environment variables (process.env).', node);
        if (!(parent?.type === 'MemberExpression' && parent.object === node)) this.envSerialise(node);
      } else if (prop === 'dlopen') {
        this.cap('native-binary', 'Loads a native library with process.dlopen.', node);
      }
    }
    if (isProcessEnv(obj) && calleeName(node) === 'NPM_TOKEN') {
      this.threat(
        'self-propagation',
        'medium',
        'Reads the NPM_TOKEN environment variable (npm publishing token).',
        node,
        'npm publishing or npm token use',
      );
    }
  }

  /** `process.env` reaching a serialising or sending call through objects, arrays and Object.entries. */
  private envSerialise(env: Node): void {
    // The walk gives ancestors only to the visited node; re-walking is avoided by checking the recorded chain.
    const chain = this.currentAncestors;
    let child: Node = env;
    for (let i = chain.length - 2, k = 0; i >= 0 && k < 6; i--, k++) {
      const a = chain[i];
      if (!a) return;
      switch (a.type) {
        case 'SpreadElement':
          return;
        case 'ObjectExpression':
        case 'ArrayExpression':
        case 'AwaitExpression':
          break;
        case 'Property':
          if (a.value !== child) return;
          break;
        case 'CallExpression':
        case 'NewExpression': {
          if (a.callee === child) return;
          const name = calleeName(a.callee as Node);
          if (name !== null && ENV_SINKS.has(name)) {
            this.threat(
              'env-serialise',
              'medium',
              `Serialises or sends the whole environment (process.env passed to ${name}).`,
              a,
            );
            return;
          }
          if (name === null || !ENV_PASS_THROUGH.has(name)) return;
          break;
        }
        default:
          return;
      }
      child = a;
    }
  }

  currentAncestors: Node[] = [];

  private newExpression(node: acorn.NewExpression): void {
    const callee = node.callee as Node;
    const name = calleeName(callee);
    const d = dottedName(callee);
    if (
      callee.type === 'Identifier' &&
      (name === 'XMLHttpRequest' || name === 'WebSocket' || name === 'EventSource')
    ) {
      this.cap('network', `Opens network connections (new ${name}).`, node);
    }
    if (name === 'Function' && (callee.type === 'Identifier' || d === 'globalThis.Function'))
      this.evalCall(node, 'new Function()');
    if (d === 'vm.Script') this.evalCall(node, 'new vm.Script()');
    if (d === 'net.Socket' || d === 'tls.TLSSocket' || (callee.type === 'Identifier' && name === 'Socket'))
      this.socketNode ??= node;
  }

  private evalCall(node: acorn.CallExpression | acorn.NewExpression, what: string): void {
    this.cap('eval', `Evaluates code at run time (${what}).`, node);
    if (
      node.arguments.some(
        (a) =>
          (this.mayDecode(a as Node) && containsDecode(a as Node)) ||
          (a.type === 'Identifier' && this.decodedNames.has(a.name)),
      )
    ) {
      // See through one layer: the decoded payload is judged by the string rules, at the eval's position.
      for (const a of node.arguments) {
        const payload =
          a.type === 'Identifier' ? (this.decodedTexts.get(a.name) ?? null) : decodedLiteral(a as Node);
        if (payload !== null) this.strings(payload, node, false);
      }
      this.obfuscationKinds.add('decode-eval');
      this.threat(
        'obfuscation',
        'high',
        `Evaluates decoded data (${what} of base64, hex or char codes).`,
        node,
        'decode-eval',
      );
    }
  }

  private call(node: acorn.CallExpression, ancestors: Node[]): void {
    let callee = node.callee as Node;
    // `(0, eval)(x)` is an indirect eval.
    if (callee.type === 'SequenceExpression')
      callee = (callee.expressions[callee.expressions.length - 1] ?? callee) as Node;
    const name = calleeName(callee);
    if (name === null) return;
    const d = callee.type === 'MemberExpression' ? dottedName(callee) : name;
    const arg0 = node.arguments[0] as Node | undefined;

    if (callee.type === 'Identifier' && name === 'require') {
      const spec = literalString(arg0);
      if (spec !== null) this.module(spec, node);
      else if (arg0) {
        this.cap('dynamic-require', 'Calls require() with a computed module name.', node);
        const hidden = joinedLiteral(arg0) ?? fold(arg0, false);
        if (hidden !== null && HIDEABLE_MODULES.has(hidden.replace(/^node:/, ''))) {
          this.module(hidden, node);
          this.threat(
            'obfuscation',
            'medium',
            `Hides the name of the '${hidden}' module behind a computed string.`,
            node,
            'hidden-module',
          );
        }
      }
      return;
    }
    this.noteFunctionCall(callee, name, arg0, ancestors, node);
    if (
      name === 'fetch' &&
      (callee.type === 'Identifier' ||
        d === 'globalThis.fetch' ||
        d === 'window.fetch' ||
        d === 'self.fetch' ||
        d === 'global.fetch')
    ) {
      this.cap('network', 'Calls fetch().', node);
    }
    if (callee.type === 'Identifier' && name === 'eval') this.evalCall(node, 'eval()');
    else if (d === 'globalThis.eval' || d === 'window.eval' || d === 'global.eval')
      this.evalCall(node, 'eval()');
    if (callee.type === 'Identifier' && name === 'Function') this.evalCall(node, 'Function()');
    if (
      callee.type === 'MemberExpression' &&
      (name.startsWith('runIn') || name === 'compileFunction') &&
      d?.startsWith('vm.')
    )
      this.evalCall(node, `vm.${name}`);
    if (d === 'Bun.spawn' || d === 'Bun.spawnSync') this.cap('child-process', `Runs programs (${d}).`, node);
    if (d === 'process.dlopen')
      this.cap('native-binary', 'Loads a native library with process.dlopen.', node);

    if (
      callee.type === 'MemberExpression' &&
      name === 'request' &&
      (d?.endsWith('ethereum.request') ?? false) &&
      arg0?.type === 'ObjectExpression'
    ) {
      for (const p of arg0.properties) {
        if (p.type !== 'Property') continue;
        const m = literalString(p.value as Node);
        if (
          m !== null &&
          (m === 'eth_sendTransaction' ||
            m.startsWith('eth_signTypedData') ||
            m === 'eth_sign' ||
            m === 'personal_sign')
        ) {
          this.tagWallet('eth-request', node);
        }
      }
    }

    if (d === 'String.fromCharCode' && node.arguments.length > 0) {
      // Char codes written out as numbers: decode them and judge the text like any string.
      const codes = node.arguments.map((a) =>
        a.type === 'Literal' && typeof a.value === 'number' ? a.value : NaN,
      );
      if (codes.every((c) => Number.isInteger(c) && c >= 0 && c <= 0xffff))
        this.strings(String.fromCharCode(...codes.slice(0, 65_536)), node, false);
    }
    if (d !== null && (d.endsWith('clipboard.writeText') || d.endsWith('clipboard.write')))
      this.tagWallet('clipboard-write', node);
    if (d === 'net.connect' || d === 'net.createConnection' || d === 'tls.connect') this.socketNode ??= node;
    if (name === 'connect' && callee.type === 'MemberExpression')
      for (const a of node.arguments.slice(0, 2)) this.rawIpHost(literalString(a as Node), node);

    if (COMMAND_FUNCTIONS.has(name) || d === 'Bun.spawn' || d === 'Bun.spawnSync') {
      this.command(node);
      const program = literalString(arg0);
      if (program !== null && SHELLS.has(program.trim())) {
        const args = node.arguments[1] as Node | undefined;
        const argList =
          args?.type === 'ArrayExpression'
            ? args.elements.map((e) => (e ? literalString(e as Node) : null))
            : [];
        if (argList.length === 0 || argList.includes('-i')) this.shellSpawn ??= node;
      }
    }

    if (this.fsCall(node, FS_WRITE_FUNCTIONS)) {
      this.cap('fs-write', `Writes to the file system (${name}).`, node);
      const fn = enclosingFunctionName(ancestors);
      if (fn !== null) this.writingFunctions.add(fn);
      const target = arg0 ? fold(arg0, true) : null;
      if (target !== null) {
        this.strings(target, node, true);
        const t = target.replace(/\\/g, '/');
        if (
          (t === 'package.json' || t.endsWith('/package.json')) &&
          (name.startsWith('write') || name.startsWith('output'))
        ) {
          this.packageJsonWrite ??= node;
        }
      }
      if (name.startsWith('chmod')) {
        const mode = node.arguments[1] as Node | undefined;
        const m = mode?.type === 'Literal' ? mode.value : null;
        const bits = typeof m === 'number' ? m : typeof m === 'string' ? parseInt(m, 8) : NaN;
        if (!Number.isNaN(bits) && (bits & 0o111) !== 0) this.chmodNode ??= node;
      }
      if (
        FS_REMOVE_FUNCTIONS.has(name) &&
        arg0 &&
        (isHomeExpression(arg0) || literalString(arg0) === '/' || literalString(arg0) === '~')
      ) {
        this.threat(
          'destructive',
          'high',
          `Deletes the home or root directory (${name}).`,
          node,
          'fs-remove-home',
        );
      }
    }
    if (arg0 && this.fsCall(node, FS_READ_FUNCTIONS)) {
      const target = fold(arg0, true);
      if (target !== null && /(?:^|[/\\])\.env(?:\.[A-Za-z]{1,20})?$/.test(target)) {
        this.threat(
          'credential-read',
          'medium',
          'Reads a .env file, which usually holds secrets.',
          node,
          '.env',
        );
      }
    }
    if (callee.type === 'MemberExpression' && DNS_QUERY_FUNCTIONS.has(name) && arg0 && /dns/i.test(d ?? ''))
      this.dnsQuery(node, arg0);
    if ((name === 'join' || name === 'resolve') && node.arguments.length > 0) {
      const parent = ancestors[ancestors.length - 2];
      const nested =
        parent?.type === 'CallExpression' &&
        node !== parent.callee &&
        ['join', 'resolve'].includes(calleeName(parent.callee as Node) ?? '');
      if (!nested) {
        const v = fold(node, true);
        if (v !== null && v !== PLACEHOLDER) this.strings(v, node, ancestors);
      }
    }
  }

  private command(node: acorn.CallExpression): void {
    const parts: string[] = [];
    for (const a of node.arguments.slice(0, 2)) {
      const arg = a as Node;
      if (arg.type === 'ArrayExpression') {
        for (const e of arg.elements)
          parts.push(e && e.type !== 'SpreadElement' ? (fold(e as Node, true) ?? PLACEHOLDER) : PLACEHOLDER);
      } else if (arg.type !== 'ObjectExpression') {
        parts.push(fold(arg, true) ?? PLACEHOLDER);
      }
    }
    const line = parts.join(' ');
    if (line.replace(/[*\s]/g, '').length > 0) this.strings(line, node, false);
  }

  private dnsQuery(node: acorn.CallExpression, arg: Node): void {
    let dynamic = false;
    let suffix: string | null = null;
    if (arg.type === 'TemplateLiteral' && arg.expressions.length > 0) {
      dynamic = true;
      suffix = arg.quasis[arg.quasis.length - 1]?.value.cooked ?? null;
    } else if (arg.type === 'BinaryExpression' && arg.operator === '+') {
      suffix = literalString(arg.right as Node);
      dynamic = fold(arg.left as Node, false) === null;
    }
    if (dynamic && suffix !== null && /^\.?[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,6}\.?$/i.test(suffix)) {
      this.threat(
        'exfiltration',
        'medium',
        'Sends data in DNS query names (a data-carrying hostname under a fixed domain).',
        node,
        'dns-tunnel',
      );
    }
  }

  /** File-level rules that need the whole walk: obfuscated identifiers, wallet-drainer and download+chmod+exec. */
  finish(): void {
    if (this.obfuscatedIds.size >= MIN_OBFUSCATED_IDENTIFIERS && this.obfuscatedFirst) {
      this.obfuscationKinds.add('identifiers');
      this.threat(
        'obfuscation',
        'medium',
        `Uses ${this.obfuscatedIds.size} obfuscator-style identifiers (_0x…).`,
        this.obfuscatedFirst,
        'identifiers',
      );
    }
    for (const call of this.homeCalls) {
      if (this.recursiveFunctions.has(call.name) && this.writingFunctions.has(call.name)) {
        this.threat(
          'destructive',
          'high',
          `Runs ${call.name}(), which walks directories recursively writing or deleting files, over the home directory.`,
          call.node,
          'recursive-home-writer',
        );
        break;
      }
    }
    if (this.shellSpawn && this.socketNode) {
      this.threat(
        'reverse-shell',
        'high',
        'Starts an interactive shell in a file that opens raw TCP sockets (a reverse shell).',
        this.shellSpawn,
        'reverse-shell',
      );
    }
    const tags = [...this.walletTags.entries()];
    if (tags.length >= 2) {
      const first = tags.reduce((a, b) => (b[1].start < a[1].start ? b : a));
      const list = tags.map(([t]) => WALLET_TAG_TEXT[t] ?? t).join(', ');
      this.threat(
        'wallet-drainer',
        'high',
        `Combines wallet-drainer techniques: ${list}.`,
        first[1],
        'wallet',
      );
    }
    // Build tools write package.json files all the time; with npm publishing or token use in the same file it
    // is the worm step of bumping the version before republishing.
    if (this.packageJsonWrite && this.out.signalsOf('self-propagation').length > 0) {
      this.threat(
        'self-propagation',
        'medium',
        'Rewrites a package.json in a file that also publishes or uses npm tokens.',
        this.packageJsonWrite,
        'package.json rewrite',
      );
    }
    // CLI names and their flags kept apart in tables (`{ claude: ['--dangerously-skip-permissions'] }`) and
    // spawned in a loop: the same file names an AI CLI, a bypass flag and runs programs.
    if (this.aiFlagNode && this.aiCliSeen && this.out.has('cap:child-process')) {
      this.threat(
        'ai-cli-abuse',
        'high',
        'Runs programs and names an AI coding CLI and a permission-bypass flag.',
        this.aiFlagNode,
        'an AI coding CLI run with its permission checks bypassed',
      );
    }
    if (this.githubParts.size === 3 && this.githubNode) {
      this.threat(
        'exfiltration',
        'medium',
        'Creates GitHub repositories with a token (api.github.com + /repos + Authorization: token).',
        this.githubNode,
        'github-repos-token',
      );
    }
    if (this.chmodNode && this.downloadSeen && this.out.has('cap:child-process')) {
      this.threat(
        'download-exec',
        'high',
        'Downloads a program, makes it executable (chmod +x) and runs it.',
        this.chmodNode,
        'download-chmod-exec',
      );
    }
  }

  /** Adds text-level obfuscation hits and raises obfuscation to high when several kinds co-occur. */
  textRules(): void {
    for (const hit of scanTextObfuscation(this.text)) {
      this.obfuscationKinds.add(hit.what.includes('off-screen') ? 'offscreen' : 'long-line');
      const offset = lineOffset(this.text, hit.line) + hit.column - 1;
      this.out.add(
        `threat:obfuscation:${hit.what.includes('off-screen') ? 'offscreen' : 'long-line'}`,
        threat('obfuscation', 'medium', `Contains ${hit.what}.`),
        offset,
        hit.line,
        hit.column,
      );
    }
    if (this.obfuscationKinds.size >= 2)
      for (const s of this.out.signalsOf('obfuscation')) s.severity = 'high';
  }
}

function lineOffset(text: string, line: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const i = text.indexOf('\n', off);
    if (i < 0) return off;
    off = i + 1;
  }
  return off;
}
