/** The gate's report as JSON, SARIF 2.1.0 and a plain table. */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sarifLog, usedRules } from '../core/sarif.js';
import type { PackageVerdict } from './npm-analyse.js';
import type { NpmScanReport } from './npm-report.js';
import { severityRank, type NpmFinding } from './npm-score.js';
import type { NpmSeverity } from './npm-types.js';

/** Packages at or above a level, worst first. */
export function flaggedPackages(report: NpmScanReport, floor: NpmSeverity): PackageVerdict[] {
  return report.packages
    .filter((p) => p.level !== 'none' && severityRank(p.level) >= severityRank(floor))
    .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** How many packages are at each level. */
export function levelCounts(report: NpmScanReport): Record<NpmSeverity | 'none', number> {
  const counts: Record<NpmSeverity | 'none', number> = {
    none: 0,
    info: 0,
    low: 0,
    medium: 0,
    high: 0,
    critical: 0,
  };
  for (const p of report.packages) counts[p.level]++;
  return counts;
}

/** The JSON document `keyward npm scan --json` prints: every package with its level, score and evidence. */
export function npmReportJson(report: NpmScanReport): unknown {
  return {
    summary: { ...report.stats, levels: levelCounts(report), suppressed: report.suppressed.length },
    inputs: report.inputs,
    packages: [...report.packages].sort(
      (a, b) => b.score - a.score || a.name.localeCompare(b.name) || a.version.localeCompare(b.version),
    ),
    suppressed: report.suppressed,
    errors: report.errors,
  };
}

const SARIF_LEVEL: Record<NpmSeverity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

function artifact(v: PackageVerdict, f: NpmFinding): { uri: string; uriBaseId?: string } {
  const base = v.origin.kind === 'lockfile' ? v.origin.location.replace(/:\d+$/, '') : v.origin.location;
  const path = v.origin.kind === 'directory' && f.file ? `${base}/${f.file}` : base;
  if (/^https?:/.test(path)) return { uri: path };
  return isAbsolute(path)
    ? { uri: pathToFileURL(path).href }
    : { uri: encodeURI(path), uriBaseId: '%SRCROOT%' };
}

/** SARIF 2.1.0: findings at or above `floor` (default low: capabilities alone are left out). */
export function npmSarif(report: NpmScanReport, version: string, floor: NpmSeverity = 'low'): unknown {
  const rows: { v: PackageVerdict; f: NpmFinding }[] = [];
  for (const v of report.packages)
    for (const f of v.findings) if (severityRank(f.severity) >= severityRank(floor)) rows.push({ v, f });
  const { ids, index } = usedRules(rows.map((r) => r.f.ruleId));
  const example = new Map(rows.map((r) => [r.f.ruleId, r.f]));
  return sarifLog({
    version,
    rules: ids.map((id) => ({
      id,
      name: id,
      shortDescription: { text: `${example.get(id)!.kind}: ${example.get(id)!.category}` },
      helpUri: 'https://github.com/keyward/keyward/blob/main/docs/npm-gate.md',
      properties: { tags: ['supply-chain', 'npm', example.get(id)!.kind] },
    })),
    results: rows.map(({ v, f }) => {
      const physical: Record<string, unknown> = { artifactLocation: artifact(v, f) };
      if (v.origin.kind === 'directory' && f.line !== null)
        physical.region = {
          startLine: f.line,
          ...(f.column !== null ? { startColumn: f.column } : {}),
          ...(f.snippet ? { snippet: { text: f.snippet } } : {}),
        };
      return {
        ruleId: f.ruleId,
        ruleIndex: index.get(f.ruleId),
        level: SARIF_LEVEL[f.severity],
        message: {
          text: `${v.name}@${v.version}${f.file ? ` ${f.file}${f.line ? `:${f.line}` : ''}` : ''}: ${f.message}`,
        },
        locations: [
          {
            physicalLocation: physical,
            logicalLocations: [
              { fullyQualifiedName: `${v.name}@${v.version}${f.file ? `/${f.file}` : ''}`, kind: 'module' },
            ],
          },
        ],
        partialFingerprints: { keywardFinding: f.id },
        properties: { severity: f.severity, package: v.name, version: v.version, score: v.score },
      };
    }),
  });
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** The table `keyward npm scan` prints: flagged packages (low and above) with their evidence, then a summary. */
export function npmTable(report: NpmScanReport, opts: { showInfo?: boolean } = {}): string {
  const lines: string[] = [];
  const floor: NpmSeverity = opts.showInfo ? 'info' : 'low';
  for (const v of flaggedPackages(report, floor)) {
    lines.push(
      `${v.level.toUpperCase().padEnd(8)} ${String(v.score).padStart(2)}/10  ${v.name}@${v.version}  (${v.origin.location})`,
    );
    for (const f of v.findings) {
      if (severityRank(f.severity) < severityRank(floor)) continue;
      const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : '(metadata)';
      lines.push(`  ${f.severity.padEnd(8)} ${f.ruleId}  ${where}`);
      lines.push(`           ${clip(f.message, 110)}`);
      if (f.snippet) lines.push(`           │ ${clip(f.snippet, 108)}`);
      if (f.raisedBecause) lines.push(`           raised: ${f.raisedBecause}`);
    }
    lines.push('');
  }
  for (const e of report.errors) lines.push(`ERROR    ${e.input}: ${e.message}`);
  const c = levelCounts(report);
  const s = report.stats;
  lines.push(
    `${s.packages} package(s) analysed in ${(s.durationMs / 1000).toFixed(2)} s: ${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low` +
      `${report.suppressed.length ? `; ${report.suppressed.length} finding(s) suppressed` : ''}` +
      `${report.errors.length ? `; ${report.errors.length} error(s)` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
