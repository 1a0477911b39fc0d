/** JSON documents: the scalar values of a parsed document with their key paths, and a whole-file reader. */
import { readFile } from 'node:fs/promises';
import type { DatasetRecord, DatasetValue, ValueLocation } from './readers-types.js';

/** Largest `.json` file parsed whole; larger ones are read as text lines. */
export const MAX_WHOLE_JSON_BYTES = 64 * 1024 * 1024;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function childPath(parent: string, key: string): string {
  if (!IDENT.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** Every string, number and boolean in `doc`, with its key path (`a.b[2].c`) and field (`a.b[].c`). */
export function jsonValues(doc: unknown, base: ValueLocation): DatasetValue[] {
  const out: DatasetValue[] = [];
  const walk = (v: unknown, path: string, field: string, key: string | null): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') {
      out.push({
        text: String(v),
        key,
        field: field || null,
        isString: typeof v === 'string',
        loc: { ...base, keyPath: path || '$' },
      });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${path}[${i}]`, `${field}[]`, key));
      return;
    }
    if (typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>))
        walk(child, childPath(path, k), childPath(field, k), k);
    }
  };
  walk(doc, '', '', null);
  return out;
}

/** A `.json` file of at most `MAX_WHOLE_JSON_BYTES`, parsed whole; null when it is not valid JSON. */
export async function readJsonDocument(path: string): Promise<DatasetRecord | null> {
  const raw = await readFile(path);
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  return { raw, values: jsonValues(doc, {}), json: doc, offset: raw.length };
}

/** A copy of `doc` where the scalars whose key path (as `jsonValues` names it) is in `replace` are replaced. */
export function replaceJsonValues(doc: unknown, replace: ReadonlyMap<string, string>): unknown {
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v !== 'object') {
      const r = replace.get(path || '$');
      return r === undefined ? v : r;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`));
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v as Record<string, unknown>))
      out[k] = walk(child, childPath(path, k));
    return out;
  };
  return walk(doc, '');
}
