import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundledDataFile } from './meta-data-file.js';

const root = resolve(import.meta.dirname, '..', '..', '..');

describe('bundledDataFile', () => {
  it('finds data/npm files from the source layout', () => {
    expect(bundledDataFile('data/npm/popular.tsv')).toBe(join(root, 'data/npm/popular.tsv'));
  });

  it('finds them from the dist layout (dist/src/supplychain/analysis)', () => {
    const fromDist = pathToFileURL(join(root, 'dist/src/supplychain/analysis/meta-popular.js')).href;
    expect(bundledDataFile('data/npm/malicious-feed.json', fromDist)).toBe(
      join(root, 'data/npm/malicious-feed.json'),
    );
    expect(existsSync(join(root, 'data/npm/NOTICE.md'))).toBe(true);
  });

  it('names the file and where it looked when it is missing', () => {
    const from = pathToFileURL(join(tmpdir(), 'nowhere', 'x.js')).href;
    expect(() => bundledDataFile('data/npm/none.tsv', from)).toThrow(
      expect.objectContaining({
        code: 'KW_INVALID_CONFIG',
        details: [expect.objectContaining({ path: 'data/npm/none.tsv' })],
      }),
    );
  });
});
