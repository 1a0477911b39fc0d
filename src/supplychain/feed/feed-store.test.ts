import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FEED_FORMAT, type FeedDocument } from './feed-types.js';
import { loadFeed, writeFeed, USER_FEED_FILE } from './feed-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-feed-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const doc = (entries: FeedDocument['entries'], advisories?: FeedDocument['advisories']): FeedDocument => ({
  format: FEED_FORMAT,
  version: 1,
  generatedAt: '2026-01-01T00:00:00.000Z',
  sources: [{ name: 'Test feed', url: 'https://example.invalid/feed', license: 'CC0-1.0' }],
  entries,
  ...(advisories === undefined ? {} : { advisories }),
});

describe('loadFeed with the bundled feed', () => {
  it('loads the Datadog-derived entries and attributes them', () => {
    const feed = loadFeed();
    expect(feed.size).toBe(2711);
    expect(feed.lookup('000webhost-admin', '999.9.9')).toEqual({
      id: '000webhost-admin@999.9.9',
      summary: '000webhost-admin@999.9.9 is listed as malicious',
      source: 'Datadog Security Labs malicious-software-packages-dataset',
    });
    expect(feed.lookup('000webhost-admin', '1.0.0')).toBeNull();
    expect(feed.lookup('react', '18.2.0')).toBeNull();
    const bundled = JSON.parse(readFileSync(feed.files[0] as string, 'utf8')) as FeedDocument;
    expect(bundled.sources).toEqual([
      expect.objectContaining({
        license: 'Apache-2.0',
        url: expect.stringContaining('DataDog/malicious-software-packages-dataset'),
      }),
    ]);
  });
});

describe('loadFeed with a user feed', () => {
  it('consults <dataDir>/npm-feed.json first and still answers from the bundled feed', () => {
    writeFeed(
      doc(
        { evil: null, hijacked: ['1.2.3', '>=2.0.0 <2.0.5'] },
        { evil: { id: 'MAL-2026-1', summary: 'Malicious code in evil (npm)' } },
      ),
      join(dir, USER_FEED_FILE),
    );
    const feed = loadFeed({ dataDir: dir });
    expect(feed.files).toEqual([
      join(dir, USER_FEED_FILE),
      expect.stringMatching(/data\/npm\/malicious-feed\.json$/),
    ]);
    expect(feed.lookup('evil', '0.0.1')).toEqual({
      id: 'MAL-2026-1',
      summary: 'Malicious code in evil (npm)',
      source: 'Test feed',
    });
    expect(feed.lookup('hijacked', '1.2.3')?.id).toBe('hijacked@1.2.3');
    expect(feed.lookup('hijacked', '2.0.4')).not.toBeNull();
    expect(feed.lookup('hijacked', '2.0.5')).toBeNull();
    expect(feed.lookup('hijacked', '1.2.4')).toBeNull();
    expect(feed.lookup('000webhost-admin', '999.9.9')?.source).toBe(
      'Datadog Security Labs malicious-software-packages-dataset',
    );
  });

  it('works without a user feed in the data directory', () => {
    expect(loadFeed({ dataDir: dir }).files).toHaveLength(1);
  });

  it('returns a critical known-malicious signal with the record id', () => {
    writeFeed(
      doc({ evil: null }, { evil: { id: 'MAL-2026-1', summary: 'Malicious code in evil (npm)' } }),
      join(dir, USER_FEED_FILE),
    );
    expect(loadFeed({ dataDir: dir }).check('evil', '1.0.0')).toEqual({
      ruleId: 'npm.metadata.known-malicious',
      kind: 'metadata',
      category: 'known-malicious',
      severity: 'critical',
      message:
        'evil@1.0.0 is a known-malicious package (MAL-2026-1, listed by Test feed): Malicious code in evil (npm)',
      file: null,
      line: null,
      column: null,
      snippet: 'evil@1.0.0',
    });
    expect(loadFeed({ dataDir: dir }).check('good', '1.0.0')).toBeNull();
  });

  it('rejects a malformed user feed with the field that is wrong', () => {
    writeFileSync(
      join(dir, USER_FEED_FILE),
      JSON.stringify({ ...doc({}), version: 2, entries: { x: 'all' } }),
    );
    expect(() => loadFeed({ dataDir: dir })).toThrow(
      expect.objectContaining({
        code: 'KW_INVALID_CONFIG',
        details: [
          {
            path: `${join(dir, USER_FEED_FILE)}: version`,
            message: 'expected 1 (the only feed version this Keyward reads)',
          },
          {
            path: `${join(dir, USER_FEED_FILE)}: entries["x"]`,
            message: 'expected null or an array of version strings',
          },
        ],
      }),
    );
  });

  it('rejects a user feed that is not JSON, naming the file', () => {
    writeFileSync(join(dir, USER_FEED_FILE), '{ nope');
    expect(() => loadFeed({ dataDir: dir })).toThrow(expect.objectContaining({ code: 'KW_INVALID_CONFIG' }));
  });
});

describe('writeFeed', () => {
  it('round-trips a document, one entry a line', () => {
    const path = join(dir, 'sub', 'feed.json');
    const d = doc({ b: ['1.0.0'], a: null });
    writeFeed(d, path);
    const text = readFileSync(path, 'utf8');
    expect(JSON.parse(text)).toEqual({ ...d, entries: { a: null, b: ['1.0.0'] } });
    expect(text).toContain('\n    "a": null,\n    "b": ["1.0.0"]\n  }\n}\n');
  });
});
