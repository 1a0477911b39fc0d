import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { parseSuppressions } from './npm-report.js';

const good = {
  format: 'keyward-npm-suppressions',
  version: 1,
  suppressions: [
    {
      package: 'p',
      version: '1.0.0',
      ruleId: 'npm.threat.exfiltration',
      file: 'index.js',
      contentHash: 'a'.repeat(64),
      reason: 'reviewed',
    },
  ],
};

function error(doc: unknown): string {
  try {
    parseSuppressions(typeof doc === 'string' ? doc : JSON.stringify(doc), 's.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('parseSuppressions', () => {
  it('reads a valid file', () => {
    expect(parseSuppressions(JSON.stringify(good), 's.json').suppressions).toHaveLength(1);
  });

  it('names the file and the field of each problem', () => {
    expect(error('{ nope')).toMatch(/^s\.json: not JSON/);
    expect(error({ ...good, format: 'x' })).toContain('not a Keyward npm suppressions file');
    expect(error({ ...good, suppressions: {} })).toBe('s.json: "suppressions" must be an array');
    const bad = (patch: Record<string, unknown>) => ({
      ...good,
      suppressions: [{ ...good.suppressions[0], ...patch }],
    });
    expect(error(bad({ contentHash: undefined }))).toBe(
      "s.json:suppressions[0].contentHash must be the file's SHA-256 (64 hex digits): suppressions never match a bare path",
    );
    expect(error(bad({ reason: ' ' }))).toBe(
      's.json:suppressions[0].reason must say why the finding is accepted',
    );
    expect(error(bad({ ruleId: 'x' }))).toBe('s.json:suppressions[0].ruleId must be an npm.* rule id');
    expect(error(bad({ version: '' }))).toBe('s.json:suppressions[0].version must be an exact version');
  });

  it('accepts a metadata finding (no file) without a content hash', () => {
    const meta = { ...good, suppressions: [{ ...good.suppressions[0], file: null, contentHash: null }] };
    expect(parseSuppressions(JSON.stringify(meta), 's.json').suppressions[0]!.file).toBeNull();
  });
});
