/**
 * Tells text from binary and decodes scanned bytes to text: byte order marks, a NUL byte in the first 8 KiB, and
 * the share of undecodable bytes. Kept apart from the walk so a scanning worker loads no ignore matcher.
 */

/** How many leading bytes are searched for a NUL byte (git and grep look at a similar window). */
export const BINARY_SNIFF_BYTES = 8 * 1024;

/**
 * Above this share of undecodable bytes and control characters, input without a BOM and without NUL is binary.
 * Chosen so a Latin-1 text with a few accented letters stays text while compressed or encrypted data (where
 * roughly half the bytes are invalid UTF-8) does not.
 */
export const MAX_NON_TEXT_RATIO = 0.1;

/** Share of U+FFFD (undecodable bytes) and C0 control characters other than whitespace and ESC in `text`. */
function nonTextRatio(text: string): number {
  if (text.length === 0) return 0;
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c === 0xfffd ||
      (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c && c !== 0x1b) ||
      c === 0x7f
    )
      bad++;
  }
  return bad / text.length;
}

/** Decodes UTF-32 code units (after the BOM); invalid code points become U+FFFD. */
function decodeUtf32(buf: Buffer, littleEndian: boolean): string {
  const parts: string[] = [];
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    const cp = littleEndian ? buf.readUInt32LE(i) : buf.readUInt32BE(i);
    parts.push(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\uFFFD');
  }
  return parts.join('');
}

/**
 * Decodes scanned bytes to text, or returns null when they are binary. Rules, in order:
 * a UTF-32 / UTF-16 (LE or BE) / UTF-8 byte order mark decides the encoding and the BOM is dropped;
 * otherwise a NUL byte in the first 8 KiB means binary; otherwise valid UTF-8 is text; otherwise the bytes are
 * decoded as UTF-8 with U+FFFD for invalid sequences and are binary when more than 10% of the characters are
 * U+FFFD or control characters (so mostly-ASCII text in a legacy encoding is still scanned).
 */
export function decodeScanBuffer(buf: Buffer): string | null {
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xfe && buf[2] === 0 && buf[3] === 0)
    return decodeUtf32(buf.subarray(4), true);
  if (buf.length >= 4 && buf[0] === 0 && buf[1] === 0 && buf[2] === 0xfe && buf[3] === 0xff)
    return decodeUtf32(buf.subarray(4), false);
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe)
    return new TextDecoder('utf-16le').decode(buf.subarray(2));
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    // Node has no UTF-16BE decoder: swap each pair into LE (a trailing odd byte is dropped).
    const body = Buffer.from(buf.subarray(2, 2 + ((buf.length - 2) & ~1)));
    return new TextDecoder('utf-16le').decode(body.swap16());
  }
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
    return new TextDecoder('utf-8').decode(buf.subarray(3));
  if (buf.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(buf);
    return nonTextRatio(text) > MAX_NON_TEXT_RATIO ? null : text;
  }
}

/** True when `buf` is binary by the rules of `decodeScanBuffer` (no BOM and a NUL byte, or mostly not text). */
export function isBinaryBuffer(buf: Buffer): boolean {
  return decodeScanBuffer(buf) === null;
}
