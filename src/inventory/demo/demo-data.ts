// IN PROGRESS (demo helper replaces this file).
import type { Fingerprinter } from '../../core/fingerprint.js';
import type { InventoryBatch } from '../../core/inventory-batch.js';

/** The demo company's batches. */
export function buildDemoBatches(
  _f: Fingerprinter,
  _now: Date,
): Array<{ name: string; batch: InventoryBatch }> {
  return [];
}
