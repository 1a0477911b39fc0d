/**
 * The latest scan results, read from what the scanners record in the event log:
 * - npm: `npm.scan.completed` (keyward npm scan|install --record), with the `npm.package.flagged` records of
 *   the same run (packages at medium or above, their findings and evidence: file, line, message);
 * - secrets: `inventory.batch.applied` of source kind `secret-scan` (keyward scan --record): counts by severity
 *   and the first findings' rule, file, line and preview (`evidence`);
 * - datasets: `dataset.verified` and `dataset.scanned` (keyward dataset verify|scan --record, or the API).
 * Event data never holds a secret value (the recorders keep fingerprints, previews and counts).
 */
import type { EventRecord } from '../core/types.js';
import type { Store } from '../store/index.js';

/** The kinds of scan. */
export type ScanKind = 'npm' | 'secrets' | 'datasets';

/** One recorded scan. */
export interface ScanSummary {
  /** The event log record it was read from. */
  seq: number;
  time: string;
  actor: string;
  kind: ScanKind;
  /** The event type (`npm.scan.completed`, `inventory.batch.applied`, `dataset.verified`, `dataset.scanned`). */
  type: string;
  /** What was scanned: lockfile paths, the scanned paths, the dataset; null when the record does not say. */
  target: string | null;
  /** The recorded event data (counts, verdicts, findings with evidence). */
  result: Record<string, unknown>;
}

/** What GET /scans/latest answers. */
export interface LatestScans {
  npm: ScanSummary | null;
  secrets: ScanSummary | null;
  datasets: ScanSummary | null;
  /** The last 20 scans of every kind, newest first. */
  recent: ScanSummary[];
}

const NPM_TYPES = ['npm.scan.completed'];
const DATASET_TYPES = ['dataset.verified', 'dataset.scanned'];
const BATCH_TYPE = 'inventory.batch.applied';
/** Records read, newest first, when looking for scans among inventory batches and flagged packages. */
const PAGE = 200;
const MAX_PAGES = 10;
/** At most this many flagged packages are attached to an npm run. */
const MAX_FLAGGED = 50;
export const RECENT_SCANS = 20;

type ScanStore = Pick<Store, 'listEvents'>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for an event a scanner recorded. */
function isScan(e: EventRecord): boolean {
  if (e.type === BATCH_TYPE) return isObject(e.data.source) && e.data.source.kind === 'secret-scan';
  return NPM_TYPES.includes(e.type) || DATASET_TYPES.includes(e.type);
}

function summarise(e: EventRecord): ScanSummary {
  let kind: ScanKind;
  let target: string | null = null;
  if (e.type === BATCH_TYPE) {
    kind = 'secrets';
    const source = e.data.source as Record<string, unknown>;
    target = typeof source.target === 'string' ? source.target : null;
  } else if (NPM_TYPES.includes(e.type)) {
    kind = 'npm';
    const inputs = Array.isArray(e.data.inputs) ? e.data.inputs : [];
    const paths = inputs
      .map((i) => (isObject(i) && typeof i.path === 'string' ? i.path : null))
      .filter((p) => p !== null);
    target = paths.length > 0 ? paths.join(', ') : null;
  } else {
    kind = 'datasets';
    target = typeof e.data.dataset === 'string' ? e.data.dataset : e.subject;
  }
  return { seq: e.seq, time: e.time, actor: e.actor, kind, type: e.type, target, result: e.data };
}

/** Newest-first scan records of these types, reading at most MAX_PAGES pages; `want` of them at most. */
async function newestScans(store: ScanStore, types: string[], want: number): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  let before: number | undefined;
  for (let page = 0; page < MAX_PAGES && out.length < want; page++) {
    const { items } = await store.listEvents({
      types,
      order: 'desc',
      limit: PAGE,
      ...(before !== undefined ? { before } : {}),
    });
    for (const e of items) if (isScan(e) && out.length < want) out.push(e);
    if (items.length < PAGE) break;
    before = items.at(-1)!.seq;
  }
  return out;
}

/** The npm run with the packages it flagged (appended right after its summary, same time and actor). */
async function withFlagged(store: ScanStore, s: ScanSummary): Promise<ScanSummary> {
  const { items } = await store.listEvents({
    types: ['npm.package.flagged'],
    after: s.seq,
    limit: MAX_FLAGGED,
  });
  const flagged = items.filter((e) => e.time === s.time && e.actor === s.actor).map((e) => e.data);
  return { ...s, result: { ...s.result, flagged } };
}

/**
 * The newest scan of each kind and the recent ones.
 * @example
 * const scans = await latestScans(app.store);
 */
export async function latestScans(store: ScanStore): Promise<LatestScans> {
  const [npm, secrets, datasets, recent] = await Promise.all([
    newestScans(store, NPM_TYPES, 1),
    newestScans(store, [BATCH_TYPE], 1),
    newestScans(store, DATASET_TYPES, 1),
    newestScans(store, [...NPM_TYPES, BATCH_TYPE, ...DATASET_TYPES], RECENT_SCANS),
  ]);
  return {
    npm: npm[0] ? await withFlagged(store, summarise(npm[0])) : null,
    secrets: secrets[0] ? summarise(secrets[0]) : null,
    datasets: datasets[0] ? summarise(datasets[0]) : null,
    recent: recent.map(summarise),
  };
}
