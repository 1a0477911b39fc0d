// IN PROGRESS (importers helper replaces this file).
import { ValidationError } from '../../core/errors.js';
import type { Importer, ImporterKind } from './importer-types.js';

/** Every importer by kind. */
export const IMPORTERS: Partial<Record<ImporterKind, Importer>> = {};

/** The importer for a kind. */
export function getImporter(kind: ImporterKind): Importer {
  const imp = IMPORTERS[kind];
  if (!imp) throw new ValidationError(`unknown import kind "${kind}"`);
  return imp;
}
