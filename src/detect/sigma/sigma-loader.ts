/**
 * Loading Sigma rule files: detection rules are validated and compiled, filter documents are compiled and
 * woven into the rules they name, correlation documents are handed on unparsed (RawRuleDoc) to the
 * correlation module. Every problem is a RuleLoadError naming file, line and field; a document with an
 * error is left out, the others load.
 */
import { detectionLiterals, type LiteralClause } from './sigma-literals.js';
import { detectionPrefilter, type Prefilter } from './sigma-prefilter.js';
import {
  LEVELS,
  type DetectionRule,
  type DetectEvent,
  type Level,
  type LogSource,
  type RawRuleDoc,
  type RuleLoadError,
  type RuleLocation,
} from '../detect-types.js';
import { compileDetection } from './sigma-detection.js';
import { CompileError, type CompileOptions } from './sigma-values.js';
import { listRuleFiles, parseRuleText, readRuleFile, type ReadFileResult } from './sigma-yaml.js';

/** Options of loadRules. */
export interface LoadOptions {
  /** Values of `%name%` placeholders used with `|expand`; an unknown placeholder is a load error. */
  placeholders?: Record<string, string[]>;
}

/** A compiled Sigma filter (sigma-filters-specification.md). */
export interface SigmaFilter {
  kind: 'filter';
  id: string;
  title: string;
  description: string | null;
  logsource: LogSource;
  /** The ids or names of the rules it applies to, as written. */
  rules: string[];
  /** Ids of the loaded detection rules it was woven into. */
  appliedTo: string[];
  location: RuleLocation;
  /** True when the filter's own condition holds: a rule it applies to does NOT match such an event. */
  matches(event: DetectEvent): boolean;
}

/** What kind of document a rule document is. */
export type DocumentKind = 'detection' | 'filter' | 'correlation';

/** One document of a rule file and how it loaded. */
export interface DocumentStatus {
  file: string;
  index: number;
  line: number | null;
  kind: DocumentKind;
  id: string | null;
  title: string | null;
  status: 'ok' | 'error';
  errors: RuleLoadError[];
}

/** The result of loadRules. */
export interface LoadResult {
  detections: DetectionRule[];
  filters: SigmaFilter[];
  correlationDocs: RawRuleDoc[];
  errors: RuleLoadError[];
  /** Every document read, with its status (what `rules check` prints). */
  documents: DocumentStatus[];
  /** Every rule file read. */
  files: string[];
}

const STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'];
const RELATED_TYPES = ['derived', 'obsolete', 'merged', 'renamed', 'similar'];
const DATE_RE = /^\d{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$/;
const TAG_RE = /^[a-z0-9_-]+\.[a-z0-9._-]+$/;
const LOGSOURCE_KEYS = ['product', 'service', 'category', 'definition'];

/** Collects errors of one document with their lines. */
class DocErrors {
  readonly list: RuleLoadError[] = [];
  constructor(private readonly raw: RawRuleDoc) {}
  add(path: ReadonlyArray<string | number>, message: string): void {
    this.list.push({
      file: this.raw.file,
      line: this.raw.lineOf(path),
      field: path.length ? path.join('.') : null,
      message,
    });
  }
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function optString(doc: Record<string, unknown>, key: string, errs: DocErrors, max?: number): string | null {
  const v = doc[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') {
    errs.add([key], `${key} must be a string`);
    return null;
  }
  if (max !== undefined && v.length > max) errs.add([key], `${key} is longer than ${max} characters`);
  return v;
}

function optStringList(
  doc: Record<string, unknown>,
  key: string,
  errs: DocErrors,
  check?: (s: string) => string | null,
): string[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.add([key], `${key} must be a list of strings`);
    return [];
  }
  const out: string[] = [];
  v.forEach((item: unknown, i) => {
    if (typeof item !== 'string') errs.add([key, i], `${key}[${i}] must be a string`);
    else {
      const problem = check?.(item);
      if (problem) errs.add([key, i], problem);
      out.push(item);
    }
  });
  return out;
}

function checkDate(doc: Record<string, unknown>, key: string, errs: DocErrors): void {
  const v = doc[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || !DATE_RE.test(v)) errs.add([key], `${key} must be a date YYYY-MM-DD`);
}

function readLogsource(doc: Record<string, unknown>, errs: DocErrors): LogSource {
  const v = doc['logsource'];
  if (v === undefined) {
    errs.add([], 'logsource is required');
    return {};
  }
  if (!isMap(v)) {
    errs.add(['logsource'], 'logsource must be a map');
    return {};
  }
  const out: LogSource = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') errs.add(['logsource', k], `logsource.${k} must be a string`);
    else if (k === 'product' || k === 'service' || k === 'category') out[k] = val;
    else if (!LOGSOURCE_KEYS.includes(k)) continue; // custom logsource attributes are tolerated
  }
  return out;
}

