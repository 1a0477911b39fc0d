/**
 * Findings as the outside world sees them: JSON without the value, SARIF 2.1.0 for GitHub code scanning, and a
 * plain table. The value itself is never part of any output; the preview and the fingerprint stand for it.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sarifLog, usedRules } from '../core/sarif.js';
import type { ScanReport } from './secret-scan-service.js';
import {
  SECRET_SEVERITIES,
  type ScanOrigin,
  type SecretFinding,
  type SecretRule,
  type SecretSeverity,
} from './secret-types.js';

/** A finding as printed or stored: everything but the value, with its origin flattened. */
export type PublicFinding = Omit<SecretFinding, 'secret' | 'origin'> & {
  source: ScanOrigin['kind'];
  path: string;
  commit?: NonNullable<ScanOrigin['commit']>;
};

/** A SARIF artifact location: relative paths against `%SRCROOT%`, absolute ones as `file:` URLs. */
function artifactLocation(path: string): { uri: string; uriBaseId?: string } {
  return isAbsolute(path)
    ? { uri: pathToFileURL(path).href }
    : { uri: encodeURI(path), uriBaseId: '%SRCROOT%' };
}

/** Drops the value from a finding. */
export function publicFinding(f: SecretFinding): PublicFinding {
  const out: PublicFinding = {
    ruleId: f.ruleId,
    title: f.title,
    severity: f.severity,
    provider: f.provider,
    type: f.type,
    source: f.origin.kind,
    path: f.origin.path,
    line: f.line,
    column: f.column,
    endColumn: f.endColumn,
    keyName: f.keyName,
    verifiedFormat: f.verifiedFormat,
    entropy: f.entropy,
    fingerprint: f.fingerprint,
    preview: f.preview,
  };
  if (f.origin.commit) out.commit = { ...f.origin.commit };
  return out;
}

/** The JSON document `keyward scan --json` prints. */
export function scanReportJson(report: ScanReport, extra: { baselineAccepted?: number } = {}): unknown {
  return {
    findings: report.findings.map(publicFinding),
    allowed: report.allowed.map((a) => ({ ...publicFinding(a.finding), reason: a.reason })),
    stats: { ...report.stats, baselineAccepted: extra.baselineAccepted ?? 0 },
    errors: report.errors,
  };
}

const SARIF_LEVEL: Record<SecretSeverity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};
// GitHub code scanning reads `security-severity` (0–10) to rank security alerts.
const SECURITY_SEVERITY: Record<SecretSeverity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
};

/**
 * The report as a SARIF 2.1.0 log with one run; rules lists only the rules that have results, so the file stays
 * small. Paths are relative to `%SRCROOT%` (the scanned root).
 */
