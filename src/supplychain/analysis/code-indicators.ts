/**
 * The vocabulary the AST rules look for (module names, call names) and `mayHaveSignals`, the cheap pre-filter
 * built from the same tables as the rules: it answers false only when no rule could possibly fire.
 */
import { stringRuleIndicators } from './code-rules.js';
import { LONG_LINE, OFFSCREEN_RUN } from './code-text.js';

/** Modules (and `node:` built-ins without the prefix) that give network access. */
export const NETWORK_MODULES: ReadonlySet<string> = new Set([
  'http',
  'https',
  'net',
  'tls',
  'dgram',
  'dns',
  'http2',
  'undici',
  'axios',
  'node-fetch',
  'got',
  'ws',
  'request',
  'dns/promises',
]);
/** Modules that run other programs. */
export const CHILD_PROCESS_MODULES: ReadonlySet<string> = new Set(['child_process', 'execa', 'cross-spawn']);
/** Modules whose write functions count as fs writes. */
export const FS_MODULES: ReadonlySet<string> = new Set([
  'fs',
  'fs/promises',
  'fs-extra',
  'graceful-fs',
  'original-fs',
  'mz/fs',
]);
/** File-system functions that change the disk. */
export const FS_WRITE_FUNCTIONS: ReadonlySet<string> = new Set([
  'writeFile',
  'writeFileSync',
  'appendFile',
  'appendFileSync',
  'createWriteStream',
  'copyFile',
  'copyFileSync',
  'cp',
  'cpSync',
  'rename',
  'renameSync',
  'mkdir',
  'mkdirSync',
  'chmod',
  'chmodSync',
  'symlink',
  'symlinkSync',
  'unlink',
  'unlinkSync',
  'rm',
  'rmSync',
  'rmdir',
  'rmdirSync',
  'outputFile',
  'outputFileSync',
  'outputJson',
  'outputJsonSync',
  'writeJson',
  'writeJsonSync',
  'writeJSON',
  'writeJSONSync',
  'ensureDir',
  'ensureDirSync',
  'mkdirp',
  'mkdirs',
  'move',
  'moveSync',
  'copy',
  'copySync',
  'remove',
  'removeSync',
  'emptyDir',
  'emptyDirSync',
  'ensureFile',
  'ensureFileSync',
  'ensureSymlink',
]);
/** File-system functions that remove files (for the destructive rule). */
export const FS_REMOVE_FUNCTIONS: ReadonlySet<string> = new Set([
  'rm',
  'rmSync',
  'rmdir',
  'rmdirSync',
  'remove',
  'removeSync',
  'emptyDir',
  'emptyDirSync',
]);
/** File-system functions that read files (for `.env` reads). */
export const FS_READ_FUNCTIONS: ReadonlySet<string> = new Set([
  'readFile',
  'readFileSync',
  'createReadStream',
  'readJson',
  'readJsonSync',
  'readJSON',
  'readJSONSync',
]);
/** Calls whose first argument (and argument array) is a command line. */
export const COMMAND_FUNCTIONS: ReadonlySet<string> = new Set([
  'exec',
  'execSync',
  'spawn',
  'spawnSync',
  'execFile',
  'execFileSync',
  'fork',
  'execa',
  'execaSync',
  'execaCommand',
  'execaCommandSync',
  'crossSpawn',
]);
/** `dns` functions that send a query (DNS tunnelling when the name carries data). */
export const DNS_QUERY_FUNCTIONS: ReadonlySet<string> = new Set([
  'lookup',
  'resolve',
  'resolve4',
  'resolve6',
  'resolveTxt',
  'resolveAny',
  'resolveCname',
  'resolveMx',
  'resolveNs',
  'resolveSrv',
]);
/** Calls and constructors that send or encode data: `process.env` reaching one is serialised. */
export const ENV_SINKS: ReadonlySet<string> = new Set([
  'stringify',
  'send',
  'write',
  'end',
  'post',
  'put',
  'request',
  'fetch',
  'URLSearchParams',
  'encode',
  'btoa',
]);
/** Calls that pass `process.env` through to their result (`Object.entries(process.env)`). */
export const ENV_PASS_THROUGH: ReadonlySet<string> = new Set(['entries', 'keys', 'values', 'from', 'assign']);

/** Words of the AST rules (case-sensitive identifiers and names that must appear in the source). */
export const AST_INDICATORS: readonly string[] = [
  'require',
  'import',
  'process',
  'eval',
  'Function',
  'fetch',
  'XMLHttpRequest',
  'WebSocket',
  'Bun',
  'vm',
  '_0x',
  'ethereum',
  'prototype',
  'evenshtein',
  'dns',
  'exec',
  'spawn',
  'fork',
  'chmod',
  'Sync',
  'write',
  ...NETWORK_MODULES,
  ...CHILD_PROCESS_MODULES,
  ...FS_MODULES,
];

const STRING_INDICATORS: readonly string[] = [
  ...new Set(
    stringRuleIndicators().map((w) =>
      // A needle can be built from path parts, so keep its longest part between slashes.
      w.split('/').reduce((a, b) => (b.length > a.length ? b : a), ''),
    ),
  ),
].filter((w) => w.length > 0);

const LITERAL_CONCAT = /['"`]\s{0,20}\+\s{0,20}['"`]|\]\s{0,20}\.join\(/;
const WHITESPACE_RUN = new RegExp(`[ \\t]{${OFFSCREEN_RUN}}`);

function hasLongLine(text: string): boolean {
  if (text.length <= LONG_LINE) return false;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start > LONG_LINE) return true;
    start = end + 1;
  }
  return false;
}

/**
 * Cheap pre-filter: false only when the text contains none of the substrings any rule needs, so the caller can
 * skip parsing. A file that would fail to parse but has no indicator is skipped too (no `unparsed-code` note).
 * @example mayHaveSignals('module.exports = 1 + 2') // false
 */
export function mayHaveSignals(text: string): boolean {
  for (const w of AST_INDICATORS) if (text.includes(w)) return true;
  const lower = text.toLowerCase();
  for (const w of STRING_INDICATORS) if (lower.includes(w)) return true;
  // Literals concatenated or an array literal joined can spell any needle split mid-word ('.n' + 'pmrc',
  // ['.s', 'sh'].join('')); the rules fold both.
  if (LITERAL_CONCAT.test(text)) return true;
  if (hasLongLine(text)) return true;
  return WHITESPACE_RUN.test(text);
}
