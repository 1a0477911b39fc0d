import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importOsvDirectory } from './feed-osv.js';
import { feedFromDocuments } from './feed-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-osv-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const put = (file: string, value: unknown): void => {
  const path = join(dir, file);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
};
const record = (
  id: string,
  name: string,
  affected: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) => ({
  schema_version: '1.5.0',
  id,
  modified: '2026-01-02T00:00:00Z',
  published: '2026-01-01T00:00:00Z',
  summary: `Malicious code in ${name} (npm)`,
  details: 'The package sends credentials to a remote host.',
  affected: [{ package: { ecosystem: 'npm', name }, ...affected }],
  ...extra,
});

describe('importOsvDirectory', () => {
  it('imports MAL- records recursively: open ranges are every version, others become semver ranges', () => {
    put(
      'npm/evil/MAL-2026-1.json',
      record('MAL-2026-1', 'evil', { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }),
    );
    put(
      'npm/hijacked/MAL-2026-2.json',
      record('MAL-2026-2', 'hijacked', {
        ranges: [
          {
            type: 'ECOSYSTEM',
            events: [
              { introduced: '2.0.0' },
              { fixed: '2.0.5' },
              { introduced: '3.1.0' },
              { last_affected: '3.1.2' },
            ],
          },
        ],
        versions: ['1.2.3'],
      }),
    );
    put('npm/@s/x/MAL-2026-3.json', record('MAL-2026-3', '@s/x', { versions: ['0.0.1', '0.0.2'] }));
    put(
      'npm/late/MAL-2026-4.json',
      record('MAL-2026-4', 'late', { ranges: [{ type: 'SEMVER', events: [{ introduced: '1.5.0' }] }] }),
    );

    const { feed, imported, skipped } = importOsvDirectory(dir, { now: new Date('2026-02-01T00:00:00Z') });
    expect(skipped).toEqual([]);
    expect(imported).toBe(4);
    expect(feed.generatedAt).toBe('2026-02-01T00:00:00.000Z');
    expect(feed.entries).toEqual({
      evil: null,
      hijacked: ['1.2.3', '>=2.0.0 <2.0.5', '>=3.1.0 <=3.1.2'],
      '@s/x': ['0.0.1', '0.0.2'],
      late: ['>=1.5.0'],
    });
    expect(feed.advisories?.['evil']).toEqual({ id: 'MAL-2026-1', summary: 'Malicious code in evil (npm)' });

    const lookup = feedFromDocuments([{ document: feed, file: 'osv' }]);
    expect(lookup.lookup('evil', '9.9.9')?.id).toBe('MAL-2026-1');
    expect(
      ['1.2.3', '2.0.0', '2.0.4', '3.1.2', '1.5.0'].map((v) => lookup.lookup('hijacked', v) !== null),
    ).toEqual([true, true, true, true, false]);
    expect(['2.0.5', '3.1.3', '1.2.4'].map((v) => lookup.lookup('hijacked', v))).toEqual([null, null, null]);
    expect(lookup.lookup('late', '1.4.9')).toBeNull();
    expect(lookup.lookup('late', '2.0.0')?.id).toBe('MAL-2026-4');
  });

  it('merges several records for one package (every version wins)', () => {
    put('a.json', record('MAL-1', 'p', { versions: ['1.0.0'] }));
    put('b.json', record('MAL-2', 'p', { versions: ['1.0.1'] }));
    put('c.json', record('MAL-3', 'q', { versions: ['1.0.0'] }));
    put('d.json', record('MAL-4', 'q', { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }));
    const { feed } = importOsvDirectory(dir);
    expect(feed.entries).toEqual({ p: ['1.0.0', '1.0.1'], q: null });
    expect(feed.advisories?.['p']?.id).toBe('MAL-1');
  });

  it('skips unusable files with the reason and never throws', () => {
    put('bad.json', '{ not json');
    put('array.json', []);
    put('noid.json', { affected: [] });
    put('ghsa.json', record('GHSA-xxxx-yyyy-zzzz', 'p', { versions: ['1.0.0'] }));
    put('pypi.json', {
      id: 'MAL-9',
      affected: [{ package: { ecosystem: 'PyPI', name: 'p' }, versions: ['1'] }],
    });
    put(
      'withdrawn.json',
      record('MAL-8', 'p', { versions: ['1.0.0'] }, { withdrawn: '2026-01-03T00:00:00Z' }),
    );
    put(
      'git.json',
      record('MAL-7', 'p', { ranges: [{ type: 'GIT', repo: 'https://x', events: [{ introduced: 'abc' }] }] }),
    );
    put(
      'badver.json',
      record('MAL-6', 'p', { ranges: [{ type: 'SEMVER', events: [{ introduced: 'one' }] }] }),
    );
    put('notes.txt', 'ignored');
    const { imported, skipped, feed } = importOsvDirectory(dir);
    expect(imported).toBe(0);
    expect(feed.entries).toEqual({});
    expect(skipped.map((s) => [s.file, s.reason.replace(/not JSON: .*/, 'not JSON: …')])).toEqual([
      ['array.json', 'not an OSV record (expected a JSON object)'],
      ['bad.json', 'not JSON: …'],
      ['badver.json', 'MAL-6: affected[0] (p) ranges[0] has an event version "one" that is not semver'],
      ['ghsa.json', 'GHSA-xxxx-yyyy-zzzz is not a malicious-package record (id does not start with MAL-)'],
      ['git.json', 'MAL-7: affected[0] (p) has neither "versions" nor a SEMVER/ECOSYSTEM range'],
      ['noid.json', 'no "id" string'],
      ['pypi.json', 'MAL-9 lists no affected package with ecosystem "npm"'],
      ['withdrawn.json', 'MAL-8 is withdrawn'],
    ]);
  });

  it('reports a missing directory as a skipped entry', () => {
    const result = importOsvDirectory(join(dir, 'missing'));
    expect(result.imported).toBe(0);
    expect(result.skipped).toEqual([
      { file: '.', reason: expect.stringContaining('cannot read the directory: ENOENT') },
    ]);
  });
});
