/**
 * The adapters by name, format detection from a record's shape, and normalizeRecord for records that do not
 * come from a file (posted to the server).
 */
import type { AdapterName, BrokenRecord, DetectEvent } from '../detect-types.js';
import { cloudtrailAdapter, isCloudTrailDelivery, looksLikeCloudTrail } from './cloudtrail-adapter.js';
import { broken, isRecord, type Adapter, type RecordSource } from './event-common.js';
import { githubAdapter, looksLikeGitHubAudit } from './github-adapter.js';
import { keywardAdapter, looksLikeKeywardEvent } from './keyward-adapter.js';
import { kubernetesAdapter, looksLikeKubernetesAudit } from './kubernetes-adapter.js';
import { createMappingAdapter, type FieldMapping } from './mapping-adapter.js';

/** Every adapter name, for option parsing (`--format`). */
export const ADAPTER_NAMES: readonly AdapterName[] = [
  'keyward',
  'cloudtrail',
  'github',
  'kubernetes',
  'ndjson',
];

/** True when a string is an adapter name. */
export function isAdapterName(value: unknown): value is AdapterName {
  return typeof value === 'string' && (ADAPTER_NAMES as readonly string[]).includes(value);
}

/**
 * The format of a source from its first record: a CloudTrail delivery document or record, a Kubernetes audit
 * event, a Keyward event record, a GitHub audit entry (checked in that order), or null when none fits.
 */
export function detectFormat(record: unknown): Exclude<AdapterName, 'ndjson'> | null {
  if (!isRecord(record)) return null;
  if (isCloudTrailDelivery(record) || looksLikeCloudTrail(record)) return 'cloudtrail';
  if (looksLikeKubernetesAudit(record)) return 'kubernetes';
  if (looksLikeKeywardEvent(record)) return 'keyward';
  if (looksLikeGitHubAudit(record)) return 'github';
  return null;
}

/** The adapter for a name; `ndjson` needs a mapping (null without one). */
export function adapterFor(name: AdapterName, mapping: FieldMapping | null = null): Adapter | null {
  switch (name) {
    case 'cloudtrail':
      return cloudtrailAdapter;
    case 'github':
      return githubAdapter;
    case 'kubernetes':
      return kubernetesAdapter;
    case 'keyward':
      return keywardAdapter;
    case 'ndjson':
      return mapping === null ? null : createMappingAdapter(mapping);
  }
}

/** Where a record that is not read from a file comes from. */
export interface NormalizeSource {
  file?: string | null;
  line?: number | null;
  /** The seq the event gets (the caller's arrival counter). */
  seq: number;
  /** Needed by the `ndjson` adapter. */
  mapping?: FieldMapping | null;
}

/**
 * Normalizes one record with the named adapter, e.g. a record posted over HTTP. A CloudTrail delivery
 * document is refused (post its records one by one), as is `ndjson` without a mapping.
 *
 * @example
 * const e = normalizeRecord('cloudtrail', body, { seq: 1 });
 * if (isBrokenRecord(e)) reply(400, e.reason);
 */
export function normalizeRecord(
  adapter: AdapterName,
  record: unknown,
  source: NormalizeSource,
): DetectEvent | BrokenRecord {
  const src: RecordSource = { file: source.file ?? null, line: source.line ?? null, seq: source.seq };
  const fn = adapterFor(adapter, source.mapping ?? null);
  if (fn === null) return broken(src, 'the ndjson adapter needs a field mapping');
  return fn(record, src);
}
