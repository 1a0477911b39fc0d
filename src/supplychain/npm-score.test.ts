import { describe, expect, it } from 'vitest';
import { levelAndScore, scorePackage } from './npm-score.js';
import type { Signal } from './npm-types.js';

function sig(partial: Partial<Signal> & Pick<Signal, 'ruleId' | 'kind' | 'category' | 'severity'>): Signal {
  return { message: 'm', file: 'index.js', line: 1, column: 1, snippet: null, ...partial };
}

const network = sig({
  ruleId: 'npm.capability.network',
  kind: 'capability',
  category: 'network',
  severity: 'info',
});
const credential = sig({
  ruleId: 'npm.threat.credential-read',
  kind: 'threat',
  category: 'credential-read',
  severity: 'medium',
  line: 3,
});

function score(signals: Signal[], installReach: string[] = []) {
  return scorePackage({
    name: 'p',
    version: '1.0.0',
    signals,
    installReach: new Set(installReach),
    contentHashes: new Map([['index.js', 'a'.repeat(64)]]),
  });
}

describe('scorePackage', () => {
  it('keeps a capability alone at info, score 0', () => {
    expect([score([network]).level, score([network]).score]).toEqual(['info', 0]);
  });

  it('keeps a threat alone at its own severity', () => {
    const r = score([credential]);
    expect([r.level, r.score, r.findings[0]!.raisedBecause]).toEqual(['medium', 4, null]);
  });

  it('raises a threat to high when its file also has a capability, and says why', () => {
    const r = score([network, credential]);
    const f = r.findings.find((x) => x.ruleId === 'npm.threat.credential-read')!;
    expect([r.level, r.score, f.severity, f.baseSeverity]).toEqual(['high', 7, 'high', 'medium']);
    expect(f.raisedBecause).toBe('the same file can also act on it (network)');
    expect(f.contentHash).toBe('a'.repeat(64));
  });

  it('does not raise a threat for a capability in another file', () => {
    expect(score([{ ...network, file: 'other.js' }, credential]).level).toBe('medium');
  });

  it('raises a threat in a file an install hook reaches', () => {
    const r = score([credential], ['index.js']);
    expect([r.level, r.findings[0]!.raisedBecause]).toEqual([
      'high',
      'runs at install time (an install hook reaches this file)',
    ]);
  });

  it('adds one point per further threat category at the top level, up to 9; critical is 10', () => {
    const exfil = sig({
      ruleId: 'npm.threat.exfiltration',
      kind: 'threat',
      category: 'exfiltration',
      severity: 'high',
    });
    const shell = sig({
      ruleId: 'npm.threat.reverse-shell',
      kind: 'threat',
      category: 'reverse-shell',
      severity: 'high',
    });
    const wipe = sig({
      ruleId: 'npm.threat.destructive',
      kind: 'threat',
      category: 'destructive',
      severity: 'high',
    });
    expect(score([exfil]).score).toBe(7);
    expect(score([exfil, shell]).score).toBe(8);
    expect(score([exfil, shell, wipe, { ...credential, severity: 'high' }]).score).toBe(9);
    const known = sig({
      ruleId: 'npm.metadata.known-malicious',
      kind: 'metadata',
      category: 'known-malicious',
      severity: 'critical',
      file: null,
    });
    expect([score([known, exfil]).level, score([known, exfil]).score]).toEqual(['critical', 10]);
  });

  it('gives ids that are stable across runs and distinct per location', () => {
    const a = score([credential]).findings[0]!.id;
    expect(score([credential]).findings[0]!.id).toBe(a);
    expect(score([{ ...credential, line: 4 }]).findings[0]!.id).not.toBe(a);
  });

  it('has level none and score 0 without findings', () => {
    expect(levelAndScore([])).toEqual({ level: 'none', score: 0 });
  });
});
