/**
 * Small helpers shared by the manifest analysers: building a `Signal` about package.json, and finding the
 * line of a key in the package.json text so a report can point at it.
 */
import type { Capability, NpmSeverity, Signal, SignalKind, ThreatCategory } from '../npm-types.js';

/** What a manifest analyser says; `metaSignal` fills in the location fields. */
export interface MetaSignalInput {
  ruleId: string;
  kind: SignalKind;
  category: Capability | ThreatCategory;
  severity: NpmSeverity;
  message: string;
  /** `'package.json'`, another package file, or null for a fact about the name or version. */
  file?: string | null;
  line?: number | null;
  snippet?: string | null;
}

/** Builds a signal; the snippet is cut to 160 characters on one line. */
export function metaSignal(input: MetaSignalInput): Signal {
  return {
    ruleId: input.ruleId,
    kind: input.kind,
    category: input.category,
    severity: input.severity,
    message: input.message,
    file: input.file === undefined ? 'package.json' : input.file,
    line: input.line ?? null,
    column: null,
    snippet: input.snippet == null ? null : oneLine(input.snippet, 160),
  };
}

/** The text on one line, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * Maps each key path of a JSON text to the 1-based line of its key (`['scripts', 'postinstall']` → 12).
 * Array elements are not recorded. Returns an empty map when the text is not JSON-shaped; it never throws.
 */
export function jsonKeyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const stack: { kind: 'object' | 'array'; key: string | null }[] = [];
  let line = 1;
  let pendingKey: string | null = null;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      continue;
    }
    if (ch === '"') {
      const start = line;
      let j = i + 1;
      let raw = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          raw += text.slice(j, j + 2);
          j += 2;
          continue;
        }
        if (text[j] === '\n') line++;
        raw += text[j];
        j++;
      }
      i = j;
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && expectKey) {
        pendingKey = decodeJsonString(raw);
        const path = [...stack.slice(1).map((s) => s.key ?? ''), pendingKey];
        // Only the first occurrence counts: JSON.parse keeps the last value, but a duplicate key is rare and
        // the first line still points at the right place for a reader.
        const id = keyPathId(path);
        if (!lines.has(id)) lines.set(id, start);
        expectKey = false;
      }
      continue;
    }
    if (ch === '{' || ch === '[') {
      stack.push({ kind: ch === '{' ? 'object' : 'array', key: pendingKey });
      pendingKey = null;
      expectKey = ch === '{';
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      pendingKey = null;
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1]?.kind === 'object';
      pendingKey = null;
    }
  }
  return lines;
}

/** The map key `jsonKeyLines` uses for a key path. */
export function keyPathId(path: readonly string[]): string {
  return path.join('\u0000');
}

/** The line of a key path in the package.json text, or null when there is no text or no such key. */
export function lineOf(keyLines: Map<string, number> | null, path: readonly string[]): number | null {
  return keyLines?.get(keyPathId(path)) ?? null;
}

function decodeJsonString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The string-valued entries of an object field of the manifest (`scripts`, `dependencies`, …). */
export function stringMap(manifest: Record<string, unknown>, field: string): Map<string, string> {
  const out = new Map<string, string>();
  const value = manifest[field];
  if (!isRecord(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out.set(k, v);
  return out;
}
