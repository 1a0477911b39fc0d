/**
 * Reads a file line by line as a stream, gunzipping it when it starts with the gzip magic bytes, and never
 * holding more than one line (at most `maxLineBytes`) plus a read buffer in memory: a longer line is skipped
 * and reported as such, so a 1 GB single-line file costs no more memory than a short one.
 */
import { isAscii } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Lines longer than this (64 MiB) are not read. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Bytes looked at to tell text from binary. */
const SNIFF_BYTES = 8192;

/** One line of a file, without its line break (`\n` or `\r\n`). */
export interface FileLine {
  /** 1-based. */
  line: number;
  /** The line's text, or null when it is longer than the limit and was skipped. */
  text: string | null;
}

/** A file that could not be read (further): where it stopped and why. Lines before it were yielded. */
export class FileReadError extends Error {
  constructor(
    readonly file: string,
    /** The line the problem is at (the first line not read), or null for the whole file. */
    readonly line: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

/** True when the first bytes of a stream are not UTF-8 text: a NUL byte or an invalid UTF-8 sequence. */
function isBinary(head: Buffer): boolean {
  if (head.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return false;
  } catch {
    return true;
  }
}

/** A message for a stream error: zlib's own message for gzip problems, the errno code for I/O. */
function streamProblem(err: unknown, gzip: boolean): string {
  const e = err as NodeJS.ErrnoException;
  if (gzip && typeof e.code === 'string' && e.code.startsWith('Z_')) {
    const truncated = e.code === 'Z_BUF_ERROR' ? ' (the file is truncated)' : '';
    return `gzip: ${e.message}${truncated}`;
  }
  return `cannot read: ${e.code ?? e.message}`;
}

/** Whether a file is gzip-compressed, from its first two bytes (1f 8b), not its name. */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * The lines of a file (decompressed when gzipped). Throws FileReadError when the file cannot be opened, is
 * binary, or fails part way (a truncated gzip, an I/O error): the lines before the failure are yielded first.
 *
 * @example
 * for await (const { line, text } of readLines('trail.json.gz')) …
 */
export async function* readLines(path: string, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<FileLine> {
  for await (const batch of readLineBatches(path, maxLineBytes)) yield* batch;
}

/**
 * The lines of a file as readLines gives them, a batch per block read (about 1 MiB): one await per batch
 * instead of per line. Every line of a block is in its batch before the next block is read, so a failure
 * part way comes after the lines before it, as with readLines.
 */
export async function* readLineBatches(
  path: string,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<FileLine[]> {
  let gzip: boolean;
  try {
    gzip = await isGzipFile(path);
  } catch (err) {
    throw new FileReadError(path, null, streamProblem(err, false));
  }
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new FileReadError(path, null, streamProblem(err, false));
  }
  const raw = fh.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 20 });
  let stream: Readable = raw;
  if (gzip) {
    const gunzip = createGunzip();
    raw.on('error', (err) => gunzip.destroy(err));
    stream = raw.pipe(gunzip);
  }
  let lineNo = 0;
  let parts: Buffer[] = [];
  let partLen = 0;
  let oversize = false;
  let sniffed = false;
  let batch: FileLine[] = [];
  const take = (): FileLine => {
    lineNo += 1;
    let text: string | null = null;
    if (!oversize) {
      text = Buffer.concat(parts, partLen).toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (lineNo === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    }
    parts = [];
    partLen = 0;
    oversize = false;
    return { line: lineNo, text };
  };
  /**
   * A whole line inside one block of ASCII text: a slice of the block's text, which is decoded once (a slice
   * shares the block's characters, so passing over a line allocates next to nothing).
   */
  const takeAscii = (chunkText: string, start: number, end: number): FileLine => {
    lineNo += 1;
    const last = end > start && chunkText.charCodeAt(end - 1) === 13 ? end - 1 : end;
    return { line: lineNo, text: chunkText.slice(start, last) };
  };
  try {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (!sniffed) {
          sniffed = true;
          if (isBinary(chunk.subarray(0, SNIFF_BYTES)))
            throw new FileReadError(path, null, 'binary file (not text)');
        }
        let start = 0;
        // In a block of ASCII text (UTF-8 decoding is a copy there), a line that starts and ends in it is
        // decoded straight from it.
        const chunkText = isAscii(chunk) ? chunk.toString('latin1') : null;
        for (;;) {
          const nl = chunk.indexOf(10, start);
          const end = nl === -1 ? chunk.length : nl;
          if (chunkText !== null && nl !== -1 && partLen === 0 && !oversize && end - start <= maxLineBytes) {
            batch.push(takeAscii(chunkText, start, end));
            start = nl + 1;
            continue;
          }
          if (!oversize) {
            if (partLen + (end - start) > maxLineBytes) {
              oversize = true;
              parts = [];
              partLen = 0;
            } else if (end > start) {
              parts.push(chunk.subarray(start, end));
              partLen += end - start;
            }
          }
          if (nl === -1) break;
          batch.push(take());
          start = nl + 1;
        }
        if (batch.length > 0) {
          yield batch;
          batch = [];
        }
      }
    } catch (err) {
      if (err instanceof FileReadError) throw err;
      throw new FileReadError(path, lineNo + 1, streamProblem(err, gzip));
    }
    if (partLen > 0 || oversize) yield [take()];
  } finally {
    stream.destroy();
    raw.destroy();
    await fh.close();
  }
}
