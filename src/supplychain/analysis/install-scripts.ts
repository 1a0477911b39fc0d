/**
 * Install scripts: what a package runs when it is installed. npm runs `preinstall`, `install` and
 * `postinstall` for every installed package; `prepare` runs only when the package is installed from git (or
 * is the project itself), so it is analysed only with `{ gitDependency: true }`. A package with a
 * `binding.gyp` and neither `install` nor `preinstall` gets an implicit `install: node-gyp rebuild` (unless
 * its manifest says `gypfile: false`).
 *
 * Every script present is a capability (info). A script counts as allowlisted when each of its simple
 * commands is in `INSTALL_SCRIPT_ALLOWLIST` or is `node <file>` (the file is returned in `entryFiles` for the
 * code analyser); otherwise `preinstall` is a high threat and `install`/`postinstall` a medium one.
 * Download-and-run (`curl … | sh`, `wget`), destructive (`rm -rf ~`) and decoding (`base64 -d`) commands are
 * high threats in any install script.
 */
import { posix } from 'node:path';
import type { Signal } from '../npm-types.js';
import { findAllowlisted } from './install-allowlist.js';
import { splitShellCommand, type ShellSegment } from './install-shell.js';
import { jsonKeyLines, lineOf, metaSignal, oneLine, stringMap } from './meta-signal.js';

/** Options of `analyseInstallScripts`. */
export interface InstallScriptOptions {
  /** The package has a `binding.gyp` at its root (implicit `node-gyp rebuild`). */
  hasBindingGyp?: boolean;
  /** The package is installed from git, so npm also runs `prepare`. */
  gitDependency?: boolean;
  /** The package's file paths; when given, entry files are resolved against them (`x` → `x.js`). */
  files?: Iterable<string>;
}

/** Inline code from `node -e "<code>"`, to be analysed as if it were a file. */
export interface InlineCode {
  /** `package.json#scripts.postinstall`, with `[2]`, `[3]` … for further pieces in the same script. */
  name: string;
  code: string;
}

/** What `analyseInstallScripts` found. */
export interface InstallScriptResult {
  signals: Signal[];
  /** Package-relative files that install scripts run with `node`, sorted, without duplicates. */
  entryFiles: string[];
  inlineCode: InlineCode[];
}

const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall'] as const;
const TRY_REQUIRE =
  /^\s*(?:try\s*\{\s*)?require\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)\s*;?\s*(?:\}\s*catch\s*(?:\(\s*\w*\s*\))?\s*\{\s*\}\s*;?\s*)?$/;
const NODE_CODE_FLAGS = new Set(['-e', '--eval', '-p', '--print']);
const NODE_MODULE_FLAGS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);
const MAX_NPM_RUN_DEPTH = 4;

/**
 * Analyses the install-time scripts of a manifest.
 * @example analyseInstallScripts({ scripts: { preinstall: 'curl http://x | sh' } }).signals // install-script, preinstall-script, download-exec
 */
