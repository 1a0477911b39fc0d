/**
 * Shared YAML reading for pnpm-lock.yaml and yarn berry's yarn.lock: parse with line positions, turn the first
 * YAML error into a `ValidationError` with its line, and give the line of each key of a top-level mapping.
 */
import { LineCounter, isMap, isScalar, parseDocument, visit } from 'yaml';
import { isRecord, lastLine, lockfileError } from './lockfile-errors.js';

/** A parsed YAML lockfile: its plain value and a line lookup for the keys of top-level mappings. */
export interface YamlLockfile {
  data: Record<string, unknown>;
  /** 1-based line of `key` inside the top-level mapping `section`, or null. */
  lineOf(section: string, key: string): number | null;
  /** 1-based line of a top-level key, or null. */
  topLine(key: string): number | null;
}

/**
 * Parses YAML text that must hold a mapping at the top.
 * @throws ValidationError naming the line of the first YAML error, or line 1 when the top is not a mapping.
 */
export function readYamlLockfile(file: string, text: string, what: string): YamlLockfile {
  const lineCounter = new LineCounter();
  // yaml's own duplicate-key check is quadratic in a mapping's size (20k packages: tens of seconds);
  // duplicates are found below with one set per mapping instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    // Errors found at the end of input (an unclosed quote) point past the last newline: name the last line.
    const line = Math.min(first.linePos?.[0].line ?? lineCounter.linePos(first.pos[0]).line, lastLine(text));
    throw lockfileError(file, line, `invalid YAML: ${first.message.split('\n')[0] ?? first.message}`, first);
  }
  const duplicate = firstDuplicateKey(doc);
  if (duplicate !== null) {
    throw lockfileError(
      file,
      lineCounter.linePos(duplicate.offset).line,
      `invalid YAML: the key "${duplicate.key}" appears twice in one mapping`,
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw lockfileError(
      file,
      null,
      `the YAML cannot be read as data (${err instanceof Error ? err.message : String(err)})`,
      err,
    );
  }
  if (!isRecord(data) || !isMap(doc.contents))
    throw lockfileError(file, 1, `${what} must be a YAML mapping at the top`);
  const top = doc.contents;
  const sections = new Map<string, Map<string, number>>();
  const topLines = new Map<string, number>();
  for (const pair of top.items) {
    if (!isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) continue;
    const name = String(pair.key.value);
    topLines.set(name, lineCounter.linePos(pair.key.range[0]).line);
    if (!isMap(pair.value)) continue;
    const keys = new Map<string, number>();
    for (const inner of pair.value.items) {
      if (isScalar(inner.key) && inner.key.range)
        keys.set(String(inner.key.value), lineCounter.linePos(inner.key.range[0]).line);
    }
    sections.set(name, keys);
  }
  return {
    data,
    lineOf: (section, key) => sections.get(section)?.get(key) ?? null,
    topLine: (key) => topLines.get(key) ?? null,
  };
}

/** The first key that repeats inside one mapping (scalar keys compared by value), with its offset. */
function firstDuplicateKey(doc: ReturnType<typeof parseDocument>): { key: string; offset: number } | null {
  let found: { key: string; offset: number } | null = null;
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value = String(pair.key.value);
        if (seen.has(value)) {
          found = { key: value, offset: pair.key.range?.[0] ?? 0 };
          return visit.BREAK;
        }
        seen.add(value);
      }
      return undefined;
    },
  });
  return found;
}
