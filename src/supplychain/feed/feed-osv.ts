/**
 * Imports OSV records of malicious npm packages (the OpenSSF `malicious-packages` repository keeps them as
 * `osv/malicious/npm/<name>/MAL-….json`) into a Keyward feed document. Only `MAL-` records with an affected
 * package of ecosystem `npm` are used. A range that opens at `0` and is never fixed means every version
 * (`null`); other SEMVER/ECOSYSTEM ranges become semver ranges (`>=1.0.0 <1.0.3`); explicit `versions` are
 * kept as they are. A file that cannot be used is skipped with the reason; the import never throws for one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { FEED_FORMAT, type FeedAdvisory, type FeedDocument, type FeedSource } from './feed-types.js';

/** A file `importOsvDirectory` did not use, and why. */
export interface SkippedOsvFile {
  /** Path relative to the imported directory. */
  file: string;
  reason: string;
}

/** What `importOsvDirectory` made. */
export interface OsvImportResult {
  feed: FeedDocument;
  /** Records imported. */
  imported: number;
  skipped: SkippedOsvFile[];
}

/** Options of `importOsvDirectory`. */
export interface OsvImportOptions {
  /** Attribution for the feed; default names the directory, with license "unknown". */
  source?: FeedSource;
  /** The feed's `generatedAt`; default now. */
  now?: Date;
}

/**
 * Reads every `*.json` file under `dir` (recursively) as an OSV record.
 * @example const { feed, skipped } = importOsvDirectory('malicious-packages/osv/malicious/npm')
 */
export function importOsvDirectory(dir: string, options: OsvImportOptions = {}): OsvImportResult {
  const entries: Record<string, string[] | null> = {};
  const advisories: Record<string, FeedAdvisory> = {};
  const skipped: SkippedOsvFile[] = [];
  let imported = 0;
  const files: string[] = [];
  try {
    collectJsonFiles(dir, files);
  } catch (err) {
    skipped.push({
      file: '.',
      reason: `cannot read the directory: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
  for (const path of files.sort()) {
    const file = relative(dir, path).split('\\').join('/');
    const result = readRecord(path);
    if ('reason' in result) {
      skipped.push({ file, reason: result.reason });
      continue;
    }
    imported++;
    for (const { name, versions } of result.packages) {
      const held = entries[name];
      entries[name] =
        held === null || versions === null ? null : [...new Set([...(held ?? []), ...versions])];
      if (!Object.hasOwn(advisories, name)) advisories[name] = { id: result.id, summary: result.summary };
    }
  }
  const feed: FeedDocument = {
    format: FEED_FORMAT,
    version: 1,
    generatedAt: (options.now ?? new Date()).toISOString(),
    sources: [
      options.source ?? { name: `OSV records in ${dir}`, url: pathToFileURL(dir).href, license: 'unknown' },
    ],
    entries,
    advisories,
  };
  return { feed, imported, skipped };
}

function collectJsonFiles(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collectJsonFiles(path, out);
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(path);
  }
}

type RecordResult =
  | { id: string; summary: string; packages: { name: string; versions: string[] | null }[] }
  | { reason: string };

function readRecord(path: string): RecordResult {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isObject(value)) return { reason: 'not an OSV record (expected a JSON object)' };
  const id = value['id'];
  if (typeof id !== 'string' || id === '') return { reason: 'no "id" string' };
  if (!id.startsWith('MAL-'))
    return { reason: `${id} is not a malicious-package record (id does not start with MAL-)` };
  if (value['withdrawn'] !== undefined) return { reason: `${id} is withdrawn` };
  const affected = value['affected'];
  if (!Array.isArray(affected)) return { reason: `${id} has no "affected" array` };
  const summary =
    typeof value['summary'] === 'string' ? value['summary'] : (firstLine(value['details']) ?? id);
  const packages: { name: string; versions: string[] | null }[] = [];
  for (const [i, a] of affected.entries()) {
    if (!isObject(a) || !isObject(a['package']) || a['package']['ecosystem'] !== 'npm') continue;
    const name = a['package']['name'];
    if (typeof name !== 'string' || name === '')
      return { reason: `${id}: affected[${i}].package.name is missing` };
    const versions = affectedVersions(a);
    if (typeof versions === 'string') return { reason: `${id}: affected[${i}] (${name}) ${versions}` };
    packages.push({ name, versions });
  }
  if (packages.length === 0) return { reason: `${id} lists no affected package with ecosystem "npm"` };
  return { id, summary, packages };
}

/** The versions an affected entry covers (null = all), or a string saying what is wrong. */
function affectedVersions(a: Record<string, unknown>): string[] | null | string {
  const out: string[] = [];
  const versions = a['versions'];
  if (versions !== undefined) {
    if (!Array.isArray(versions) || versions.some((v) => typeof v !== 'string'))
      return 'has a "versions" field that is not a list of strings';
    out.push(...(versions as string[]));
  }
  const ranges = a['ranges'];
  if (ranges !== undefined && !Array.isArray(ranges)) return 'has a "ranges" field that is not a list';
  let usable = out.length > 0;
  for (const [r, range] of (ranges ?? []).entries()) {
    if (!isObject(range) || (range['type'] !== 'SEMVER' && range['type'] !== 'ECOSYSTEM')) continue; // GIT ranges name commits, not versions
    if (!Array.isArray(range['events'])) return `ranges[${r}] has no "events" list`;
    const specs = rangeSpecs(range['events']);
    if (typeof specs === 'string') return `ranges[${r}] ${specs}`;
    if (specs === null) return null;
    out.push(...specs);
    usable = true;
  }
  return usable ? [...new Set(out)] : 'has neither "versions" nor a SEMVER/ECOSYSTEM range';
}

/** OSV events → semver ranges; null when a range opens at 0 and never closes (every version). */
function rangeSpecs(events: unknown[]): string[] | null | string {
  const specs: string[] = [];
  let open: string | null = null;
  for (const event of events) {
    if (!isObject(event)) return 'has an event that is not an object';
    const [kind, version] = Object.entries(event)[0] ?? [];
    if (typeof version !== 'string') return 'has an event without a version string';
    if (version !== '0' && semver.valid(version, { loose: true }) === null)
      return `has an event version "${version}" that is not semver`;
    if (kind === 'introduced') open = version;
    else if (kind === 'fixed' || kind === 'last_affected') {
      if (open === null) continue;
      const upper = kind === 'fixed' ? `<${version}` : `<=${version}`;
      specs.push(open === '0' ? upper : `>=${open} ${upper}`);
      open = null;
    }
  }
  if (open === '0') return null;
  if (open !== null) specs.push(`>=${open}`);
  return specs;
}

function firstLine(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? (value.trim().split('\n')[0] ?? null) : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
