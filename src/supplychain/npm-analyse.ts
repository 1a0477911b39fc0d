/**
 * Analyses one package: its install scripts, its JavaScript, its name and version, its manifest against the
 * lockfile or registry view, and the known-malicious feed; then scores the evidence (npm-score.ts).
 * Nothing here runs package code or touches the network.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { analyseJavaScript, mayHaveSignals } from './analysis/code-analyser.js';
import {
  analyseInstallScripts,
  checkVersionAndDeps,
  compareManifests,
  compareWithLock,
  type TyposquatChecker,
} from './analysis/meta-index.js';
import type { MaliciousFeed } from './feed/index.js';
import { duplicateManifestKeys, gypCommandExpansions } from './npm-manifest-checks.js';
import { scorePackage, type NpmFinding } from './npm-score.js';
import type {
  LockPackage,
  NpmSeverity,
  PackageContents,
  PackageFile,
  PackageOrigin,
  Signal,
} from './npm-types.js';

/** Extensions of files analysed as JavaScript (`.ts`/`.d.ts` and other languages are not run by npm). */
const JS_EXTENSIONS = ['.js', '.cjs', '.mjs', '.jsx'];
/** JavaScript files larger than this are not analysed (a note says so); the package readers refuse larger files anyway. */
export const MAX_JS_FILE_BYTES = 64 * 1024 * 1024;

/** The verdict on one package. */
export interface PackageVerdict {
  name: string;
  version: string;
  /** Where it was read from; `lockfile` when only the lockfile entry was seen (no code analysed). */
  origin: PackageOrigin | { kind: 'lockfile'; location: string };
  level: NpmSeverity | 'none';
  score: number;
  findings: NpmFinding[];
  /** Capabilities seen anywhere in the package, sorted. */
  capabilities: string[];
  stats: { files: number; jsFiles: number; jsAnalysed: number; unparsed: number; bytes: number };
  notes: string[];
}

/** What analysis needs besides the package: the shared, loaded-once checkers. */
export interface AnalyseContext {
  typosquat: TyposquatChecker;
  feed: MaliciousFeed;
}

/** Optional views of the same package to compare the tarball's manifest with. */
export interface PackageViews {
  lockEntry?: LockPackage;
  /** The manifest as the registry publishes it (packument version entry). */
  published?: Record<string, unknown>;
}

function decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isJavaScript(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot >= 0 && JS_EXTENSIONS.includes(path.slice(dot));
}

/** Resolves a relative require specifier against the requiring file, the way Node would find a file. */
function resolveImport(from: string, spec: string, files: ReadonlyMap<string, PackageFile>): string | null {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  if (base.startsWith('..')) return null;
  for (const candidate of [
    base,
    `${base}.js`,
    `${base}.cjs`,
    `${base}.mjs`,
    `${base}/index.js`,
    `${base}/index.cjs`,
    `${base}/index.mjs`,
  ]) {
    if (files.has(candidate)) return candidate;
  }
  return null;
}

/**
 * npm runs `node-gyp rebuild` for a package with a binding.gyp and no install script, and node-gyp runs the
 * file's `<!(command)` expansions: each is judged like an install script, with its binding.gyp line.
 */
function gypSignals(text: string): Signal[] {
  const out: Signal[] = [];
  for (const { command, line } of gypCommandExpansions(text)) {
    const judged = analyseInstallScripts({ scripts: { install: command } });
    for (const s of judged.signals) {
      if (s.kind === 'capability') continue;
      out.push({
        ...s,
        file: 'binding.gyp',
        line,
        snippet: command.slice(0, 160),
        message: `binding.gyp command expansion (run by node-gyp at install): ${s.message}`,
      });
    }
  }
  return out;
}

/** Known-malicious and name checks that need only a name and version. */
export function metadataSignals(name: string, version: string, ctx: AnalyseContext): Signal[] {
  const signals: Signal[] = [];
  const hit = ctx.feed.check(name, version);
  if (hit) signals.push(hit);
  const squat = ctx.typosquat.check(name);
  if (squat) signals.push(squat);
  return signals;
}

/**
 * Analyses a package read from a tarball, a directory or the registry.
 * @example
 * const verdict = analysePackage(readPackageDir('node_modules/chalk'), ctx);
 */
