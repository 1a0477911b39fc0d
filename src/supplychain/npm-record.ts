/**
 * What a gate run leaves in Keyward: every scanned package as an inventory resource (`npm:package`, named
 * `npm:<name>@<version>`, with its level, score and rule ids), and events in the hash-chained log: one
 * `npm.scan.completed` summary and one `npm.package.flagged` per package at medium or above, so detection
 * rules and the dashboard can use them.
 */
import { emptyBatch, type InventoryBatch } from '../core/inventory-batch.js';
import type { NewEvent } from '../core/types.js';
import { levelCounts } from './npm-output.js';
import type { NpmScanReport } from './npm-report.js';
import { severityRank } from './npm-score.js';

/** Provider and type of the resources a gate run records. */
export const NPM_RESOURCE = { provider: 'npm', type: 'npm:package' } as const;

/** The inventory batch: one resource per scanned package. */
export function npmReportToInventoryBatch(report: NpmScanReport, now: string): InventoryBatch {
  const batch = emptyBatch();
  const seen = new Set<string>();
  for (const v of report.packages) {
    const name = `npm:${v.name}@${v.version}`;
    if (seen.has(name)) continue;
    seen.add(name);
    batch.resources.push({
      ...NPM_RESOURCE,
      name,
      attributes: {
        package: v.name,
        version: v.version,
        level: v.level,
        score: v.score,
        ruleIds: [...new Set(v.findings.filter((f) => f.kind !== 'capability').map((f) => f.ruleId))].sort(),
        capabilities: v.capabilities,
        origin: v.origin.kind,
        scannedAt: now,
      },
    });
  }
  return batch;
}

/** The events a run appends: a summary, then one per package at medium or above. */
export function npmReportEvents(
  report: NpmScanReport,
  opts: { actor: string; now: string; command: string },
): NewEvent[] {
  const events: NewEvent[] = [
    {
      time: opts.now,
      type: 'npm.scan.completed',
      actor: opts.actor,
      subject: null,
      data: {
        command: opts.command,
        inputs: report.inputs.map((i) => ({ ...i })),
        packages: report.stats.packages,
        levels: { ...levelCounts(report) },
        errors: report.errors.length,
        suppressed: report.suppressed.length,
      },
    },
  ];
  for (const v of report.packages) {
    if (v.level === 'none' || severityRank(v.level) < severityRank('medium')) continue;
    events.push({
      time: opts.now,
      type: 'npm.package.flagged',
      actor: opts.actor,
      subject: `npm:${v.name}@${v.version}`,
      data: {
        package: v.name,
        version: v.version,
        level: v.level,
        score: v.score,
        origin: { kind: v.origin.kind, location: v.origin.location },
        findings: v.findings
          .filter((f) => f.kind !== 'capability')
          .slice(0, 50)
          .map((f) => ({
            ruleId: f.ruleId,
            severity: f.severity,
            category: f.category,
            file: f.file,
            line: f.line,
            message: f.message,
          })),
      },
    });
  }
  return events;
}
