/**
 * The npm supply-chain gate's shared vocabulary: what a package looks like once read (from a tarball, a
 * directory or the registry), what a lockfile lists, and the signals the analysers emit. Analysers never run
 * package code; they read bytes and emit signals, and `npm-score.ts` turns the signals into a verdict.
 */

/** How bad one signal or one package is; `info` is a capability seen alone (never blocks). */
export const NPM_SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type NpmSeverity = (typeof NPM_SEVERITIES)[number];

/**
 * - capability: what the code can do (network, child_process, fs write, env reads, eval, dynamic require,
 *   native binaries, install scripts): informational alone.
 * - threat: a behaviour malware shows (credential paths, exfiltration sinks, persistence writes, …).
 * - metadata: facts about the name, version and manifest (typosquat, dependency confusion, known-malicious).
 */
export type SignalKind = 'capability' | 'threat' | 'metadata';

/** Capabilities (kind `capability`). */
export const CAPABILITIES = [
  'network',
  'child-process',
  'fs-write',
  'env-read',
  'eval',
  'dynamic-require',
  'native-binary',
  'install-script',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Threat and metadata categories (kind `threat` or `metadata`). */
export const THREAT_CATEGORIES = [
  'install-hook',
  'credential-read',
  'metadata-endpoint',
  'env-serialise',
  'exfiltration',
  'obfuscation',
  'persistence',
  'self-propagation',
  'ai-cli-abuse',
  'download-exec',
  'secret-scanner-download',
  'destructive',
  'wallet-drainer',
  'reverse-shell',
  'typosquat',
  'dependency-confusion',
  'url-dependency',
  'manifest-confusion',
  'known-malicious',
  'unparsed-code',
] as const;
export type ThreatCategory = (typeof THREAT_CATEGORIES)[number];

/** One piece of evidence an analyser found. */
export interface Signal {
  /** Stable rule id, `npm.<kind>.<name>`: `npm.capability.network`, `npm.threat.credential-path`, … */
  ruleId: string;
  kind: SignalKind;
  category: Capability | ThreatCategory;
  /** Severity of this signal on its own; scoring may raise threats (capability + threat in one file → high). */
  severity: NpmSeverity;
  /** One sentence for a person: what was seen and why it matters. */
  message: string;
  /** Package-relative POSIX path (`lib/index.js`, `package.json`), or null for name/version facts. */
  file: string | null;
  /** 1-based line, or null. */
  line: number | null;
  /** 1-based column, or null. */
  column: number | null;
  /** At most 160 characters of the source around the evidence, on one line; never a secret value. */
  snippet: string | null;
}

/** A file inside a package. `read()` returns its bytes (in memory for tarballs, read on demand for directories). */
export interface PackageFile {
  /** Package-relative POSIX path, no leading `./` or `package/`. */
  path: string;
  size: number;
  /** True for a regular file with any execute bit set (tarball mode or file system mode). */
  executable: boolean;
  read(): Uint8Array;
}

/** Where a package was read from. */
export interface PackageOrigin {
  kind: 'tarball' | 'directory' | 'registry';
  /** File or directory path, or the tarball URL for `registry`. */
  location: string;
}

/** A package's contents, read without running anything. */
export interface PackageContents {
  name: string;
  version: string;
  /** The parsed package.json (validated only as a JSON object). */
  manifest: Record<string, unknown>;
  files: PackageFile[];
  origin: PackageOrigin;
  /** Things the reader skipped or refused inside the package (a symlink, an oversized file), for the report. */
  notes: string[];
}

/** How a lockfile (or package.json) asks for a dependency. */
export type DependencySourceKind = 'registry' | 'git' | 'url' | 'file' | 'link' | 'workspace';

/** One package a lockfile pins. */
export interface LockPackage {
  name: string;
  version: string;
  /** Where the package manager fetches it from (tarball URL, git URL, file path), when the lockfile says. */
  resolved: string | null;
  /** Subresource-integrity string (`sha512-…`), when the lockfile says. */
  integrity: string | null;
  source: DependencySourceKind;
  /** Install path for npm lockfiles (`node_modules/a/node_modules/b`), else null. */
  path: string | null;
  dev: boolean;
  optional: boolean;
  /** The lockfile says it has install scripts (npm v2/v3 `hasInstallScript`, pnpm `requiresBuild`). */
  hasInstallScript: boolean;
  /** 1-based line of the entry in the lockfile, for errors and evidence. */
  line: number | null;
}

/** A lockfile as parsed. */
export interface Lockfile {
  format: 'npm-v1' | 'npm-v2' | 'npm-v3' | 'npm-shrinkwrap' | 'pnpm' | 'yarn-classic' | 'yarn-berry';
  /** The project's own name and version, when the lockfile records them. */
  root: { name: string | null; version: string | null };
  packages: LockPackage[];
}
