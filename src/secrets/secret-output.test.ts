import { describe, expect, it } from 'vitest';
import { MAX_RECORDED_EVIDENCE, scanEvidence } from './secret-output.js';
import type { SecretFinding, SecretSeverity } from './secret-types.js';

function finding(path: string, line: number, severity: SecretSeverity): SecretFinding {
  return {
    ruleId: `rule-${severity}`,
    title: 'a key',
    severity,
    provider: 'example',
    type: 'api-key',
    origin: { kind: 'file', path },
    line,
    column: 1,
    endColumn: 20,
    keyName: null,
    verifiedFormat: true,
    entropy: 4.5,
    fingerprint: 'f'.repeat(64),
    preview: 'abcd…wxyz',
    secret: 'abcd-the-value-itself-wxyz',
  };
}

describe('scanEvidence', () => {
  it('counts by severity and keeps the most severe findings first, by file and line, without value or fingerprint', () => {
    const out = scanEvidence([
      finding('b.env', 3, 'medium'),
      finding('a.env', 9, 'critical'),
      finding('a.env', 2, 'critical'),
      finding('c.ts', 1, 'low'),
    ]);
    expect(out.bySeverity).toEqual({ low: 1, medium: 1, high: 0, critical: 2 });
    expect(out.evidence).toEqual([
      { ruleId: 'rule-critical', severity: 'critical', file: 'a.env', line: 2, preview: 'abcd…wxyz' },
      { ruleId: 'rule-critical', severity: 'critical', file: 'a.env', line: 9, preview: 'abcd…wxyz' },
      { ruleId: 'rule-medium', severity: 'medium', file: 'b.env', line: 3, preview: 'abcd…wxyz' },
      { ruleId: 'rule-low', severity: 'low', file: 'c.ts', line: 1, preview: 'abcd…wxyz' },
    ]);
    const text = JSON.stringify(out);
    expect(text).not.toContain('the-value-itself');
    expect(text).not.toContain('f'.repeat(64));
  });

  it(`keeps at most ${MAX_RECORDED_EVIDENCE} findings while counting all of them`, () => {
    const many = Array.from({ length: 80 }, (_, i) =>
      finding(`f${String(i).padStart(2, '0')}.ts`, 1, 'high'),
    );
    const out = scanEvidence(many);
    expect(out.bySeverity.high).toBe(80);
    expect(out.evidence).toHaveLength(MAX_RECORDED_EVIDENCE);
    expect(out.evidence[0]!.file).toBe('f00.ts');
  });
});
