/**
 * The list of popular npm packages (`data/npm/popular.tsv`: `name<TAB>monthly downloads`), the reference for
 * typosquatting checks.
 */
import { readFileSync } from 'node:fs';
import { ValidationError, type ErrorDetail } from '../../core/errors.js';
import { bundledDataFile } from './meta-data-file.js';

/** One popular package and its monthly downloads. */
export interface PopularPackage {
  name: string;
  downloads: number;
}

/**
 * Reads a popular-packages TSV; without a path, the bundled `data/npm/popular.tsv` (found from this module in
 * both the source and the dist layout). Blank lines and `#` comments are skipped.
 * @example loadPopularPackages().length // 10000
 */
export function loadPopularPackages(path?: string): PopularPackage[] {
  const file = path ?? bundledDataFile('data/npm/popular.tsv', import.meta.url);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(`Cannot read the popular-packages list ${file}`, {
      code: 'KW_INVALID_CONFIG',
      cause: err,
      details: [{ path: file, message: err instanceof Error ? err.message : String(err) }],
    });
  }
  return parsePopularPackages(text, file);
}

/** Parses `name<TAB>downloads` lines; `source` names the file in errors. */
export function parsePopularPackages(text: string, source: string): PopularPackage[] {
  const out: PopularPackage[] = [];
  const details: ErrorDetail[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) return;
    const [name, downloads, ...rest] = line.split('\t');
    const count = Number(downloads);
    if (
      name === undefined ||
      name === '' ||
      rest.length > 0 ||
      downloads === undefined ||
      !/^\d+$/.test(downloads)
    ) {
      details.push({
        path: `${source}:${index + 1}`,
        message: 'expected `name<TAB>monthly downloads` (a whole number)',
      });
      return;
    }
    out.push({ name, downloads: count });
  });
  if (details.length > 0) {
    throw new ValidationError(`The popular-packages list ${source} has ${details.length} malformed line(s)`, {
      code: 'KW_INVALID_CONFIG',
      details: details.slice(0, 20),
    });
  }
  return out;
}
