/**
 * Keyward's known-malicious npm feed format: a JSON document listing package names with their malicious
 * versions, plus where the data came from.
 *
 * ```json
 * { "format": "keyward-npm-malicious-feed", "version": 1, "generatedAt": "2026-11-29T00:00:00.000Z",
 *   "sources": [{ "name": "…", "url": "…", "license": "Apache-2.0" }],
 *   "entries": { "bad-pkg": null, "hijacked": ["1.2.3", ">=2.0.0 <2.0.5"] },
 *   "advisories": { "bad-pkg": { "id": "MAL-2025-1", "summary": "Malicious code in bad-pkg (npm)" } } }
 * ```
 *
 * An entry of `null` means every version is malicious; otherwise each string is an exact version or a semver
 * range. `advisories` is optional and gives the record id and summary shown in reports.
 */
import { ValidationError, type ErrorDetail } from '../../core/errors.js';

/** The `format` value of every feed document. */
export const FEED_FORMAT = 'keyward-npm-malicious-feed';

/** Where a feed's data came from, for attribution. */
export interface FeedSource {
  name: string;
  url: string;
  license: string;
}

/** The id and summary of the record that listed a package. */
export interface FeedAdvisory {
  id: string;
  summary: string;
}

/** A feed document as stored on disk. */
export interface FeedDocument {
  format: typeof FEED_FORMAT;
  version: 1;
  /** ISO-8601 time the document was made. */
  generatedAt: string;
  sources: FeedSource[];
  /** Package name → malicious versions or ranges, or null for every version. */
  entries: Record<string, string[] | null>;
  advisories?: Record<string, FeedAdvisory>;
}

/** What a feed says about a package version it lists. */
export interface FeedHit {
  /** The record id (an OSV `MAL-…` id), or `<name>@<version>` when the source gives none. */
  id: string;
  summary: string;
  /** The source names of the document that listed it. */
  source: string;
}

/**
 * Validates a parsed JSON value as a feed document; `file` names it in errors.
 * @example parseFeedDocument(JSON.parse(text), 'npm-feed.json')
 */
export function parseFeedDocument(value: unknown, file: string): FeedDocument {
  const details: ErrorDetail[] = [];
  const fail = (path: string, message: string): void => {
    if (details.length < 20) details.push({ path: `${file}: ${path}`, message });
  };
  if (!isObject(value)) {
    fail('(root)', 'expected a JSON object');
  } else {
    if (value['format'] !== FEED_FORMAT) fail('format', `expected "${FEED_FORMAT}"`);
    if (value['version'] !== 1) fail('version', 'expected 1 (the only feed version this Keyward reads)');
    if (typeof value['generatedAt'] !== 'string') fail('generatedAt', 'expected an ISO-8601 time string');
    const sources = value['sources'];
    if (!Array.isArray(sources)) fail('sources', 'expected an array of { name, url, license }');
    else
      sources.forEach((s: unknown, i) => {
        if (!isObject(s) || ['name', 'url', 'license'].some((k) => typeof s[k] !== 'string'))
          fail(`sources[${i}]`, 'expected { name, url, license } strings');
      });
    const entries = value['entries'];
    if (!isObject(entries)) fail('entries', 'expected an object of package name → version list or null');
    else
      for (const [name, versions] of Object.entries(entries)) {
        if (versions !== null && (!Array.isArray(versions) || versions.some((v) => typeof v !== 'string')))
          fail(`entries[${JSON.stringify(name)}]`, 'expected null or an array of version strings');
      }
    const advisories = value['advisories'];
    if (advisories !== undefined) {
      if (!isObject(advisories)) fail('advisories', 'expected an object of package name → { id, summary }');
      else
        for (const [name, a] of Object.entries(advisories)) {
          if (!isObject(a) || typeof a['id'] !== 'string' || typeof a['summary'] !== 'string')
            fail(`advisories[${JSON.stringify(name)}]`, 'expected { id, summary } strings');
        }
    }
  }
  if (details.length > 0) {
    throw new ValidationError(`${file} is not a valid Keyward npm malicious-package feed`, {
      code: 'KW_INVALID_CONFIG',
      details,
    });
  }
  return value as unknown as FeedDocument;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
