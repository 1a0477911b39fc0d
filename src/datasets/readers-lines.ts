/** Line-oriented readers (plain text and JSONL): the file is read in chunks and split on `\n`, never held whole. */
import { createReadStream } from 'node:fs';
import type { DatasetRecord, DatasetValue } from './readers-types.js';
import { jsonValues } from './readers-json.js';

const NL = 10;

/** Yields each line of a file (terminator included) with its 1-based number and the bytes read so far. */
export async function* readLines(
  path: string,
): AsyncGenerator<{ raw: Buffer; line: number; offset: number }> {
  let carry: Buffer | null = null;
  let line = 0;
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const base = offset - (carry ? carry.length : 0);
    offset += chunk.length;
    let start = 0;
    for (let nl = buf.indexOf(NL, start); nl !== -1; nl = buf.indexOf(NL, start)) {
      line++;
      yield { raw: buf.subarray(start, nl + 1), line, offset: base + nl + 1 };
      start = nl + 1;
    }
    carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  }
  if (carry) yield { raw: carry, line: line + 1, offset };
}

/** The text of a raw line without its `\n` / `\r\n` terminator (invalid UTF-8 becomes U+FFFD). */
export function lineText(raw: Buffer): string {
  let end = raw.length;
  if (end > 0 && raw[end - 1] === NL) end--;
  if (end > 0 && raw[end - 1] === 13) end--;
  return raw.toString('utf8', 0, end);
}

/** Longest PEM block (in lines) kept together as one record. */
const MAX_BLOCK_LINES = 256;

/**
 * Plain text: one record per line, its text the one value. A PEM block (`-----BEGIN …` to `-----END …`, at most
 * 256 lines) is one record located at its first line, so multi-line keys are seen whole.
 */
export async function* readTextRecords(path: string): AsyncGenerator<DatasetRecord> {
  let block: { raws: Buffer[]; line: number } | null = null;
  const record = (raw: Buffer, line: number, offset: number): DatasetRecord => {
    const text = lineText(raw);
    const values: DatasetValue[] =
      text.length === 0 ? [] : [{ text, key: null, field: null, isString: true, loc: { line } }];
    return { raw, values, offset };
  };
  for await (const { raw, line, offset } of readLines(path)) {
    if (block) {
      // Lines are views of the reader's chunk: copy the ones a block keeps across chunks.
      block.raws.push(Buffer.from(raw));
      if (raw.includes('-----END ') || block.raws.length >= MAX_BLOCK_LINES) {
        yield record(Buffer.concat(block.raws), block.line, offset);
        block = null;
      }
      continue;
    }
    if (raw.includes('-----BEGIN ') && !raw.includes('-----END ')) {
      block = { raws: [Buffer.from(raw)], line };
      continue;
    }
    yield record(raw, line, offset);
  }
  if (block) yield record(Buffer.concat(block.raws), block.line, 0);
}

/** JSONL: one record per line; a line that is JSON gives its scalar values with key paths, else its text. */
export async function* readJsonlRecords(path: string): AsyncGenerator<DatasetRecord> {
  for await (const { raw, line, offset } of readLines(path)) {
    const text = lineText(raw);
    if (text.trim().length === 0) {
      yield { raw, values: [], offset };
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      yield { raw, values: [{ text, key: null, field: null, isString: true, loc: { line } }], offset };
      continue;
    }
    yield { raw, values: jsonValues(doc, { line }), json: doc, offset };
  }
}
