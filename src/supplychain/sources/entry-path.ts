import path from 'node:path';

/** The outcome of checking one archive entry name. */
export type EntryPathResult =
  | { ok: true; /** Path inside the archive, normalised, with the top directory still on. */ full: string }
  | { ok: false; reason: string };

/**
 * Checks an archive entry name and normalises it to POSIX segments: refuses NUL bytes, absolute paths, Windows
 * drive letters and UNC prefixes, and `..` segments that remain after normalisation. Backslashes count as
 * separators for the check, so `..\\..\\x` is caught the way an extractor on Windows would see it.
 */
export function checkEntryPath(name: string): EntryPathResult {
  if (name.includes('\0')) return { ok: false, reason: 'contains a NUL byte' };
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/')) return { ok: false, reason: 'is an absolute path' };
  if (/^[a-zA-Z]:/.test(slashed)) return { ok: false, reason: 'starts with a drive letter' };
  const normal = path.posix.normalize(slashed);
  const segments = normal.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, reason: 'climbs out of the package with ".."' };
  return { ok: true, full: segments.join('/') };
}

/** Splits a checked path into its top directory and the package-relative rest (empty for the top itself). */
export function stripTopDir(full: string): { top: string; rest: string } {
  const slash = full.indexOf('/');
  return slash === -1 ? { top: full, rest: '' } : { top: full.slice(0, slash), rest: full.slice(slash + 1) };
}

/**
 * Says whether a link named `linkPath` (package-relative) with `target` stays inside the package: a relative
 * target is resolved against the link's directory, an absolute one always escapes.
 */
export function linkEscapes(linkPath: string, target: string): boolean {
  const slashed = target.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) return true;
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), slashed));
  return joined === '..' || joined.startsWith('../');
}
