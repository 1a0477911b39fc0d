/**
 * Finds Keyward's bundled data files (`data/npm/…`) from the running module, in both layouts: the sources
 * (`src/supplychain/analysis/x.ts` under tsx or vitest) and the build (`dist/src/supplychain/analysis/x.js`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../core/errors.js';

/**
 * The absolute path of a bundled data file, found by walking up from `fromUrl` (default: this module) until
 * `<dir>/<relativePath>` exists.
 * @example bundledDataFile('data/npm/popular.tsv')
 */
export function bundledDataFile(relativePath: string, fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ValidationError(`Keyward's bundled data file ${relativePath} was not found`, {
    code: 'KW_INVALID_CONFIG',
    details: [
      {
        path: relativePath,
        message: `no ${relativePath} in any parent directory of ${dirname(fileURLToPath(fromUrl))}; reinstall Keyward or pass the file's path explicitly`,
      },
    ],
  });
}
