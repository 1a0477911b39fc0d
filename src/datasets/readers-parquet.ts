/** Parquet: read one row group at a time (hyparquet), so memory holds at most one row group's rows. */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { jsonValues } from './readers-json.js';
import type { DatasetRecord, DatasetValue } from './readers-types.js';

/** Yields one record per row (raw is null), values keyed by column; nested values get key paths. */
export async function* readParquetRecords(path: string): AsyncGenerator<DatasetRecord> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  let rowStart = 0;
  let bytesDone = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
      parquetRead({
        file,
        metadata,
        compressors,
        rowStart,
        rowEnd,
        rowFormat: 'object',
        onComplete: (data) => resolve(data as Array<Record<string, unknown>>),
      }).catch(reject);
    });
    bytesDone += Number(group.total_byte_size);
    const offset = Math.min(file.byteLength, bytesDone);
    for (let i = 0; i < rows.length; i++) {
      const row = rowStart + i;
      const values: DatasetValue[] = [];
      for (const [column, v] of Object.entries(rows[i]!)) {
        if (v === null || v === undefined) continue;
        if (typeof v === 'object' && !(v instanceof Date)) {
          for (const inner of jsonValues(v, {}))
            values.push({
              ...inner,
              field: `${column}${inner.field ? `.${inner.field}` : ''}`,
              loc: { row, column, keyPath: inner.loc.keyPath },
            });
        } else {
          const text = v instanceof Date ? v.toISOString() : String(v);
          values.push({
            text,
            key: column,
            field: column,
            isString: typeof v === 'string',
            loc: { row, column },
          });
        }
      }
      yield { raw: null, values, offset };
    }
    rowStart = rowEnd;
  }
}