function readTitle(doc: Record<string, unknown>, errs: DocErrors): string {
  if (doc['title'] === undefined) errs.add([], 'title is required');
  return optString(doc, 'title', errs, 256) ?? '';
}

function readKeyward(doc: Record<string, unknown>, errs: DocErrors): Record<string, unknown> {
  const v = doc['keyward'];
  if (v === undefined || v === null) return {};
  if (!isMap(v)) {
    errs.add(['keyward'], 'keyward must be a map');
    return {};
  }
  return v;
}

/** Validates the meta fields of a detection rule (Sigma rules JSON schema); unknown keys are tolerated. */
function readDetectionMeta(raw: RawRuleDoc, errs: DocErrors) {
  const doc = raw.doc;
  const title = readTitle(doc, errs);
  const id = optString(doc, 'id', errs);
  const name = optString(doc, 'name', errs, 256);
  optString(doc, 'taxonomy', errs, 256);
  optString(doc, 'license', errs);
  const status = optString(doc, 'status', errs);
  if (status !== null && !STATUSES.includes(status))
    errs.add(['status'], `status must be one of ${STATUSES.join(', ')}`);
  const description = optString(doc, 'description', errs, 65535);
  const author = optString(doc, 'author', errs);
  const levelText = optString(doc, 'level', errs);
  let level: Level = 'medium';
  if (levelText !== null) {
    if ((LEVELS as readonly string[]).includes(levelText)) level = levelText as Level;
    else errs.add(['level'], `level must be one of ${LEVELS.join(', ')}`);
  }
  checkDate(doc, 'date', errs);
  checkDate(doc, 'modified', errs);
  const references = optStringList(doc, 'references', errs);
  const tags = optStringList(doc, 'tags', errs, (t) =>
    TAG_RE.test(t) ? null : `tag '${t}' must look like namespace.name (lowercase letters, digits, _ - .)`,
  );
  const falsepositives = optStringList(doc, 'falsepositives', errs);
  const fields = optStringList(doc, 'fields', errs);
  optStringList(doc, 'scope', errs);
  const related = doc['related'];
  if (related !== undefined && related !== null) {
    if (!Array.isArray(related)) errs.add(['related'], 'related must be a list');
    else
      related.forEach((r: unknown, i) => {
        if (!isMap(r) || typeof r['id'] !== 'string')
          errs.add(['related', i], 'related items need an id (string) and a type');
        else if (typeof r['type'] !== 'string' || !RELATED_TYPES.includes(r['type'])) {
          errs.add(['related', i, 'type'], `related type must be one of ${RELATED_TYPES.join(', ')}`);
        }
      });
  }
  const logsource = readLogsource(doc, errs);
  const keyward = readKeyward(doc, errs);
  return {
    title,
    id,
    name,
    status,
    description,
    author,
    level,
    references,
    tags,
    falsepositives,
    fields,
    logsource,
    keyward,
  };
}

function kindOf(doc: Record<string, unknown>): DocumentKind {
  if ('correlation' in doc) return 'correlation';
  if ('filter' in doc && !('detection' in doc)) return 'filter';
  return 'detection';
}

interface PendingDetection {
  meta: Omit<DetectionRule, 'matches' | 'kind' | 'prefilter' | 'literals'>;
  base: (e: DetectEvent) => boolean;
  prefilter: Prefilter | null;
  literals: LiteralClause[] | null;
  status: DocumentStatus;
}

interface PendingFilter {
  filter: SigmaFilter;
  raw: RawRuleDoc;
  status: DocumentStatus;
  errs: DocErrors;
}

function compileErrorTo(errs: DocErrors, err: unknown): void {
  if (err instanceof CompileError) errs.add(err.path, err.message);
  else throw err;
}

