/**
 * What dataset signing, verification and scanning leave in Keyward: an event in the hash-chained log
 * (`dataset.signed`, `dataset.verified`, `dataset.scanned`: the dataset, its supplier, who ran it, the result)
 * and the dataset as an inventory resource (provider `dataset`, type `dataset`, name `dataset:<name>`) whose
 * attributes hold its supplier, root digest and the last verification and scan.
 */
import { emptyBatch, type InventoryBatch } from '../core/inventory-batch.js';
import type { NewEvent } from '../core/types.js';
import { appendEvents } from '../audit/index.js';
import type { Store } from '../store/index.js';
import type { DatasetVerification } from './dataset-verify.js';

/** Provider and type of dataset resources. */
export const DATASET_RESOURCE = { provider: 'dataset', type: 'dataset' } as const;

/** One run to record. */
export interface DatasetRun {
  action: 'signed' | 'verified' | 'scanned';
  name: string;
  supplier: string | null;
  rootDigest: string | null;
  /** `ok`, `failed` (verification mismatch, credentials found) or `clean`. */
  result: 'ok' | 'failed';
  actor: string;
  time: string;
  /** Facts of the run (counts, signer key id, paths that differ); never values found in the data. */
  details: Record<string, unknown>;
}

/** The run a verification makes (`name` when the manifest could not be read), without actor and time. */
export function verificationRun(v: DatasetVerification, name: string): Omit<DatasetRun, 'actor' | 'time'> {
  const predicate = v.statement?.predicate;
  return {
    action: 'verified',
    name: v.statement?.subject[0]?.name ?? name,
    supplier: predicate?.supplier ?? null,
    rootDigest: predicate?.rootDigest ?? null,
    result: v.ok ? 'ok' : 'failed',
    details: {
      signer: v.signer,
      problems: v.problems.length,
      added: v.added.length,
      missing: v.missing.length,
      modified: v.modified.length,
      renamed: v.renamed.length,
    },
  };
}

/** The event for a run. */
export function datasetEvent(run: DatasetRun): NewEvent {
  return {
    time: run.time,
    type: `dataset.${run.action}`,
    actor: run.actor,
    subject: `dataset:${run.name}`,
    data: {
      dataset: run.name,
      supplier: run.supplier,
      rootDigest: run.rootDigest,
      result: run.result,
      ...run.details,
    },
  };
}

/** The inventory batch that creates or updates the dataset resource. */
export function datasetBatch(run: DatasetRun, previous: Record<string, unknown> = {}): InventoryBatch {
  const batch = emptyBatch();
  const last = { at: run.time, result: run.result, by: run.actor };
  batch.resources.push({
    ...DATASET_RESOURCE,
    name: `dataset:${run.name}`,
    attributes: {
      ...previous,
      dataset: run.name,
      ...(run.supplier !== null ? { supplier: run.supplier } : {}),
      ...(run.rootDigest !== null ? { rootDigest: run.rootDigest } : {}),
      ...(run.action === 'signed' ? { lastSigned: last } : {}),
      ...(run.action === 'verified' ? { lastVerification: last } : {}),
      ...(run.action === 'scanned' ? { lastScan: { ...last, ...run.details } } : {}),
    },
  });
  return batch;
}

/** What recording needs: the store's resources and event log, and the inventory's batch import. */
export interface DatasetRecorder {
  store: Pick<Store, 'listResources' | 'appendEvents'>;
  importBatch(batch: InventoryBatch, actor: string, source: Record<string, unknown>): Promise<unknown>;
}

/**
 * Records a run: updates (or creates) the dataset resource, keeping what earlier runs recorded, and appends the
 * event.
 * @example
 * await recordDatasetRun({ store: app.store, importBatch: app.inventory.importBatch }, run);
 */
export async function recordDatasetRun(recorder: DatasetRecorder, run: DatasetRun): Promise<void> {
  const name = `dataset:${run.name}`;
  let previous: Record<string, unknown> = {};
  for (let offset = 0; ; offset += 500) {
    const page = await recorder.store.listResources({ ...DATASET_RESOURCE, limit: 500, offset });
    const found = page.items.find((r) => r.name === name);
    if (found) {
      previous = found.attributes;
      break;
    }
    if (page.items.length < 500) break;
  }
  await recorder.importBatch(datasetBatch(run, previous), run.actor, { kind: 'dataset', action: run.action });
  await appendEvents(recorder.store, [datasetEvent(run)]);
}
