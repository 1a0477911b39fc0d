/**
 * One entry point for every lockfile the npm gate reads: picks the reader from the file name and the content.
 */
import { ValidationError } from '../../core/errors.js';
import type { Lockfile } from '../npm-types.js';
import { lockfileError } from './lockfile-errors.js';
import { parseNpmLockfile } from './npm-lockfile.js';
import { parsePnpmLockfile } from './pnpm-lockfile.js';
import { YARN_CLASSIC_HEADER, parseYarnClassicLockfile } from './yarn-classic-lockfile.js';
import { parseYarnBerryLockfile } from './yarn-berry-lockfile.js';

/** The lockfile names the gate recognises. */
export const LOCKFILE_NAMES = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'yarn.lock',
] as const;
export type LockfileName = (typeof LOCKFILE_NAMES)[number];

/** True when the base name of `name` (a bare name or a path with `/` or `\`) is one of {@link LOCKFILE_NAMES}. */
export function isLockfileName(name: string): boolean {
  return (LOCKFILE_NAMES as readonly string[]).includes(baseName(name));
}

const SUPPORTED =
  'package-lock.json / npm-shrinkwrap.json (lockfileVersion 1–3), pnpm-lock.yaml (5.x, 6.x, 9.x), yarn.lock (classic v1 and berry)';

/**
 * Parses a lockfile. The file name decides the reader when it is one of {@link LOCKFILE_NAMES} (a yarn.lock is
 * berry when it has a top-level `__metadata`, else classic); any other name is recognised by its content.
 * @param fileName - Name or path of the file, used to pick the reader and in error messages.
 * @param text - The file's text.
 * @throws ValidationError naming `file:line` for anything that is not a readable lockfile; never anything else.
 */
export function parseLockfile(fileName: string, text: string): Lockfile {
  try {
    return dispatch(fileName, text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    // A reader bug or a library failure on strange input: still the user's file that could not be read.
    const message = err instanceof Error ? err.message : String(err);
    throw lockfileError(fileName, null, `could not be read as a lockfile (${message})`, err);
  }
}

function dispatch(fileName: string, text: string): Lockfile {
  if (text.trim() === '') throw lockfileError(fileName, 1, 'the lockfile is empty');
  switch (baseName(fileName)) {
    case 'package-lock.json':
      return parseNpmLockfile(fileName, text, false);
    case 'npm-shrinkwrap.json':
      return parseNpmLockfile(fileName, text, true);
    case 'pnpm-lock.yaml':
      return parsePnpmLockfile(fileName, text);
    case 'yarn.lock':
      return isYarnBerry(text) ? parseYarnBerryLockfile(fileName, text) : parseYarnClassic(fileName, text);
    default:
      return sniff(fileName, text);
  }
}

/** Recognises a lockfile by its content alone. */
function sniff(fileName: string, text: string): Lockfile {
  const start = text.trimStart();
  if (start.startsWith('{')) return parseNpmLockfile(fileName, text, false);
  if (isYarnBerry(text)) return parseYarnBerryLockfile(fileName, text);
  if (text.includes(YARN_CLASSIC_HEADER)) return parseYarnClassicLockfile(fileName, text);
  if (/^lockfileVersion:/m.test(text)) return parsePnpmLockfile(fileName, text);
  throw lockfileError(fileName, 1, `this is not a lockfile this gate can read; supported: ${SUPPORTED}`);
}

function isYarnBerry(text: string): boolean {
  return /^"?__metadata"?:/m.test(text);
}

/** A yarn.lock without the classic header must at least look like one (entry headers ending in `:`). */
function parseYarnClassic(fileName: string, text: string): Lockfile {
  if (!text.includes(YARN_CLASSIC_HEADER) && !/^\S[^\n]*:\r?\n[ \t]+\S/m.test(text)) {
    throw lockfileError(
      fileName,
      1,
      `this is not a yarn lockfile (no "${YARN_CLASSIC_HEADER}" header, no __metadata block)`,
    );
  }
  return parseYarnClassicLockfile(fileName, text);
}

function baseName(name: string): string {
  const at = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return at === -1 ? name : name.slice(at + 1);
}