function loadDetection(
  raw: RawRuleDoc,
  options: CompileOptions,
  status: DocumentStatus,
): PendingDetection | null {
  const errs = new DocErrors(raw);
  const meta = readDetectionMeta(raw, errs);
  let compiled: ReturnType<typeof compileDetection> | null = null;
  if (raw.doc['detection'] === undefined) errs.add([], 'detection is required');
  else {
    try {
      compiled = compileDetection(raw.doc['detection'], ['detection'], options);
    } catch (err) {
      compileErrorTo(errs, err);
    }
  }
  status.id = meta.id ?? null;
  status.title = meta.title || null;
  status.errors.push(...errs.list);
  if (errs.list.length > 0 || !compiled) return null;
  const fields = [...new Set([...compiled.fields, ...meta.fields])];
  return {
    prefilter: detectionPrefilter(raw.doc['detection']),
    literals: detectionLiterals(raw.doc['detection']),
    meta: {
      id: meta.id ?? `${raw.file}#${raw.index}`,
      name: meta.name,
      title: meta.title,
      description: meta.description,
      level: meta.level,
      status: meta.status,
      tags: meta.tags,
      author: meta.author,
      references: meta.references,
      falsepositives: meta.falsepositives,
      location: { file: raw.file, line: raw.lineOf([]) ?? 1 },
      keyward: meta.keyward,
      logsource: meta.logsource,
      fields,
    },
    base: compiled.matches,
    status,
  };
}

function loadFilter(raw: RawRuleDoc, options: CompileOptions, status: DocumentStatus): PendingFilter | null {
  const errs = new DocErrors(raw);
  const doc = raw.doc;
  const title = readTitle(doc, errs);
  const id = optString(doc, 'id', errs);
  const description = optString(doc, 'description', errs, 65535);
  checkDate(doc, 'date', errs);
  checkDate(doc, 'modified', errs);
  const logsource = readLogsource(doc, errs);
  const block = doc['filter'];
  let rules: string[] = [];
  let matches: ((e: DetectEvent) => boolean) | null = null;
  if (!isMap(block)) errs.add(['filter'], 'filter must be a map with rules, selections and a condition');
  else {
    const list = block['rules'];
    if (!Array.isArray(list) || list.length === 0)
      errs.add(['filter', 'rules'], 'filter.rules must be a non-empty list of rule ids or names');
    else
      list.forEach((r: unknown, i) => {
        if (typeof r !== 'string')
          errs.add(['filter', 'rules', i], 'a rule reference must be a string (id or name)');
        else rules.push(r);
      });
    const detection = Object.fromEntries(Object.entries(block).filter(([k]) => k !== 'rules'));
    try {
      matches = compileDetection(detection, ['filter'], options).matches;
    } catch (err) {
      compileErrorTo(errs, err);
    }
  }
  status.id = id;
  status.title = title || null;
  status.errors.push(...errs.list);
  if (errs.list.length > 0 || !matches) return null;
  rules = [...new Set(rules)];
  const filter: SigmaFilter = {
    kind: 'filter',
    id: id ?? `${raw.file}#${raw.index}`,
    title,
    description,
    logsource,
    rules,
    appliedTo: [],
    location: { file: raw.file, line: raw.lineOf([]) ?? 1 },
    matches,
  };
  return { filter, raw, status, errs };
}

/** True when every logsource key the filter sets equals (case-insensitively) the rule's. */
function logsourceCovers(filter: LogSource, rule: LogSource): boolean {
  for (const k of ['product', 'service', 'category'] as const) {
    const f = filter[k];
    if (f !== undefined && f.toLowerCase() !== rule[k]?.toLowerCase()) return false;
  }
  return true;
}

/**
 * Weaves filters into the rules they name: the rule then matches when its own condition holds and no
 * applying filter's condition does (`rule and not filter1 and not filter2`), as pySigma does. A reference to
 * no loaded detection rule, or to one whose logsource the filter does not cover, is an error of the filter.
 */
