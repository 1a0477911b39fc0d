/**
 * The detection engine's event side: adapters that normalize CloudTrail, GitHub audit, Kubernetes audit,
 * Keyward and mapped NDJSON records into DetectEvents, and the reader for files and directories.
 * Field names and mappings: docs/events.md.
 */
export {
  ADAPTER_NAMES,
  adapterFor,
  detectFormat,
  isAdapterName,
  normalizeRecord,
  type NormalizeSource,
} from './adapters.js';
export { CLOUDTRAIL_LOGSOURCE, cloudtrailAdapter } from './cloudtrail-adapter.js';
export {
  NORMALIZED_FIELDS,
  hashId,
  isBrokenRecord,
  parseTime,
  type Adapter,
  type NormalizedField,
  type RecordSource,
  type TimestampFormat,
} from './event-common.js';
export { GITHUB_LOGSOURCE, githubAdapter } from './github-adapter.js';
export { eventFromKeywardRecord, keywardAdapter, keywardLogSource } from './keyward-adapter.js';
export { KUBERNETES_LOGSOURCE, kubernetesAdapter } from './kubernetes-adapter.js';
export { MAX_LINE_BYTES } from './line-reader.js';
export {
  FieldMappingError,
  createMappingAdapter,
  loadFieldMapping,
  parseFieldMapping,
  type FieldMapping,
  type FieldSource,
} from './mapping-adapter.js';
export { readEvents, type EventStream, type ReadCounters, type ReadEventsOptions } from './read-events.js';