export function analysePackage(
  pkg: PackageContents,
  ctx: AnalyseContext,
  views: PackageViews = {},
): PackageVerdict {
  const notes = [...pkg.notes];
  const files = new Map(pkg.files.map((f) => [f.path, f]));
  const signals: Signal[] = [];
  const contentHashes = new Map<string, string>();
  const manifestFile = files.get('package.json');
  const manifestText = manifestFile ? decode(manifestFile.read()) : JSON.stringify(pkg.manifest);
  contentHashes.set('package.json', sha256(manifestText));

  // Install scripts: what runs when the package is installed, and which files that reaches.
  const install = analyseInstallScripts(pkg.manifest, manifestText, {
    hasBindingGyp: files.has('binding.gyp'),
  });
  signals.push(...install.signals);
  signals.push(...duplicateManifestKeys(manifestText));
  const gyp = files.get('binding.gyp');
  // The install-script analyser decides when npm runs `node-gyp rebuild` for it (no install/preinstall script,
  // `gypfile` not false): only then do the file's command expansions run at install.
  const implicitBuild = install.signals.some(
    (s) => s.category === 'install-script' && s.file === 'binding.gyp',
  );
  if (gyp && implicitBuild) signals.push(...gypSignals(decode(gyp.read())));

  // JavaScript.
  const importsByFile = new Map<string, string[]>();
  let jsFiles = 0;
  let jsAnalysed = 0;
  let unparsed = 0;
  let bytes = 0;
  for (const f of pkg.files) {
    bytes += f.size;
    if (f.path.endsWith('.node')) {
      signals.push({
        ruleId: 'npm.capability.native-binary',
        kind: 'capability',
        category: 'native-binary',
        severity: 'info',
        message: `ships a native addon (${f.path}) that runs with the full rights of the process`,
        file: f.path,
        line: null,
        column: null,
        snippet: null,
      });
      continue;
    }
    if (!isJavaScript(f.path)) continue;
    jsFiles++;
    if (f.size > MAX_JS_FILE_BYTES) {
      notes.push(`${f.path}: ${f.size} bytes, larger than ${MAX_JS_FILE_BYTES}; not analysed`);
      continue;
    }
    let data: Uint8Array;
    try {
      data = f.read();
    } catch (err) {
      notes.push(`${f.path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    const text = decode(data);
    if (!mayHaveSignals(text)) continue;
    jsAnalysed++;
    const result = analyseJavaScript(f.path, text);
    if (!result.parsed) unparsed++;
    if (result.signals.length > 0) contentHashes.set(f.path, sha256(data));
    signals.push(...result.signals);
    importsByFile.set(f.path, result.imports);
  }
  for (const inline of install.inlineCode) {
    const result = analyseJavaScript(inline.name, inline.code);
    signals.push(...result.signals);
    contentHashes.set(inline.name, contentHashes.get('package.json')!);
  }

  // Which files install hooks reach through static relative requires.
  const installReach = new Set<string>(install.inlineCode.map((c) => c.name));
  const queue: string[] = [];
  for (const entry of install.entryFiles) {
    const found = resolveImport('package.json', `./${entry}`, files);
    if (found) queue.push(found);
    else notes.push(`install script runs ${entry}, which the package does not contain`);
  }
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (installReach.has(file)) continue;
    installReach.add(file);
    if (!importsByFile.has(file) && isJavaScript(file)) {
      // The pre-filter skipped it (nothing suspicious); it can still require files that are.
      const f = files.get(file);
      if (f && f.size <= MAX_JS_FILE_BYTES)
        importsByFile.set(file, analyseJavaScript(file, decode(f.read())).imports);
    }
    for (const spec of importsByFile.get(file) ?? []) {
      const next = resolveImport(file, spec, files);
      if (next && !installReach.has(next)) queue.push(next);
    }
  }

  // Name, version, manifest views, feed.
  signals.push(...metadataSignals(pkg.name, pkg.version, ctx));
  signals.push(...checkVersionAndDeps(pkg.manifest, views.lockEntry));
  if (views.published) signals.push(...compareManifests(pkg.manifest, views.published, 'the registry'));
  if (views.lockEntry) signals.push(...compareWithLock(pkg.manifest, views.lockEntry));

  const scored = scorePackage({ name: pkg.name, version: pkg.version, signals, installReach, contentHashes });
  return {
    name: pkg.name,
    version: pkg.version,
    origin: pkg.origin,
    level: scored.level,
    score: scored.score,
    findings: scored.findings,
    capabilities: [...new Set(signals.filter((s) => s.kind === 'capability').map((s) => s.category))].sort(),
    stats: { files: pkg.files.length, jsFiles, jsAnalysed, unparsed, bytes },
    notes,
  };
}

/**
 * The verdict for a package seen only as a lockfile entry: the feed, the name, the version and how it is
 * fetched. Its code is not analysed (a note says so); `keyward npm scan --fetch` or `npm check` does that.
 */
export function analyseLockEntry(entry: LockPackage, lockfile: string, ctx: AnalyseContext): PackageVerdict {
  const signals = [
    ...metadataSignals(entry.name, entry.version, ctx),
    ...checkVersionAndDeps({ name: entry.name, version: entry.version }, entry),
  ];
  const scored = scorePackage({
    name: entry.name,
    version: entry.version,
    signals,
    installReach: new Set(),
    contentHashes: new Map(),
  });
  return {
    name: entry.name,
    version: entry.version,
    origin: { kind: 'lockfile', location: entry.line ? `${lockfile}:${entry.line}` : lockfile },
    level: scored.level,
    score: scored.score,
    findings: scored.findings,
    capabilities: entry.hasInstallScript ? ['install-script'] : [],
    stats: { files: 0, jsFiles: 0, jsAnalysed: 0, unparsed: 0, bytes: 0 },
    notes: [],
  };
}