function applyFilters(
  detections: PendingDetection[],
  filters: PendingFilter[],
  correlationRefs: Set<string>,
): Map<PendingDetection, Array<(e: DetectEvent) => boolean>> {
  const byRef = new Map<string, PendingDetection>();
  for (const d of detections) {
    byRef.set(d.meta.id, d);
    if (d.meta.name) byRef.set(d.meta.name, d);
  }
  const woven = new Map<PendingDetection, Array<(e: DetectEvent) => boolean>>();
  for (const f of filters) {
    const targets: PendingDetection[] = [];
    f.filter.rules.forEach((ref, i) => {
      const path = ['filter', 'rules', i];
      const target = byRef.get(ref);
      if (!target) {
        f.errs.add(
          path,
          correlationRefs.has(ref)
            ? `rule '${ref}' is a correlation; filters apply to detection rules only`
            : `no loaded detection rule has id or name '${ref}'`,
        );
        return;
      }
      if (!logsourceCovers(f.filter.logsource, target.meta.logsource)) {
        f.errs.add(['logsource'], `the filter's logsource does not cover the logsource of rule '${ref}'`);
        return;
      }
      targets.push(target);
    });
    // A filter with a bad reference is refused as a whole: it is applied to no rule.
    if (f.errs.list.length > 0) continue;
    for (const target of targets) {
      const list = woven.get(target) ?? [];
      list.push(f.filter.matches);
      woven.set(target, list);
      f.filter.appliedTo.push(target.meta.id);
    }
  }
  return woven;
}

function withFilters(
  base: (e: DetectEvent) => boolean,
  filters: Array<(e: DetectEvent) => boolean> | undefined,
): (e: DetectEvent) => boolean {
  if (!filters || filters.length === 0) return base;
  if (filters.length === 1) {
    const f = filters[0]!;
    return (e) => base(e) && !f(e);
  }
  return (e) => {
    if (!base(e)) return false;
    for (let i = 0; i < filters.length; i++) if (filters[i]!(e)) return false;
    return true;
  };
}

/**
 * Loads every `.yml`/`.yaml` file under `paths` (directories recursively, multi-document files split on
 * `---`). Detection rules are compiled; filters are compiled and applied to the rules they name; correlation
 * documents are returned as RawRuleDoc for the correlation module. Ids must be unique across everything
 * loaded, and so must names (a later duplicate is an error).
 */
export async function loadRules(paths: string[], options: LoadOptions = {}): Promise<LoadResult> {
  const listed = await listRuleFiles(paths);
  const reads: ReadFileResult[] = [];
  for (const file of listed.files) reads.push(await readRuleFile(file));
  return loadParsed(reads, listed.errors, options);
}

/**
 * Loads rules given as text (e.g. posted over HTTP, or in tests), exactly as loadRules loads files; `file` is
 * the name used in locations and errors.
 */
export function loadRuleTexts(
  texts: ReadonlyArray<{ file: string; text: string }>,
  options: LoadOptions = {},
): LoadResult {
  return loadParsed(
    texts.map((t) => parseRuleText(t.file, t.text)),
    [],
    options,
  );
}

