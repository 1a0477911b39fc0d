/**
 * Reads a file for scanning as UTF-8 bytes: the scanner's keyword pass runs on bytes, so a plain UTF-8 file is
 * never decoded as a whole. Files with a UTF-16/32 byte order mark, or invalid UTF-8 that is still mostly text,
 * are decoded (see `decodeScanBuffer`) and re-encoded; binaries are skipped.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { BINARY_SNIFF_BYTES, decodeScanBuffer } from './sources/scan-decode.js';

// O_NOFOLLOW: the path may have been swapped for a symlink since the walk; O_NONBLOCK: or for a FIFO.
export const SCAN_OPEN_FLAGS =
  fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/** Normalises raw bytes to UTF-8 without a BOM, or null when they are binary. */
export function toScanBytes(raw: Buffer): Buffer | null {
  const b0 = raw[0];
  const bom = b0 === 0xef || b0 === 0xff || b0 === 0xfe || b0 === 0x00;
  if (!bom) {
    if (raw.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return null;
    if (isUtf8(raw)) return raw;
  }
  const text = decodeScanBuffer(raw);
  return text === null ? null : Buffer.from(text, 'utf8');
}

/** The buffer `readOpenScanBytes` reads into when asked to reuse one (files up to SHARED_MAX bytes). */
let shared: Buffer | null = null;
const SHARED_MAX = 4 * 1024 * 1024;

function readBuffer(want: number, reuse: boolean): Buffer {
  if (!reuse || want > SHARED_MAX) return Buffer.allocUnsafe(want);
  if (!shared || shared.length < want) shared = Buffer.allocUnsafeSlow(Math.max(want, 256 * 1024));
  return shared;
}

/**
 * Reads the first `want` bytes of an open file as scan bytes; the caller closes it. Synchronous on purpose: it
 * runs on worker threads (or a CLI's only thread), where a blocking read of a small file costs a fraction of an
 * asynchronous one's round trips through the thread pool. With `reuse`, a plain UTF-8 file's bytes are in a
 * buffer the next call with `reuse` overwrites: the caller must be done with them by then (the scanner keeps no
 * reference to the bytes it scans), which spares allocating and collecting a buffer per file.
 */
export function readOpenScanBytes(
  fd: number,
  want: number,
  reuse: boolean,
): { bytes: Buffer } | { skipped: 'binary' | 'unreadable' } {
  let buf: Buffer;
  let got = 0;
  try {
    buf = readBuffer(want, reuse);
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, got);
      if (n === 0) break;
      got += n;
    }
  } catch {
    return { skipped: 'unreadable' };
  }
  buf = buf.subarray(0, got);
  const bytes = toScanBytes(buf);
  return bytes === null ? { skipped: 'binary' } : { bytes };
}

/** One piece of a large file: bytes to scan, the part whose findings it reports, and its first line's number. */
export interface ScanChunk {
  bytes: Buffer;
  reportFrom: number;
  reportTo: number;
  firstLine: number;
}

const NL = 10;
/** A piece re-reads the line before its own part (for an allow comment) when that line is at most this long. */
const LOOK_BACK_BYTES = 64 * 1024;

/**
 * Reads a large file in pieces of about `chunkBytes`, cut after a line break, so memory stays flat however large
 * a dataset is. Each piece also holds the line before it (an allow comment) and `marginBytes` after it (a PEM
 * block that crosses the cut); `reportFrom`/`reportTo` say which lines are its own. Yields `binary` when the
 * file starts like one (a NUL byte in its first 8 KiB). For UTF-8 files; see `startsWithWideBom`.
 */
export function* readScanChunksSync(
  absPath: string,
  size: number,
  chunkBytes: number,
  marginBytes: number,
): Generator<ScanChunk | { skipped: 'binary' | 'unreadable' }> {
  let fd: number;
  try {
    fd = openSync(absPath, SCAN_OPEN_FLAGS);
  } catch {
    yield { skipped: 'unreadable' };
    return;
  }
  try {
    let total: number;
    try {
      total = Math.min(size, fstatSync(fd).size);
    } catch {
      yield { skipped: 'unreadable' };
      return;
    }
    yield* readOpenScanChunks(fd, total, chunkBytes, marginBytes);
  } finally {
    closeSync(fd);
  }
}

/** `readScanChunksSync` over the first `total` bytes of an open file; the caller closes it. */
export function* readOpenScanChunks(
  fd: number,
  total: number,
  chunkBytes: number,
  marginBytes: number,
): Generator<ScanChunk | { skipped: 'binary' | 'unreadable' }> {
  try {
    const head = Buffer.alloc(Math.min(total, BINARY_SNIFF_BYTES));
    readSync(fd, head, 0, head.length, 0);
    if (head.includes(0)) {
      yield { skipped: 'binary' };
      return;
    }
    // `start`: where the next piece's own part begins; `readFrom`: where its bytes begin (a line start, or
    // `start` itself inside a line longer than the look-back).
    let start = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    let readFrom = start;
    let firstLine = 1;
    while (start < total) {
      const want = Math.min(total, start + chunkBytes + marginBytes) - readFrom;
      const raw = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, raw, got, want - got, readFrom + got);
        if (n === 0) break;
        got += n;
      }
      const buf = raw.subarray(0, got);
      const ownFrom = start - readFrom;
      let ownTo = Math.min(buf.length, ownFrom + chunkBytes);
      if (readFrom + ownTo < total) {
        // Cut after the last line break of the own part; a line longer than a piece is cut where it must be.
        const nl = buf.lastIndexOf(NL, ownTo - 1);
        if (nl >= ownFrom) ownTo = nl + 1;
      }
      const bytes = isUtf8(buf) ? buf : Buffer.from(buf.toString('utf8'), 'utf8');
      // (Re-encoding replaces invalid bytes with U+FFFD, three bytes each: offsets past one shift slightly.)
      yield { bytes, reportFrom: ownFrom, reportTo: ownTo, firstLine };
      const nextStart = readFrom + ownTo;
      if (nextStart >= total || got === 0) break;
      // The next piece reads from the start of this piece's last own line when it is short enough.
      const lastLineStart = ownTo >= 2 ? buf.lastIndexOf(NL, ownTo - 2) + 1 : 0;
      const nextRead = ownTo - lastLineStart <= LOOK_BACK_BYTES ? readFrom + lastLineStart : nextStart;
      let lines = 0;
      for (let k = buf.indexOf(NL); k !== -1 && k < nextRead - readFrom; k = buf.indexOf(NL, k + 1)) lines++;
      firstLine += lines;
      readFrom = nextRead;
      start = nextStart;
    }
  } catch {
    yield { skipped: 'unreadable' };
  }
}

/** True when a file starts with a UTF-16 or UTF-32 byte order mark (such files are decoded whole). */
export function startsWithWideBom(absPath: string): boolean {
  try {
    const fd = openSync(absPath, SCAN_OPEN_FLAGS);
    try {
      return openStartsWithWideBom(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** `startsWithWideBom` of an open file; the caller closes it. */
export function openStartsWithWideBom(fd: number): boolean {
  try {
    const head = Buffer.alloc(2);
    readSync(fd, head, 0, 2, 0);
    return (
      (head[0] === 0xff && head[1] === 0xfe) ||
      (head[0] === 0xfe && head[1] === 0xff) ||
      (head[0] === 0 && head[1] === 0)
    );
  } catch {
    return false;
  }
}
