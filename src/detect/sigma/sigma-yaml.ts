/**
 * Reading rule files: every `.yml`/`.yaml` file under the given paths, each split into its YAML documents
 * (`---`), with the line of every node kept so that errors can name file, line and field.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from 'yaml';
import type { RawRuleDoc, RuleLoadError } from '../detect-types.js';

/** One file's documents, or the errors that kept it (or one of its documents) from being read. */
export interface ReadFileResult {
  file: string;
  docs: RawRuleDoc[];
  errors: RuleLoadError[];
}

/** True for the file names the loader reads. */
export function isRuleFileName(name: string): boolean {
  return name.endsWith('.yml') || name.endsWith('.yaml');
}

/**
 * Lists the rule files under `paths` (files as given, directories recursively, in name order so runs are
 * reproducible). A path that does not exist is reported as an error, not thrown.
 */
export async function listRuleFiles(paths: string[]): Promise<{ files: string[]; errors: RuleLoadError[] }> {
  const files: string[] = [];
  const errors: RuleLoadError[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      errors.push({ file: path, line: null, field: null, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    if (info.isDirectory()) await walk(path, files);
    else files.push(path);
  }
  return { files, errors };
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else if (entry.isFile() && isRuleFileName(entry.name)) out.push(full);
  }
}

/** Reads one file and parses its documents; YAML syntax errors become RuleLoadErrors with their line. */
export async function readRuleFile(file: string): Promise<ReadFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return {
      file,
      docs: [],
      errors: [{ file, line: null, field: null, message: `cannot read: ${(err as Error).message}` }],
    };
  }
  return parseRuleText(file, text);
}

/** Parses the text of a rule file (exported for tests and for rules posted over HTTP). */
export function parseRuleText(file: string, text: string): ReadFileResult {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  const docs: RawRuleDoc[] = [];
  const errors: RuleLoadError[] = [];
  if (!Array.isArray(parsed)) return { file, docs, errors };
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  parsed.forEach((document, index) => {
    if (document.errors.length > 0) {
      for (const err of document.errors) {
        const line = err.linePos?.[0].line ?? lineAt(err.pos[0]);
        const column = err.linePos?.[0].col ?? lineCounter.linePos(err.pos[0]).col;
        const message = firstLine(err.message).replace(/ at line \d+, column \d+:?$/, '');
        errors.push({ file, line, field: null, message: `YAML: ${message} (column ${column})` });
      }
      return;
    }
    const contents = document.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) return; // empty document (trailing ---)
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (err) {
      errors.push({
        file,
        line: lineAt(contents.range?.[0] ?? 0),
        field: null,
        message: `YAML: ${(err as Error).message}`,
      });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      errors.push({
        file,
        line: lineAt(contents.range?.[0] ?? 0),
        field: null,
        message: 'a rule document must be a map of fields',
      });
      return;
    }
    docs.push({
      file,
      index,
      doc: value as Record<string, unknown>,
      lineOf: (path) => lineOfPath(contents, path, lineAt),
    });
  });
  return { file, docs, errors };
}

function firstLine(message: string): string {
  const nl = message.indexOf('\n');
  return nl < 0 ? message : message.slice(0, nl);
}

/**
 * The 1-based line of the node at `path` (map keys by name, sequence items by index): the line of the key
 * for map entries, of the item for sequence items. An empty path gives the document's first line; a path
 * that leads nowhere gives the line of the deepest node found on the way, or null if none.
 */
function lineOfPath(
  root: YamlNode,
  path: ReadonlyArray<string | number>,
  lineAt: (offset: number) => number,
): number | null {
  let node: unknown = root;
  let line: number | null = root.range ? lineAt(root.range[0]) : null;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(step),
      );
      if (!pair) return line;
      const keyNode = pair.key as YamlNode | null;
      if (keyNode?.range) line = lineAt(keyNode.range[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step] as YamlNode | undefined;
      if (!item) return line;
      if (item.range) line = lineAt(item.range[0]);
      node = item;
    } else {
      return line;
    }
  }
  return line;
}