export function toSarif(report: ScanReport, rules: readonly SecretRule[], version: string): unknown {
  const { ids: used, index } = usedRules(report.findings.map((f) => f.ruleId));
  const byId = new Map(rules.map((r) => [r.id, r]));
  return sarifLog({
    version,
    rules: used.map((id) => {
      const r = byId.get(id);
      const severity = r?.severity ?? 'medium';
      return {
        id,
        name: id.replace(/(^|-)([a-z0-9])/g, (_m, _d: string, c: string) => c.toUpperCase()),
        shortDescription: { text: r?.title ?? id },
        fullDescription: {
          text: `${r?.title ?? id}: a credential committed in plain text. Revoke it at the provider, then remove it.`,
        },
        ...(r?.docs ? { helpUri: r.docs } : {}),
        defaultConfiguration: { level: SARIF_LEVEL[severity] },
        properties: {
          tags: ['security', 'secret', r?.provider ?? 'generic'],
          'security-severity': SECURITY_SEVERITY[severity],
          precision: r?.verifiedFormat ? 'very-high' : 'high',
        },
      };
    }),
    run: { columnKind: 'utf16CodeUnits', originalUriBaseIds: { '%SRCROOT%': { uri: './' } } },
    results: report.findings.map((f) => ({
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId),
      level: SARIF_LEVEL[f.severity],
      message: {
        text: `${f.title} (${f.preview})${f.keyName ? ` in ${f.keyName}` : ''}${
          f.origin.commit ? ` added in commit ${f.origin.commit.sha.slice(0, 12)}` : ''
        }`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: artifactLocation(f.origin.path),
            region: { startLine: f.line, startColumn: f.column, endColumn: f.endColumn },
          },
        },
      ],
      properties: {
        fingerprint: f.fingerprint,
        preview: f.preview,
        verifiedFormat: f.verifiedFormat,
        provider: f.provider,
        ...(f.keyName ? { keyName: f.keyName } : {}),
        ...(f.origin.commit ? { commit: f.origin.commit.sha } : {}),
      },
    })),
  });
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Findings as an aligned text table (redacted values), then a summary line. */
export function findingsTable(report: ScanReport, extra: { baselineAccepted?: number } = {}): string {
  const rows = report.findings.map((f) => [
    f.severity,
    `${f.origin.commit ? `${f.origin.commit.sha.slice(0, 8)}:` : ''}${f.origin.path}:${f.line}:${f.column}`,
    f.ruleId,
    f.preview + (f.verifiedFormat ? ' ✓' : ''),
    f.keyName ?? '',
  ]);
  const lines: string[] = [];
  if (rows.length > 0) {
    const header = ['SEVERITY', 'LOCATION', 'RULE', 'VALUE', 'KEY'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    lines.push(
      header
        .map((h, i) => pad(h, widths[i]!))
        .join('  ')
        .trimEnd(),
    );
    for (const r of rows)
      lines.push(
        r
          .map((c, i) => pad(c, widths[i]!))
          .join('  ')
          .trimEnd(),
      );
    lines.push('');
  }
  const s = report.stats;
  const skipped =
    s.skipped.binary + s.skipped.tooLarge + s.skipped.unreadable + s.skipped.symlink + s.skipped.special;
  const parts = [
    `${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}`,
    `${s.files} file${s.files === 1 ? '' : 's'} (${(s.bytes / 1024 / 1024).toFixed(1)} MiB) in ${(s.durationMs / 1000).toFixed(2)} s`,
  ];
  if (skipped > 0)
    parts.push(
      `skipped ${skipped} (binary ${s.skipped.binary}, too large ${s.skipped.tooLarge}, unreadable ${s.skipped.unreadable}, symlinks ${s.skipped.symlink})`,
    );
  if (s.allowed > 0) parts.push(`${s.allowed} allowed by keyward:allow`);
  if (extra.baselineAccepted) parts.push(`${extra.baselineAccepted} accepted by the baseline`);
  lines.push(parts.join(', '));
  for (const e of report.errors) lines.push(`error  ${e.path}: ${e.message}`);
  return `${lines.join('\n')}\n`;
}

/** One finding as a scan's record keeps it: where, which rule, how severe, and the redacted preview. */
export interface ScanEvidence {
  ruleId: string;
  severity: SecretSeverity;
  file: string;
  line: number;
  preview: string;
}

/** At most this many findings are kept with a recorded scan (the counts cover them all). */
export const MAX_RECORDED_EVIDENCE = 50;

/**
 * What `keyward scan --record` keeps of a scan's findings in the event log: counts by severity and the first
 * findings (most severe first) with file, line and preview; never a value or a fingerprint.
 */
export function scanEvidence(findings: readonly SecretFinding[]): {
  bySeverity: Record<SecretSeverity, number>;
  evidence: ScanEvidence[];
} {
  const bySeverity = Object.fromEntries(SECRET_SEVERITIES.map((s) => [s, 0])) as Record<
    SecretSeverity,
    number
  >;
  for (const f of findings) bySeverity[f.severity]++;
  // Most severe first: SECRET_SEVERITIES runs from the least to the most severe.
  const order = (s: SecretSeverity): number => -SECRET_SEVERITIES.indexOf(s);
  const evidence = [...findings]
    .sort(
      (a, b) =>
        order(a.severity) - order(b.severity) ||
        a.origin.path.localeCompare(b.origin.path) ||
        a.line - b.line,
    )
    .slice(0, MAX_RECORDED_EVIDENCE)
    .map((f) => ({
      ruleId: f.ruleId,
      severity: f.severity,
      file: f.origin.path,
      line: f.line,
      preview: f.preview,
    }));
  return { bySeverity, evidence };
}
