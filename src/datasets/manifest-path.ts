/**
 * The rules every path in a dataset manifest follows, shared by the builder (which refuses such names on disk) and
 * the verifier (which refuses a manifest holding them before touching the file system).
 */

/**
 * Why a manifest path is unsafe or not canonical, or null when it is fine. A path is relative, uses `/` between
 * non-empty components, has no `.` or `..` component, no backslash, no control character (so the root digest's
 * one-line-per-file text stays unambiguous) and is in Unicode NFC.
 */
export function manifestPathProblem(path: string): string | null {
  if (path.length === 0) return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  if (path.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character (NUL, newline, ...)';
  for (const part of path.split('/')) {
    if (part === '') return 'has an empty component (// or a trailing /)';
    if (part === '.' || part === '..') return `has a "${part}" component`;
  }
  if (path.normalize('NFC') !== path) return 'is not in Unicode NFC';
  if (/[\ud800-\udfff]/u.test(path.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')))
    return 'has a lone surrogate';
  return null;
}

/** Orders strings by Unicode code point (the order of their UTF-8 bytes), not by UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
