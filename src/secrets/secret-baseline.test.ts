import { describe, expect, it } from 'vitest';
import { applyBaseline, createBaseline, parseBaseline } from './secret-baseline.js';
import { createCaseGen } from './secret-case-gen.js';
import type { SecretFinding } from './secret-types.js';

const g = createCaseGen(5);

function finding(path: string, line: number, secret: string): SecretFinding {
  return {
    ruleId: 'github-pat-classic',
    title: 't',
    severity: 'critical',
    provider: 'github',
    type: 'pat',
    origin: { kind: 'file', path },
    line,
    column: 1,
    endColumn: 41,
    keyName: null,
    verifiedFormat: true,
    entropy: 5,
    fingerprint: 'f',
    preview: 'p',
    secret,
  };
}

describe('baselines', () => {
  const a = g.chars(40);
  const b = g.chars(40);
  const base = createBaseline([finding('src/a.ts', 3, a)], new Date('2026-01-01T00:00:00Z'));

  it('never write the value, only a salted hash', () => {
    const text = JSON.stringify(base);
    expect(text).not.toContain(a);
    expect(base.entries).toHaveLength(1);
    expect(base.entries[0]).toMatchObject({ ruleId: 'github-pat-classic', path: 'src/a.ts', line: 3 });
    expect(base.salt).toMatch(/^[0-9a-f]{32}$/);
  });

  it('accept the same value at the same path on any line, and nothing else', () => {
    const r = applyBaseline(
      [
        finding('src/a.ts', 30, a), // moved down: still accepted
        finding('src/a.ts', 3, b), // a different secret on the accepted line: new
        finding('src/b.ts', 3, a), // the same secret copied elsewhere: new
      ],
      parseBaseline(JSON.stringify(base), '.keyward-baseline.json'),
    );
    expect(r.accepted.map((f) => [f.origin.path, f.line])).toEqual([['src/a.ts', 30]]);
    expect(r.fresh.map((f) => [f.origin.path, f.line])).toEqual([
      ['src/a.ts', 3],
      ['src/b.ts', 3],
    ]);
  });

  it('keep the salt and the reasons when rewritten', () => {
    const withReason = {
      ...base,
      entries: base.entries.map((e) => ({ ...e, reason: 'revoked 2026-01-02' })),
    };
    const next = createBaseline([finding('src/a.ts', 9, a)], new Date(), withReason);
    expect(next.salt).toBe(base.salt);
    expect(next.entries[0]).toMatchObject({ line: 9, reason: 'revoked 2026-01-02' });
  });

  it('name the file and the field of a broken baseline', () => {
    expect(() => parseBaseline('{', 'b.json')).toThrow(/^b\.json: not JSON/);
    expect(() =>
      parseBaseline(JSON.stringify({ ...base, entries: [{ ...base.entries[0], hash: 'x' }] }), 'b.json'),
    ).toThrow('b.json: entries.0.hash: must be 64 hex characters');
    expect(() => parseBaseline(JSON.stringify({ ...base, version: 2 }), 'b.json')).toThrow(
      /b\.json: version: /,
    );
  });
});