export function analyseInstallScripts(
  manifest: Record<string, unknown>,
  manifestText?: string,
  options: InstallScriptOptions = {},
): InstallScriptResult {
  const scripts = stringMap(manifest, 'scripts');
  const keyLines = manifestText === undefined ? null : jsonKeyLines(manifestText);
  const files = options.files === undefined ? null : new Set(options.files);
  const signals: Signal[] = [];
  const entryFiles = new Set<string>();
  const inlineCode: InlineCode[] = [];

  const hooks: string[] = [...INSTALL_HOOKS];
  if (options.gitDependency === true) hooks.push('prepare');
  for (const hook of hooks) {
    const command = scripts.get(hook);
    if (command === undefined) continue;
    const line = lineOf(keyLines, ['scripts', hook]);
    signals.push(
      metaSignal({
        ruleId: 'npm.capability.install-script',
        kind: 'capability',
        category: 'install-script',
        severity: 'info',
        message: `The package runs its "${hook}" script when installed.`,
        line,
        snippet: `${hook}: ${command}`,
      }),
    );
    const analysis = analyseCommand(command, scripts, files, 0, new Set([hook]));
    for (const f of analysis.entryFiles) entryFiles.add(f);
    analysis.inline.forEach((code, n) => {
      inlineCode.push({ name: `package.json#scripts.${hook}${n === 0 ? '' : `[${n + 1}]`}`, code });
    });
    if (analysis.unknown.length > 0 && hook !== 'prepare') {
      const listed = analysis.unknown.map((c) => `\`${oneLine(c, 60)}\``).join(', ');
      signals.push(
        hook === 'preinstall'
          ? metaSignal({
              ruleId: 'npm.threat.preinstall-script',
              kind: 'threat',
              category: 'install-hook',
              severity: 'high',
              message: `The "preinstall" script runs commands outside the benign-install allowlist before anything else is installed: ${listed}.`,
              line,
              snippet: command,
            })
          : metaSignal({
              ruleId: 'npm.threat.install-script',
              kind: 'threat',
              category: 'install-hook',
              severity: 'medium',
              message: `The "${hook}" script runs commands outside the benign-install allowlist: ${listed}.`,
              line,
              snippet: command,
            }),
      );
    }
    signals.push(...patternSignals(hook, analysis.text, line));
  }

  const gyp = manifest['gypfile'];
  if (
    options.hasBindingGyp === true &&
    !scripts.has('install') &&
    !scripts.has('preinstall') &&
    gyp !== false
  ) {
    signals.push(
      metaSignal({
        ruleId: 'npm.capability.install-script',
        kind: 'capability',
        category: 'install-script',
        severity: 'info',
        message:
          'The package has a binding.gyp and no install script, so npm runs `node-gyp rebuild` when installing it.',
        file: 'binding.gyp',
        snippet: 'install: node-gyp rebuild (implicit)',
      }),
    );
  }
  return { signals, entryFiles: [...entryFiles].sort(), inlineCode };
}

interface CommandAnalysis {
  /** Simple commands that are neither allowlisted nor `node <file>`. */
  unknown: string[];
  entryFiles: string[];
  inline: string[];
  /** The command with the scripts it runs through `npm run` appended, for the pattern checks. */
  text: string;
}

function analyseCommand(
  command: string,
  scripts: Map<string, string>,
  files: Set<string> | null,
  depth: number,
  seen: Set<string>,
): CommandAnalysis {
  const out: CommandAnalysis = { unknown: [], entryFiles: [], inline: [], text: command };
  for (const segment of splitShellCommand(command)) {
    const words = stripPrefixes(segment.words);
    const shown = segment.words.join(' ') || '(redirection)';
    if (segment.complex || !harmlessRedirects(segment)) {
      out.unknown.push(shown);
      continue;
    }
    if (words[0] === 'node' || words[0] === 'nodejs') {
      const node = parseNodeCommand(words.slice(1));
      for (const spec of node.modules) pushEntry(out.entryFiles, spec, files);
      if (node.code !== null) {
        const required = TRY_REQUIRE.exec(node.code);
        if (required?.[2] !== undefined) {
          pushEntry(out.entryFiles, required[2], files);
        } else {
          out.inline.push(node.code);
          out.unknown.push(shown);
        }
      } else if (node.file !== null) {
        pushEntry(out.entryFiles, node.file, files);
      } else if (node.modules.length === 0) {
        out.unknown.push(shown); // bare `node` runs what arrives on stdin
      }
      continue;
    }
    const run = npmRunTarget(words);
    if (run !== null) {
      const target = scripts.get(run);
      if (target === undefined) continue; // npm fails: nothing runs
      if (seen.has(run) || depth >= MAX_NPM_RUN_DEPTH) {
        out.unknown.push(shown);
        continue;
      }
      const inner = analyseCommand(target, scripts, files, depth + 1, new Set([...seen, run]));
      out.unknown.push(...inner.unknown);
      out.entryFiles.push(...inner.entryFiles);
      out.inline.push(...inner.inline);
      out.text += `\n${inner.text}`;
      continue;
    }
    if (findAllowlisted(words) === null) out.unknown.push(shown);
  }
  return out;
}

/** Drops `VAR=value` prefixes and an `npx` prefix with its flags. */
function stripPrefixes(words: readonly string[]): string[] {
  let i = 0;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] as string)) i++;
  let rest = words.slice(i);
  if (rest[0] === 'npx') {
    rest = rest.slice(1);
    while (rest[0]?.startsWith('-') === true) rest = rest.slice(1);
  }
  return rest;
}

function harmlessRedirects(segment: ShellSegment): boolean {
  return segment.redirects.every(
    (r) => r.target === '/dev/null' || /^[0-9-]$/.test(r.target) || r.op === '<',
  );
}

