/**
 * Loading, querying and writing known-malicious feeds. The bundled feed (`data/npm/malicious-feed.json`) is
 * always loaded; a user feed at `<dataDir>/npm-feed.json` (for instance made by `importOsvDirectory`) is
 * consulted first when present.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { ValidationError } from '../../core/errors.js';
import type { Signal } from '../npm-types.js';
import { bundledDataFile } from '../analysis/meta-data-file.js';
import { parseFeedDocument, type FeedDocument, type FeedHit } from './feed-types.js';

/** The user feed's file name inside a data directory. */
export const USER_FEED_FILE = 'npm-feed.json';

/** Options of `loadFeed`. */
export interface LoadFeedOptions {
  /** The bundled feed's path; default `data/npm/malicious-feed.json` found from this module. */
  path?: string;
  /** Keyward's data directory; `<dataDir>/npm-feed.json` is read when it exists and takes precedence. */
  dataDir?: string;
}

interface CompiledEntry {
  all: boolean;
  exact: Set<string>;
  ranges: { spec: string; range: semver.Range }[];
}

interface CompiledDocument {
  document: FeedDocument;
  file: string;
  source: string;
  entries: Map<string, CompiledEntry>;
}

/**
 * Loads the bundled feed and, with `dataDir`, the user's feed.
 * @example loadFeed({ dataDir: '.keyward' }).lookup('bad-pkg', '1.0.0')
 */
export function loadFeed(options: string | LoadFeedOptions = {}) {
  const opts = typeof options === 'string' ? { path: options } : options;
  const documents: CompiledDocument[] = [];
  if (opts.dataDir !== undefined) {
    const user = join(opts.dataDir, USER_FEED_FILE);
    if (existsSync(user)) documents.push(compile(readFeedFile(user), user));
  }
  const bundled = opts.path ?? bundledDataFile('data/npm/malicious-feed.json', import.meta.url);
  documents.push(compile(readFeedFile(bundled), bundled));
  return createMaliciousFeed(documents);
}

/** Builds a feed over documents already in memory (first document wins). */
export function feedFromDocuments(documents: { document: FeedDocument; file: string }[]) {
  return createMaliciousFeed(documents.map((d) => compile(d.document, d.file)));
}

function createMaliciousFeed(documents: CompiledDocument[]) {
  /** The first listing of `name@version`, or null. */
  function lookup(name: string, version: string): FeedHit | null {
    for (const doc of documents) {
      const entry = doc.entries.get(name);
      if (entry === undefined || !matches(entry, version)) continue;
      const advisory = Object.hasOwn(doc.document.advisories ?? {}, name)
        ? doc.document.advisories?.[name]
        : undefined;
      return {
        id: advisory?.id ?? `${name}@${version}`,
        summary: advisory?.summary ?? `${name}@${version} is listed as malicious`,
        source: doc.source,
      };
    }
    return null;
  }

  /** A critical `npm.metadata.known-malicious` signal when `name@version` is listed, else null. */
  function check(name: string, version: string): Signal | null {
    const hit = lookup(name, version);
    return hit === null ? null : knownMaliciousSignal(name, version, hit);
  }

  return {
    lookup,
    check,
    /** The files the feed was read from, user feed first. */
    files: documents.map((d) => d.file),
    /** Number of package names listed across the documents (a name in two documents counts twice). */
    size: documents.reduce((n, d) => n + d.entries.size, 0),
  };
}

/** A feed made by `loadFeed`. */
export type MaliciousFeed = ReturnType<typeof createMaliciousFeed>;

/** The signal for a feed hit. */
export function knownMaliciousSignal(name: string, version: string, hit: FeedHit): Signal {
  return {
    ruleId: 'npm.metadata.known-malicious',
    kind: 'metadata',
    category: 'known-malicious',
    severity: 'critical',
    message: `${name}@${version} is a known-malicious package (${hit.id}, listed by ${hit.source}): ${hit.summary}`,
    file: null,
    line: null,
    column: null,
    snippet: `${name}@${version}`.slice(0, 160),
  };
}

/**
 * Writes a feed document (validated first) atomically, one entry a line, creating the directory.
 * @example writeFeed(importOsvDirectory(dir).feed, join(dataDir, USER_FEED_FILE))
 */
export function writeFeed(feed: FeedDocument, path: string): void {
  parseFeedDocument(feed, path);
  const { entries, ...head } = feed;
  const names = Object.keys(entries).sort();
  const lines = names.map((n) => `    ${JSON.stringify(n)}: ${JSON.stringify(entries[n] ?? null)}`);
  const headText = JSON.stringify({ ...head, entries: {} }, null, 2);
  const text =
    names.length === 0
      ? `${headText}\n`
      : `${headText.replace(/"entries": \{\}/, `"entries": {\n${lines.join(',\n')}\n  }`)}\n`;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function readFeedFile(file: string): FeedDocument {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(`Cannot read the npm malicious-package feed ${file}`, {
      code: 'KW_INVALID_CONFIG',
      cause: err,
      details: [{ path: file, message: err instanceof Error ? err.message : String(err) }],
    });
  }
  return parseFeedDocument(value, file);
}

function compile(document: FeedDocument, file: string): CompiledDocument {
  const entries = new Map<string, CompiledEntry>();
  for (const [name, versions] of Object.entries(document.entries)) {
    const entry: CompiledEntry = { all: versions === null, exact: new Set(), ranges: [] };
    for (const spec of versions ?? []) {
      const exact = semver.valid(spec, { loose: true });
      if (exact !== null || semver.validRange(spec, { loose: true, includePrerelease: true }) === null) {
        entry.exact.add(spec);
        if (exact !== null) entry.exact.add(exact);
      } else {
        entry.ranges.push({ spec, range: new semver.Range(spec, { loose: true, includePrerelease: true }) });
      }
    }
    entries.set(name, entry);
  }
  return { document, file, source: document.sources.map((s) => s.name).join(', ') || file, entries };
}

function matches(entry: CompiledEntry, version: string): boolean {
  if (entry.all || entry.exact.has(version)) return true;
  const clean = semver.valid(version, { loose: true });
  if (clean === null) return false;
  return entry.exact.has(clean) || entry.ranges.some((r) => r.range.test(clean));
}
