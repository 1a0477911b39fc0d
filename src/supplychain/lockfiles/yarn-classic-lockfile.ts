/**
 * yarn.lock of yarn classic (v1, `# yarn lockfile v1`), read with `@yarnpkg/lockfile`. One package per entry
 * header (`"a@^1.0.0", a@~1.2.0:`), however many specifiers the header lists.
 */
import { createRequire } from 'node:module';
import type * as YarnLockfileModule from '@yarnpkg/lockfile';
import type { DependencySourceKind, LockPackage, Lockfile } from '../npm-types.js';
import { classifySpec } from './classify-spec.js';
import { requireVersion, isRecord, lockfileError, stringOrNull } from './lockfile-errors.js';
import { splitDescriptor } from './yarn-descriptor.js';

// The package is a webpack bundle marked `__esModule`: Node's ESM default import and bundlers' interop disagree
// on what `default` is, so it is loaded through `require`, which means the same thing everywhere.
const yarnLockfile = createRequire(import.meta.url)('@yarnpkg/lockfile') as typeof YarnLockfileModule;

/** What `@yarnpkg/lockfile` takes for a merge conflict when all three occur anywhere in the text. */
const CONFLICT_MARKERS = ['<<<<<<<', '=======', '>>>>>>>'];

/** The comment yarn classic writes at the top of its lockfile. */
export const YARN_CLASSIC_HEADER = '# yarn lockfile v1';

/**
 * Parses a yarn classic lockfile.
 * @throws ValidationError on a syntax error (with its line), merge conflict markers or a malformed entry.
 */
export function parseYarnClassicLockfile(file: string, text: string): Lockfile {
  // The library's tokeniser never stops on a comment without a final newline or on an unterminated string
  // (it grows a string until the process runs out of memory): end the text with a newline, refuse the other.
  const input = text.endsWith('\n') ? text : `${text}\n`;
  // With conflict markers the library re-parses each side of the conflict, and those texts escape the guard
  // below: refuse them (a lockfile with unresolved conflicts is not what gets installed anyway).
  if (CONFLICT_MARKERS.every((m) => input.includes(m))) {
    throw lockfileError(
      file,
      lineOfConflict(input),
      'the lockfile has unresolved merge conflicts; resolve them and run yarn install',
    );
  }
  const unterminated = unterminatedStringLine(input);
  if (unterminated !== null)
    throw lockfileError(file, unterminated, 'invalid yarn lockfile: a quoted string is never closed');
  let parsed: ReturnType<typeof yarnLockfile.parse>;
  try {
    parsed = yarnLockfile.parse(input, file);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = / (\d+):\d+ in /.exec(message);
    const line = pos ? Number(pos[1]) : null;
    throw lockfileError(file, line, `invalid yarn lockfile: ${message.replace(/ \d+:\d+ in .*$/, '')}`, err);
  }
  const object: unknown = parsed.object;
  if (!isRecord(object)) throw lockfileError(file, 1, 'not a yarn lockfile');
  const headerLines = entryHeaderLines(text);
  const seen = new Set<unknown>();
  const out: LockPackage[] = [];
  for (const [spec, entry] of Object.entries(object)) {
    if (seen.has(entry)) continue;
    seen.add(entry);
    const line = headerLines.get(spec) ?? null;
    if (!isRecord(entry)) throw lockfileError(file, line, `entry "${spec}" must be a block of fields`);
    out.push(readEntry(file, line, spec, entry));
  }
  return { format: 'yarn-classic', root: { name: null, version: null }, packages: out };
}

function readEntry(
  file: string,
  line: number | null,
  spec: string,
  entry: Record<string, unknown>,
): LockPackage {
  const version = requireVersion(file, line, `entry "${spec}"`, entry);
  const descriptor = splitDescriptor(spec);
  let name = descriptor.name;
  // Alias: `x@npm:real-name@^1.0.0` installs real-name.
  if (descriptor.range.startsWith('npm:')) {
    const aliased = splitDescriptor(descriptor.range.slice('npm:'.length));
    if (aliased.range !== '' && aliased.name !== '') name = aliased.name;
  }
  const source = sourceOf(descriptor.range, stringOrNull(entry['resolved']));
  // `file:`/`link:` entries have no `resolved`: the specifier is where they come from.
  const resolved = stringOrNull(entry['resolved']) ?? (source === 'registry' ? null : descriptor.range);
  return {
    name,
    version,
    resolved,
    integrity: stringOrNull(entry['integrity']),
    source,
    path: null,
    dev: false,
    optional: false,
    hasInstallScript: false,
    line,
  };
}

/** What the specifier asks for, unless it is a registry range: then where it was actually resolved to. */
function sourceOf(range: string, resolved: string | null): DependencySourceKind {
  const asked = classifySpec(range);
  if (asked !== 'registry' || resolved === null) return asked;
  return classifySpec(resolved);
}

/** Maps each specifier of each entry header (`"a@^1", a@~1.2:` at column 0) to the header's line. */
function entryHeaderLines(text: string): Map<string, number> {
  const map = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    if (
      raw === '' ||
      raw.startsWith(' ') ||
      raw.startsWith('\t') ||
      raw.startsWith('#') ||
      !raw.endsWith(':')
    )
      continue;
    for (const part of raw.slice(0, -1).split(',')) {
      const spec = unquote(part.trim());
      if (spec !== '' && !map.has(spec)) map.set(spec, i + 1);
    }
  }
  return map;
}

function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      const value: unknown = JSON.parse(s);
      if (typeof value === 'string') return value;
    } catch {
      return s.slice(1, -1);
    }
  }
  return s;
}

/**
 * Follows the `@yarnpkg/lockfile` tokeniser's rules for comments, strings and bare words and returns the line
 * where a string opens that has no closing quote, or null. (Its rule for an escaped quote: a `"` preceded by
 * one backslash, unless that backslash is itself preceded by one.)
 */
export function unterminatedStringLine(text: string): number | null {
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      line += 1;
      i += 1;
    } else if (c === '\r') {
      if (text[i + 1] === '\n') i += 1;
      line += 1;
      i += 1;
    } else if (c === '#') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === '"') {
      const close = closingQuote(text, i);
      if (close === -1) return line;
      for (let k = i; k < close; k += 1)
        if (text[k] === '\n' || (text[k] === '\r' && text[k + 1] !== '\n')) line += 1;
      i = close + 1;
    } else if (text.startsWith('true', i) || text.startsWith('false', i)) {
      i += text.startsWith('true', i) ? 4 : 5;
    } else if (c !== undefined && /[a-zA-Z/-]/.test(c)) {
      while (i < n && !':, \n\r'.includes(text[i] ?? '')) i += 1;
    } else {
      i += 1;
    }
  }
  return null;
}

function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    const escaped = text[at - 1] === '\\' && text[at - 2] !== '\\';
    if (!escaped) return at;
  }
  return -1;
}

function lineOfConflict(text: string): number {
  return text.slice(0, text.indexOf('<<<<<<<')).split('\n').length;
}