function loadParsed(reads: ReadFileResult[], listErrors: RuleLoadError[], options: LoadOptions): LoadResult {
  const errors: RuleLoadError[] = [...listErrors];
  const documents: DocumentStatus[] = [];
  const detections: PendingDetection[] = [];
  const filters: PendingFilter[] = [];
  const correlationDocs: RawRuleDoc[] = [];
  const correlationStatus: DocumentStatus[] = [];
  const seenIds = new Map<string, RuleLocation>();
  const seenNames = new Map<string, RuleLocation>();
  const compileOptions: CompileOptions = { placeholders: options.placeholders ?? {} };

  for (const read of reads) {
    const file = read.file;
    errors.push(...read.errors);
    for (const raw of read.docs) {
      const kind = kindOf(raw.doc);
      const line = raw.lineOf([]);
      const status: DocumentStatus = {
        file,
        index: raw.index,
        line,
        kind,
        id: null,
        title: null,
        status: 'ok',
        errors: [],
      };
      documents.push(status);
      const id = raw.doc['id'];
      if (typeof id === 'string') {
        const first = seenIds.get(id);
        if (first) {
          status.id = id;
          status.errors.push({
            file,
            line: raw.lineOf(['id']),
            field: 'id',
            message: `duplicate id ${id} (first in ${first.file}:${first.line})`,
          });
          continue;
        }
        seenIds.set(id, { file, line: line ?? 1 });
      }
      const name = raw.doc['name'];
      if (typeof name === 'string') {
        const first = seenNames.get(name);
        if (first) {
          status.id = typeof id === 'string' ? id : null;
          status.errors.push({
            file,
            line: raw.lineOf(['name']),
            field: 'name',
            message: `duplicate name ${name} (first in ${first.file}:${first.line})`,
          });
          continue;
        }
        seenNames.set(name, { file, line: line ?? 1 });
      }
      if (kind === 'correlation') {
        status.id = typeof id === 'string' ? id : null;
        status.title = typeof raw.doc['title'] === 'string' ? raw.doc['title'] : null;
        correlationDocs.push(raw);
        correlationStatus.push(status);
      } else if (kind === 'filter') {
        const f = loadFilter(raw, compileOptions, status);
        if (f) filters.push(f);
      } else {
        const d = loadDetection(raw, compileOptions, status);
        if (d) detections.push(d);
      }
    }
  }

  const correlationRefs = new Set<string>();
  for (const c of correlationDocs) {
    for (const k of ['id', 'name']) if (typeof c.doc[k] === 'string') correlationRefs.add(c.doc[k]);
  }
  const woven = applyFilters(detections, filters, correlationRefs);
  const loadedFilters: SigmaFilter[] = [];
  for (const f of filters) {
    f.status.errors.push(...f.errs.list.filter((e) => !f.status.errors.includes(e)));
    if (f.errs.list.length === 0) loadedFilters.push(f.filter);
  }
  for (const s of documents) {
    if (s.errors.length > 0) s.status = 'error';
    errors.push(...s.errors);
  }
  const rules: DetectionRule[] = detections.map((d) => ({
    ...d.meta,
    kind: 'detection',
    matches: withFilters(d.base, woven.get(d)),
    // Filters only narrow a rule (`rule and not filter`), so the rule's own requirement still holds.
    prefilter: d.prefilter,
    literals: d.literals,
  }));
  return {
    detections: rules,
    filters: loadedFilters,
    correlationDocs,
    errors,
    documents,
    files: reads.map((r) => r.file),
  };
}

/** One file's status in a check report. */
export interface FileCheck {
  file: string;
  status: 'ok' | 'error';
  /** Errors not tied to one document (unreadable file, YAML syntax). */
  errors: RuleLoadError[];
  documents: DocumentStatus[];
}

/** What `keyward rules check` reports. */
export interface CheckReport {
  ok: boolean;
  files: FileCheck[];
  counts: {
    files: number;
    documents: number;
    ok: number;
    error: number;
    detections: number;
    filters: number;
    correlations: number;
  };
}

/**
 * Summarizes a load per file and per document (status ok or error, with the errors). A file is in error
 * when any of its documents is, or when it could not be read or parsed.
 */
export function summarizeLoad(result: LoadResult): CheckReport {
  const byFile = new Map<string, FileCheck>();
  const fileOf = (file: string): FileCheck => {
    let fc = byFile.get(file);
    if (!fc) {
      fc = { file, status: 'ok', errors: [], documents: [] };
      byFile.set(file, fc);
    }
    return fc;
  };
  for (const f of result.files) fileOf(f);
  for (const d of result.documents) fileOf(d.file).documents.push(d);
  const docErrors = new Set(result.documents.flatMap((d) => d.errors));
  for (const e of result.errors) if (!docErrors.has(e)) fileOf(e.file).errors.push(e);
  for (const fc of byFile.values()) {
    if (fc.errors.length > 0 || fc.documents.some((d) => d.status === 'error')) fc.status = 'error';
  }
  const files = [...byFile.values()];
  const okDocs = result.documents.filter((d) => d.status === 'ok').length;
  return {
    ok: files.every((f) => f.status === 'ok'),
    files,
    counts: {
      files: files.length,
      documents: result.documents.length,
      ok: okDocs,
      error: result.documents.length - okDocs,
      detections: result.detections.length,
      filters: result.filters.length,
      correlations: result.correlationDocs.length,
    },
  };
}

/** loadRules then summarizeLoad: the `rules check` entry point. */
export async function checkRules(paths: string[], options: LoadOptions = {}): Promise<CheckReport> {
  return summarizeLoad(await loadRules(paths, options));
}