function npmRunTarget(words: readonly string[]): string | null {
  if (words[0] === 'npm' && (words[1] === 'run' || words[1] === 'run-script') && words.length === 3)
    return words[2] ?? null;
  return null;
}

function parseNodeCommand(args: readonly string[]): {
  file: string | null;
  code: string | null;
  modules: string[];
} {
  const modules: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inlineValue] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    if (NODE_CODE_FLAGS.has(flag)) return { file: null, code: inlineValue ?? args[i + 1] ?? '', modules };
    if (NODE_MODULE_FLAGS.has(flag)) {
      const value = inlineValue ?? args[++i];
      if (value?.startsWith('.') === true) modules.push(value);
      continue;
    }
    if (arg.startsWith('-')) continue;
    return { file: arg, code: null, modules };
  }
  return { file: null, code: null, modules };
}

/** Resolves a `node` argument against the package root; paths leaving the package are dropped. */
function pushEntry(out: string[], spec: string, files: Set<string> | null): void {
  const normal = posix.normalize(spec.replace(/\\/g, '/'));
  if (normal.startsWith('../') || normal === '..' || normal.startsWith('/')) return;
  const base = normal.replace(/^\.\//, '').replace(/\/$/, '');
  if (files === null) {
    out.push(/\.[cm]?js$/.test(base) ? base : `${base}.js`);
    return;
  }
  const found = [base, `${base}.js`, `${base}.cjs`, `${base}.mjs`, `${base}/index.js`].find((c) =>
    files.has(c),
  );
  if (found !== undefined) out.push(found);
}

// A downloader in command position (after a separator, a quote or `$(`), so `node curl-helper.js` is not one.
const DOWNLOAD =
  /(?<=^|[\s;&|(`'"])(?:curl|wget|Invoke-WebRequest|Invoke-RestMethod|iwr|irm|bitsadmin)(?=$|[\s;&|)`'"])|\.Download(?:String|File)\b|\bcertutil\b[^\n]*-urlcache/i;
const PIPE_TO_SHELL = /(?<!\|)\|(?!\|)\s*(?:sudo\s+)?(?:sh|bash|zsh|dash|ksh|node|python3?|perl|ruby|iex)\b/i;
const DESTRUCTIVE =
  /\b(?:rm\s+(?:-[a-zA-Z]+\s+|--[a-z-]+\s+)*(?:-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)\s+(?:-[a-zA-Z]+\s+|--[a-z-]+\s+)*|rimraf\s+)["']?(?:~|\$HOME|\$\{HOME\}|\/|\/\*|[A-Za-z]:\\)["']?\/?\*?(?=$|[\s;&|"'])/;
const DECODE =
  /\bbase64\s+(?:-[a-zA-Z]*d\b|--decode\b)|\b(?:powershell|pwsh)(?:\.exe)?\b[^\n]*\s-(?:e|en|enc|encodedcommand)\s/i;

function patternSignals(hook: string, text: string, line: number | null): Signal[] {
  const out: Signal[] = [];
  const download = DOWNLOAD.exec(text);
  const pipe = PIPE_TO_SHELL.exec(text);
  if (download !== null || pipe !== null) {
    const what =
      download !== null && pipe !== null
        ? `downloads with \`${download[0].replace(/^\./, '')}\` and pipes into an interpreter`
        : download !== null
          ? `downloads with \`${download[0].replace(/^\./, '')}\``
          : 'pipes text into an interpreter';
    out.push(
      metaSignal({
        ruleId: 'npm.threat.download-exec',
        kind: 'threat',
        category: 'download-exec',
        severity: 'high',
        message: `The "${hook}" script ${what} at install time: code fetched from elsewhere, not the reviewed package, would run.`,
        line,
        snippet: text,
      }),
    );
  }
  if (DESTRUCTIVE.test(text)) {
    out.push(
      metaSignal({
        ruleId: 'npm.threat.destructive-command',
        kind: 'threat',
        category: 'destructive',
        severity: 'high',
        message: `The "${hook}" script deletes the home directory or the file-system root recursively.`,
        line,
        snippet: text,
      }),
    );
  }
  if (DECODE.test(text)) {
    out.push(
      metaSignal({
        ruleId: 'npm.threat.script-obfuscation',
        kind: 'threat',
        category: 'obfuscation',
        severity: 'high',
        message: `The "${hook}" script decodes hidden commands (base64 or an encoded PowerShell command) at install time.`,
        line,
        snippet: text,
      }),
    );
  }
  return out;
}
