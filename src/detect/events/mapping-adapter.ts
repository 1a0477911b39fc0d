/**
 * Any NDJSON source, read with a field mapping file (YAML) that says where its timestamp and id are, which
 * Sigma log source its events belong to and which raw fields fill which normalized fields. Format in
 * docs/events.md.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { lookupPath, type BrokenRecord, type DetectEvent, type LogSource } from '../detect-types.js';
import {
  broken,
  buildEvent,
  idText,
  isRecord,
  kindOf,
  recordTime,
  type Adapter,
  type RecordSource,
  type TimestampFormat,
} from './event-common.js';

/** One normalized field: the raw field path it is read from, and optionally a translation of its values. */
export interface FieldSource {
  field: string;
  /** Raw value (as text) → normalized value; values not listed pass through unchanged. */
  values: Readonly<Record<string, string>> | null;
}

/** A loaded field mapping. */
export interface FieldMapping {
  logsource: LogSource;
  /** Raw field path of the record's own id, or null to use a hash of the record. */
  id: string | null;
  timestamp: { field: string; format: TimestampFormat };
  /** Normalized field name → where it comes from. */
  fields: Readonly<Record<string, FieldSource>>;
}

/** A mapping file that cannot be used: the file and every problem found. */
export class FieldMappingError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid field mapping: ${problems.join('; ')}`);
    this.name = 'FieldMappingError';
  }
}

const NAME = /^[A-Za-z_@$][\w@$-]*(\.[\w@$/-]+)*$/;
const NORMALIZED_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

const fieldPath = z.string().min(1).max(200).regex(NAME, 'must be a field path like actor.alternateId');

const mappingSchema = z.strictObject({
  logsource: z
    .strictObject({
      product: z.string().min(1).optional(),
      service: z.string().min(1).optional(),
      category: z.string().min(1).optional(),
    })
    .refine((l) => Object.keys(l).length > 0, 'must name at least one of product, service, category'),
  id: fieldPath.optional(),
  timestamp: z.strictObject({
    field: fieldPath,
    format: z.enum(['iso8601', 'epoch_ms', 'epoch_s', 'auto']).default('auto'),
  }),
  fields: z
    .record(
      z.string(),
      z.union([
        fieldPath,
        z.strictObject({ field: fieldPath, values: z.record(z.string(), z.string()).optional() }),
      ]),
    )
    .default({}),
});

/** Parses and checks the text of a mapping file; throws FieldMappingError with every problem. */
export function parseFieldMapping(text: string, file = 'mapping'): FieldMapping {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new FieldMappingError(file, [`not YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const r = mappingSchema.safeParse(doc);
  if (!r.success) {
    throw new FieldMappingError(
      file,
      r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top)'}: ${i.message}`),
    );
  }
  const m = r.data;
  const fields: Record<string, FieldSource> = {};
  const bad: string[] = [];
  for (const [name, spec] of Object.entries(m.fields)) {
    if (name === 'time') bad.push('fields.time: set by timestamp, not fields');
    else if (!NORMALIZED_NAME.test(name)) {
      bad.push(`fields.${name}: normalized field names are lower-case dotted words (actor.user.name)`);
    }
    fields[name] =
      typeof spec === 'string'
        ? { field: spec, values: null }
        : { field: spec.field, values: spec.values ?? null };
  }
  if (bad.length > 0) throw new FieldMappingError(file, bad);
  return {
    logsource: Object.freeze({ ...m.logsource }),
    id: m.id ?? null,
    timestamp: { field: m.timestamp.field, format: m.timestamp.format },
    fields,
  };
}

/** Reads and checks a mapping file. */
export async function loadFieldMapping(path: string): Promise<FieldMapping> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FieldMappingError(path, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseFieldMapping(text, path);
}

/** The value of a mapped field, translated when the mapping lists its value. */
function mappedValue(record: Record<string, unknown>, spec: FieldSource): unknown {
  const v = lookupPath(record, spec.field);
  if (spec.values === null || v === undefined || v === null || typeof v === 'object') return v;
  const key = String(v);
  return Object.hasOwn(spec.values, key) ? spec.values[key] : v;
}

/** The adapter for NDJSON records described by a mapping. */
export function createMappingAdapter(mapping: FieldMapping): Adapter {
  return (record: unknown, source: RecordSource): DetectEvent | BrokenRecord => {
    if (!isRecord(record)) return broken(source, `not an object (${kindOf(record)})`);
    const time = recordTime(record, [mapping.timestamp.field], source, mapping.timestamp.format, lookupPath);
    if (typeof time !== 'number') return time;
    const fields: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(mapping.fields)) fields[name] = mappedValue(record, spec);
    return buildEvent({
      adapter: 'ndjson',
      record,
      source,
      id: mapping.id === null ? null : idText(lookupPath(record, mapping.id)),
      time,
      logsource: mapping.logsource,
      fields,
    });
  };
}
