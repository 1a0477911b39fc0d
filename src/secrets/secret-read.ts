/**
 * Reads a file for scanning as UTF-8 bytes: the scanner's keyword pass runs on bytes, so a plain UTF-8 file is
 * never decoded as a whole. Files with a UTF-16/32 byte order mark, or invalid UTF-8 that is still mostly text,
 * are decoded (see `decodeScanBuffer`) and re-encoded; binaries are skipped.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { BINARY_SNIFF_BYTES, decodeScanBuffer } from './sources/index.js';

// O_NOFOLLOW: the path may have been swapped for a symlink since the walk; O_NONBLOCK: or for a FIFO.
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

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

/**
 * Reads at most `size` bytes of a walked file (the size the walk saw) as scan bytes. Synchronous on purpose: it
 * runs on worker threads (or a CLI's only thread), where a blocking read of a small file costs a fraction of an
 * asynchronous one's round trips through the thread pool.
 */
export function readScanBytesSync(
  absPath: string,
  size: number,
): { bytes: Buffer } | { skipped: 'binary' | 'unreadable' } {
  let buf: Buffer;
  try {
    const fd = openSync(absPath, OPEN_FLAGS);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { skipped: 'unreadable' };
      const want = Math.max(0, Math.min(size, st.size));
      buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, got);
        if (n === 0) break;
        got += n;
      }
      buf = buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  } catch {
    return { skipped: 'unreadable' };
  }
  const bytes = toScanBytes(buf);
  return bytes === null ? { skipped: 'binary' } : { bytes };
}
