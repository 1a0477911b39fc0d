/**
 * Turns a package's signals into findings with final severities and a 0–10 score.
 *
 * The rules (docs/npm-gate.md, "Scoring"):
 * - a capability alone is `info`: most packages use the network, the file system or child processes;
 * - a threat keeps the severity its analyser gave it when it stands alone, and becomes at least `high` when
 *   the same file also shows a capability (the code both can act and is aimed at something malware aims at),
 *   or when the file runs at install time (an install hook reaches it through static requires);
 * - metadata keeps its own severity (a known-malicious version is `critical`);
 * - the package's level is its worst finding; the score is 10 for critical, 7–9 for high, 4–6 for medium,
 *   1–3 for low and 0 for info, rising within a band with the number of distinct threat categories.
 */
import { createHash } from 'node:crypto';
import { NPM_SEVERITIES, type NpmSeverity, type Signal } from './npm-types.js';

/** A signal after scoring: its final severity, why it was raised, and the hash suppressions pin to. */
export interface NpmFinding extends Signal {
  /** Deterministic id: package, version, rule, file, line and column. */
  id: string;
  /** The severity the analyser gave the signal alone. */
  baseSeverity: NpmSeverity;
  /** Why the severity was raised, when it was. */
  raisedBecause: string | null;
  /** SHA-256 (hex) of the file the finding is in (package.json for metadata), for suppressions. */
  contentHash: string | null;
}

/** Severity order: info < low < medium < high < critical. */
export function severityRank(s: NpmSeverity): number {
  return NPM_SEVERITIES.indexOf(s);
}

function maxSeverity(a: NpmSeverity, b: NpmSeverity): NpmSeverity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** What scoring needs besides the signals. */
export interface ScoreInput {
  name: string;
  version: string;
  signals: readonly Signal[];
  /** Files an install hook runs, directly or through static requires (package-relative paths). */
  installReach: ReadonlySet<string>;
  /** SHA-256 of each file a signal names. */
  contentHashes: ReadonlyMap<string, string>;
}

/** The scored package. */
export interface PackageScore {
  findings: NpmFinding[];
  /** The worst finding's severity, or `none` when there are no findings at all. */
  level: NpmSeverity | 'none';
  score: number;
}

function findingId(name: string, version: string, s: Signal): string {
  return createHash('sha256')
    .update(`${name}\0${version}\0${s.ruleId}\0${s.file ?? ''}\0${s.line ?? ''}\0${s.column ?? ''}`)
    .digest('hex')
    .slice(0, 24);
}

/**
 * Scores one package.
 * @example
 * const { level, score, findings } = scorePackage({ name, version, signals, installReach, contentHashes });
 */
export function scorePackage(input: ScoreInput): PackageScore {
  const capabilitiesByFile = new Map<string, Set<string>>();
  for (const s of input.signals) {
    if (s.kind !== 'capability' || s.file === null) continue;
    // An install script is a capability of package.json; it does not make every string there a threat.
    if (s.category === 'install-script') continue;
    const set = capabilitiesByFile.get(s.file) ?? new Set<string>();
    set.add(s.category);
    capabilitiesByFile.set(s.file, set);
  }

  const findings: NpmFinding[] = [];
  for (const s of input.signals) {
    let severity: NpmSeverity = s.kind === 'capability' ? 'info' : s.severity;
    let raisedBecause: string | null = null;
    if (s.kind === 'threat' && s.file !== null && s.category !== 'unparsed-code') {
      const caps = capabilitiesByFile.get(s.file);
      if (input.installReach.has(s.file) && severityRank(severity) < severityRank('high')) {
        severity = 'high';
        raisedBecause = 'runs at install time (an install hook reaches this file)';
      } else if (caps && caps.size > 0 && severityRank(severity) < severityRank('high')) {
        severity = 'high';
        raisedBecause = `the same file can also act on it (${[...caps].sort().join(', ')})`;
      }
    }
    findings.push({
      ...s,
      severity,
      baseSeverity: s.severity,
      raisedBecause,
      id: findingId(input.name, input.version, s),
      contentHash: s.file === null ? null : (input.contentHashes.get(s.file) ?? null),
    });
  }
  findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      a.ruleId.localeCompare(b.ruleId),
  );

  return { findings, ...levelAndScore(findings) };
}

/** A package's level (its worst finding) and its 0–10 score, from its scored findings. */
export function levelAndScore(findings: readonly NpmFinding[]): Omit<PackageScore, 'findings'> {
  if (findings.length === 0) return { level: 'none', score: 0 };
  const level = findings.reduce<NpmSeverity>((m, f) => maxSeverity(m, f.severity), 'info');
  const categoriesAtLevel = new Set(
    findings.filter((f) => f.severity === level && f.kind !== 'capability').map((f) => f.category),
  );
  const bump = Math.min(2, Math.max(0, categoriesAtLevel.size - 1));
  const base: Record<NpmSeverity, number> = { info: 0, low: 1, medium: 4, high: 7, critical: 10 };
  const score = level === 'critical' || level === 'info' ? base[level] : base[level] + bump;
  return { level, score };
}
