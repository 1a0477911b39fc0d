/**
 * The outcome of a gate run over several inputs (lockfiles, trees, directories, tarballs, registry packages),
 * and the suppressions that accept findings pinned to a package version and a file's content hash.
 */
import { ValidationError } from '../core/errors.js';
import type { PackageVerdict } from './npm-analyse.js';
import { levelAndScore, severityRank, type NpmFinding } from './npm-score.js';
import type { NpmSeverity } from './npm-types.js';

/** One input as scanned. */
export interface ScannedInput {
  path: string;
  kind: string;
  packages: number;
}

/** A run over one or more inputs. */
export interface NpmScanReport {
  packages: PackageVerdict[];
  inputs: ScannedInput[];
  /** Inputs or packages that could not be analysed (a hostile archive, a fetch that failed), with why. */
  errors: { input: string; message: string }[];
  /** Findings accepted by suppressions, with the reason each was accepted for. */
  suppressed: { package: string; ruleId: string; file: string | null; reason: string }[];
  stats: { packages: number; files: number; bytes: number; durationMs: number };
}

/** A report over `packages`, with its totals; `started` is the `performance.now()` the run began at. */
export function makeReport(
  packages: PackageVerdict[],
  inputs: ScannedInput[],
  errors: NpmScanReport['errors'],
  started: number,
): NpmScanReport {
  return {
    packages,
    inputs,
    errors,
    suppressed: [],
    stats: {
      packages: packages.length,
      files: packages.reduce((n, p) => n + p.stats.files, 0),
      bytes: packages.reduce((n, p) => n + p.stats.bytes, 0),
      durationMs: Math.round(performance.now() - started),
    },
  };
}

/** Recomputes a verdict's level and score after findings were removed. */
function rescore(v: PackageVerdict, kept: NpmFinding[]): PackageVerdict {
  return kept.length === v.findings.length ? v : { ...v, findings: kept, ...levelAndScore(kept) };
}

/** An accepted finding: pinned to package@version, rule, file and the file's content hash. */
export interface Suppression {
  package: string;
  version: string;
  ruleId: string;
  file: string | null;
  contentHash: string | null;
  reason: string;
}

/** The suppressions file (`--suppressions <file>`). */
export interface SuppressionFile {
  format: 'keyward-npm-suppressions';
  version: 1;
  suppressions: Suppression[];
}

/** Parses a suppressions file; errors name the file and the entry. */
export function parseSuppressions(text: string, file: string): SuppressionFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${file}: not JSON (${(err as Error).message})`, {
      details: [{ path: file, message: 'not JSON' }],
    });
  }
  const d = doc as Partial<SuppressionFile> | null;
  if (!d || typeof d !== 'object' || d.format !== 'keyward-npm-suppressions' || d.version !== 1)
    throw new ValidationError(
      `${file}: not a Keyward npm suppressions file (expected "format": "keyward-npm-suppressions", "version": 1)`,
      { details: [{ path: `${file}:format`, message: 'wrong format' }] },
    );
  if (!Array.isArray(d.suppressions))
    throw new ValidationError(`${file}: "suppressions" must be an array`, {
      details: [{ path: `${file}:suppressions`, message: 'must be an array' }],
    });
  d.suppressions.forEach((s: unknown, i: number) => {
    const e = s as Partial<Suppression> | null;
    const where = `${file}:suppressions[${i}]`;
    const bad = (field: string, what: string): never => {
      throw new ValidationError(`${where}.${field} ${what}`, {
        details: [{ path: `${where}.${field}`, message: what }],
      });
    };
    if (!e || typeof e !== 'object') bad('', 'must be an object');
    if (typeof e!.package !== 'string' || e!.package === '') bad('package', 'must be a package name');
    if (typeof e!.version !== 'string' || e!.version === '') bad('version', 'must be an exact version');
    if (typeof e!.ruleId !== 'string' || !e!.ruleId.startsWith('npm.'))
      bad('ruleId', 'must be an npm.* rule id');
    if (e!.file !== null && typeof e!.file !== 'string') bad('file', 'must be a path or null');
    if (e!.file !== null && (typeof e!.contentHash !== 'string' || !/^[0-9a-f]{64}$/.test(e!.contentHash)))
      bad('contentHash', "must be the file's SHA-256 (64 hex digits): suppressions never match a bare path");
    if (typeof e!.reason !== 'string' || e!.reason.trim() === '')
      bad('reason', 'must say why the finding is accepted');
  });
  return d as SuppressionFile;
}

function matches(s: Suppression, v: PackageVerdict, f: NpmFinding): boolean {
  return (
    s.package === v.name &&
    s.version === v.version &&
    s.ruleId === f.ruleId &&
    s.file === f.file &&
    (f.file === null || s.contentHash === f.contentHash)
  );
}

/** Removes suppressed findings (recomputing each package's level) and lists what was accepted. */
export function applySuppressions(report: NpmScanReport, file: SuppressionFile): NpmScanReport {
  const suppressed = [...report.suppressed];
  const packages = report.packages.map((v) => {
    const kept = v.findings.filter((f) => {
      const s = file.suppressions.find((x) => matches(x, v, f));
      if (s)
        suppressed.push({
          package: `${v.name}@${v.version}`,
          ruleId: f.ruleId,
          file: f.file,
          reason: s.reason,
        });
      return !s;
    });
    return rescore(v, kept);
  });
  return { ...report, packages, suppressed };
}

/** Suppressions accepting every finding at or above `floor` in the report (`--write-suppressions`). */
export function suppressionsFor(
  report: NpmScanReport,
  floor: NpmSeverity,
  reason: string,
  previous?: SuppressionFile,
): SuppressionFile {
  const out: Suppression[] = [...(previous?.suppressions ?? [])];
  const seen = new Set(
    out.map((s) => JSON.stringify([s.package, s.version, s.ruleId, s.file, s.contentHash])),
  );
  for (const v of report.packages) {
    for (const f of v.findings) {
      if (severityRank(f.severity) < severityRank(floor)) continue;
      const s: Suppression = {
        package: v.name,
        version: v.version,
        ruleId: f.ruleId,
        file: f.file,
        contentHash: f.file === null ? null : f.contentHash,
        reason,
      };
      const key = JSON.stringify([s.package, s.version, s.ruleId, s.file, s.contentHash]);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(s);
      }
    }
  }
  out.sort(
    (a, b) =>
      `${a.package}@${a.version}`.localeCompare(`${b.package}@${b.version}`) ||
      a.ruleId.localeCompare(b.ruleId),
  );
  return { format: 'keyward-npm-suppressions', version: 1, suppressions: out };
}
