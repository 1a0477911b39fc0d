/**
 * Set-based SQL helpers for the PostgreSQL adapter: placeholder renumbering, and reads and writes of many rows
 * per round trip (writes as one JSON parameter, keyed reads through `unnest` over text arrays).
 */
import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import type { Row } from '../store-rows.js';

/** Anything that runs a parameterised query (a pool or a checked-out client). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

const INT8_OID = 20;

/** Type parsing for every connection: BIGINT (`seq`, COUNT(*)) as a number; they stay far below 2^53. */
export const PG_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** Rows per statement for bulk reads and writes; keeps each message well under the protocol limits. */
export const CHUNK_ROWS = 5000;

/** Rewrites `?` placeholders to `$1, $2, …`, leaving quoted literals and identifiers alone. */
export function renumberPlaceholders(sql: string): string {
  let n = 0;
  let out = '';
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else out += ch;
  }
  return out;
}

/** Splits a list into pieces of at most `size`. */
export function chunks<T>(items: readonly T[], size = CHUNK_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Rows as one JSON array of objects keyed by column name. `json_populate_recordset` turns it back into rows of
 * the table's own type on the server: one parameter per statement, serialised by V8's JSON.stringify, which
 * is several times cheaper than pg's escaping of one text array per column.
 */
function rowsJson(columns: readonly string[], rows: readonly unknown[][]): string {
  const keys = columns.map((c) => `${JSON.stringify(c)}:`);
  const parts = new Array<string>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let o = '{';
    for (let c = 0; c < keys.length; c++) o += `${c ? ',' : ''}${keys[c]!}${JSON.stringify(row[c] ?? null)}`;
    parts[r] = `${o}}`;
  }
  return `[${parts.join(',')}]`;
}

/** Runs a query and returns its rows. */
export async function queryRows(db: Queryable, text: string, params: unknown[] = []): Promise<Row[]> {
  return (await db.query(text, params)).rows as Row[];
}

/** Inserts rows (values in the order of `columns`), a chunk per statement; `suffix` may add ON CONFLICT. */
export async function insertMany(
  db: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
  suffix = '',
): Promise<void> {
  const list = columns.join(', ');
  const text = `INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${table}, $1::json)${suffix}`;
  for (const part of chunks(rows)) await db.query(text, [rowsJson(columns, part)]);
}

/**
 * Updates rows by their first column (the key), setting every other column, a chunk per statement.
 * `onlyChanged` skips rows whose values are already the ones given (no new row version for them).
 */
export async function updateMany(
  db: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
  options: { onlyChanged?: boolean } = {},
): Promise<void> {
  const [key, ...rest] = columns;
  const changed = options.onlyChanged
    ? ` AND (${rest.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${rest.map((c) => `v.${c}`).join(', ')})`
    : '';
  const text =
    `UPDATE ${table} AS t SET ${rest.map((c) => `${c} = v.${c}`).join(', ')} ` +
    `FROM json_populate_recordset(NULL::${table}, $1::json) AS v WHERE t.${key} = v.${key}${changed}`;
  for (const part of chunks(rows)) await db.query(text, [rowsJson(columns, part)]);
}

/** Reads the rows of `table` whose two text columns match one of the given pairs, a chunk per statement. */
export async function selectByPairs(
  db: Queryable,
  table: string,
  columns: readonly [string, string],
  pairs: ReadonlyArray<readonly [string, string]>,
): Promise<Row[]> {
  const [a, b] = columns;
  const text =
    `SELECT t.* FROM ${table} AS t JOIN unnest($1::text[], $2::text[]) AS k(a, b) ` +
    `ON t.${a} = k.a AND t.${b} = k.b`;
  const out: Row[] = [];
  for (const part of chunks(pairs)) {
    const rows = await queryRows(db, text, [part.map((p) => p[0]), part.map((p) => p[1])]);
    for (const r of rows) out.push(r);
  }
  return out;
}

/** Reads the rows of `table` whose text column is one of `values`, a chunk per statement. */
export async function selectByValues(
  db: Queryable,
  table: string,
  column: string,
  values: readonly string[],
  orderBy?: string,
): Promise<Row[]> {
  const text = `SELECT * FROM ${table} WHERE ${column} = ANY($1::text[])${orderBy ? ` ORDER BY ${orderBy}` : ''}`;
  const out: Row[] = [];
  for (const part of chunks(values)) {
    const rows = await queryRows(db, text, [part]);
    for (const r of rows) out.push(r);
  }
  return out;
}
