/**
 * The gate against its labelled corpus: every malicious fixture package (test/fixtures/npm-gate/malicious,
 * written for these tests) must be caught at high or above, and no real package of the project's own
 * node_modules may reach high once the project's reviewed suppressions (.keyward-npm-suppressions.json, which CI's
 * own gate uses) are applied. Prints precision and recall, counting suppressed packages as false positives.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applySuppressions,
  createNpmAnalyseContext,
  parseSuppressions,
  scanNpmInputs,
  severityRank,
  type NpmScanReport,
} from './index.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const MALICIOUS = join(ROOT, 'test', 'fixtures', 'npm-gate', 'malicious');

interface Label {
  id: string;
  name: string;
  version: string;
  behaviours: string[];
}

const labels = JSON.parse(readFileSync(join(MALICIOUS, 'labels.json'), 'utf8')) as Label[];
const ctx = createNpmAnalyseContext();
let malicious: NpmScanReport;
let benign: NpmScanReport;

const atHigh = (level: string): boolean =>
  level !== 'none' && severityRank(level as 'high') >= severityRank('high');

beforeAll(async () => {
  malicious = await scanNpmInputs([MALICIOUS], { ctx, cwd: ROOT });
  benign = await scanNpmInputs([join(ROOT, 'node_modules')], { ctx, cwd: ROOT });
  const tp = malicious.packages.filter((p) => atHigh(p.level)).length;
  const fp = benign.packages.filter((p) => atHigh(p.level)).length;
  const fn = malicious.packages.length - tp;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  process.stdout.write(
    `npm gate corpus: ${malicious.packages.length} malicious fixtures, ${benign.packages.length} benign packages (node_modules); ` +
      `caught at high ${tp}, missed ${fn}, benign at high ${fp}; precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}\n`,
  );
}, 120_000);

describe('the labelled corpus', () => {
  it('holds at least 40 malicious fixtures, each labelled', () => {
    const dirs = readdirSync(MALICIOUS).filter((d) => statSync(join(MALICIOUS, d)).isDirectory());
    expect(dirs.length).toBeGreaterThanOrEqual(40);
    expect(labels.map((l) => l.id).sort()).toEqual(dirs.sort());
    expect(malicious.errors).toEqual([]);
    expect(malicious.packages).toHaveLength(dirs.length);
  });

  it('catches every malicious fixture at high or above', () => {
    const missed = malicious.packages
      .filter((p) => !atHigh(p.level))
      .map(
        (p) =>
          `${p.name}@${p.version}: ${p.level} (${p.findings.map((f) => `${f.ruleId}:${f.severity}`).join(', ')})`,
      );
    expect(missed).toEqual([]);
  });

  it('names the labelled behaviours: at least one per fixture, and 85% overall', () => {
    const byName = new Map(malicious.packages.map((p) => [`${p.name}@${p.version}`, p]));
    const none: string[] = [];
    const missing: string[] = [];
    let labelled = 0;
    for (const l of labels) {
      const p = byName.get(`${l.name}@${l.version}`);
      const seen = new Set<string>(p?.findings.map((f) => f.category) ?? []);
      // Every fixture runs at install or on load; install-hook is what scoring uses, not a finding category.
      const wanted = l.behaviours.filter((b) => b !== 'install-hook');
      const named = wanted.filter((b) => seen.has(b));
      labelled += wanted.length;
      if (wanted.length > 0 && named.length === 0) none.push(l.id);
      for (const b of wanted) if (!seen.has(b)) missing.push(`${l.id}: ${b}`);
    }
    const coverage = (labelled - missing.length) / labelled;
    process.stdout.write(
      `npm gate corpus: ${labelled - missing.length} of ${labelled} labelled behaviours named (${(coverage * 100).toFixed(1)}%); not named: ${missing.join('; ') || 'none'}\n`,
    );
    expect(none).toEqual([]);
    expect(coverage).toBeGreaterThanOrEqual(0.85);
  });

  it('flags no package of the project’s own dependency tree at high, but for the reviewed suppressions', () => {
    expect(benign.packages.length).toBeGreaterThan(100);
    const file = join(ROOT, '.keyward-npm-suppressions.json');
    const accepted = applySuppressions(benign, parseSuppressions(readFileSync(file, 'utf8'), file));
    // Every suppression still matches a finding (a stale one would hide nothing and should go).
    expect(new Set(accepted.suppressed.map((x) => `${x.package} ${x.ruleId} ${x.file}`)).size).toBe(
      parseSuppressions(readFileSync(file, 'utf8'), file).suppressions.length,
    );
    const flagged = accepted.packages
      .filter((p) => atHigh(p.level))
      .map(
        (p) =>
          `${p.name}@${p.version}: ${p.findings
            .filter((f) => atHigh(f.severity))
            .map((f) => `${f.ruleId} ${f.file}:${f.line}`)
            .join(', ')}`,
      );
    expect(flagged).toEqual([]);
  });
});
