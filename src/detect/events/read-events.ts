/**
 * The event reader: files and directories (recursive, in name order) to a stream of DetectEvents, each file's
 * format detected from its content unless one is given. Records that cannot be read are reported through
 * onBroken with their file and line and never stop the run.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdapterName, BrokenRecord, DetectEvent } from '../detect-types.js';
import { adapterFor, detectFormat } from './adapters.js';
import { isCloudTrailDelivery } from './cloudtrail-adapter.js';
import { broken, isBrokenRecord, isRecord, kindOf, type Adapter } from './event-common.js';
import { FileReadError, MAX_LINE_BYTES, readLineBatches, type FileLine } from './line-reader.js';
import type { FieldMapping } from './mapping-adapter.js';
import type { LineFilter } from '../line-prefilter.js';

/** How to read. */
export interface ReadEventsOptions {
  /** The format of every file (`--format`); by default each file's is detected from its first record. */
  format?: AdapterName | null;
  /** The field mapping for `ndjson`; giving one without a format reads every file as `ndjson`. */
  mapping?: FieldMapping | null;
  /** Told about every record, line or file that cannot be read. */
  onBroken?: (record: BrokenRecord) => void;
  /** Longest line (and whole JSON document) read; default 64 MiB. */
  maxLineBytes?: number;
  /** The seq of the first event; default 1. */
  firstSeq?: number;
  /**
   * Passes over NDJSON lines of its adapter's files that no rule can match, without parsing them
   * (createLinePrefilter, line-prefilter.ts): each is counted as an event (and takes its seq) but not
   * yielded, and its time is handed to `onPassedOver`.
   */
  lineFilter?: LineFilter | null;
}

/** What a run has read so far. */
export interface ReadCounters {
  /** Files opened. */
  files: number;
  /** Events read: yielded, and passed over by a line filter. */
  events: number;
  /** Of those, lines passed over by the line filter (counted as events, not yielded). */
  passedOver: number;
  /** Broken records reported (including files that could not be read). */
  broken: number;
  /** Files given up on as a whole (each also reported): unreadable, empty, binary, of no known format. */
  skippedFiles: number;
  /** Files passed over without a report because they hold no events: CloudTrail digest files. */
  ignoredFiles: number;
  /** Events by adapter. */
  byAdapter: Record<AdapterName, number>;
}

/** The events of a run, with its counters (updated as it goes). Iterate it once. */
export interface EventStream extends AsyncIterable<DetectEvent> {
  readonly counters: Readonly<ReadCounters>;
  /**
   * Reads every event, calling `onEvent` for each in order (synchronously, a block of lines at a time): the
   * same events as iterating the stream, without an await per event. Either this or iteration, once.
   */
  forEach(onEvent: (event: DetectEvent) => void): Promise<void>;
}

/** Per-file state. */
interface FileState {
  file: string;
  adapterName: AdapterName | null;
  adapter: Adapter | null;
  /** Set when the file is given up on. */
  stop: boolean;
}

/** `cannot read: <errno code>`. */
function ioProblem(err: unknown): string {
  return `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
}

/**
 * Files under the paths: a file as given, a directory's files recursively in name order. A directory reached
 * twice (through a symbolic link) is read once.
 */
async function* listFiles(
  paths: readonly string[],
  report: (b: BrokenRecord) => void,
  seenDirs: Set<string> = new Set(),
): AsyncGenerator<string> {
  for (const path of paths) {
    let entries: string[] | null = null;
    try {
      const info = await stat(path);
      if (info.isFile()) {
        yield path;
        continue;
      }
      if (!info.isDirectory()) continue;
      const real = await realpath(path);
      if (seenDirs.has(real)) continue;
      seenDirs.add(real);
      entries = await readdir(path);
    } catch (err) {
      report({ file: path, line: null, reason: ioProblem(err) });
      continue;
    }
    entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    yield* listFiles(
      entries.map((e) => join(path, e)),
      report,
      seenDirs,
    );
  }
}

/** A CloudTrail digest file (delivered next to the logs, in `CloudTrail-Digest/`): not events. */
function isCloudTrailDigest(record: unknown): boolean {
  return isRecord(record) && typeof record.digestPublicKeyFingerprint === 'string';
}

/** A first line that opens a JSON document written over several lines (`{`, `{"Records": [`). */
function opensDocument(text: string): boolean {
  const t = text.trim();
  return t === '{' || t === '[' || (t.startsWith('{') && (t.endsWith('[') || t.endsWith('{')));
}

/** A JSON.parse error's message, without the `(line 1 column 39)` that newer V8s append (the line is known). */
function jsonProblem(err: unknown): string {
  const message = (err as Error).message.split('\n')[0]!.replace(/\s*\(line \d+ column \d+\)$/, '');
  return `not JSON: ${message}`;
}

/**
 * Reads events from files and directories.
 *
 * @example
 * const stream = readEvents(['trail/', 'audit.ndjson.gz'], { onBroken: (b) => warn(b) });
 * for await (const event of stream) engine.push(event);
 * console.log(stream.counters.events, stream.counters.broken);
 */
export function readEvents(paths: readonly string[], options: ReadEventsOptions = {}): EventStream {
  const mapping = options.mapping ?? null;
  const format = options.format ?? (mapping !== null ? 'ndjson' : null);
  if (format === 'ndjson' && mapping === null) throw new Error('the ndjson format needs a field mapping');
  if (format !== 'ndjson' && mapping !== null)
    throw new Error(`a field mapping is not used by the ${format} format`);
  const maxBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const counters: ReadCounters = {
    files: 0,
    events: 0,
    passedOver: 0,
    broken: 0,
    skippedFiles: 0,
    ignoredFiles: 0,
    byAdapter: { keyward: 0, cloudtrail: 0, github: 0, kubernetes: 0, ndjson: 0 },
  };
  const firstSeq = options.firstSeq ?? 1;
  const lineFilter = options.lineFilter ?? null;
  const report = (b: BrokenRecord): void => {
    counters.broken += 1;
    options.onBroken?.(b);
  };
  const skipFile = (state: FileState, line: number | null, reason: string): void => {
    counters.skippedFiles += 1;
    state.stop = true;
    report({ file: state.file, line, reason });
  };

  /**
   * What a block of lines gave, in order: events, and the event times of lines the line filter passed over
   * (numbers). The consumer hands each time to `onPassedOver` at its place between the events, so the
   * detector's clock moves exactly as if every line had been read one by one.
   */
  type Item = DetectEvent | number;

  /** One record: the adapter (chosen from it when the file has none yet) makes its event. */
  function onRecord(
    state: FileState,
    record: unknown,
    line: number | null,
    index: string | null,
    out: Item[],
  ) {
    if (state.adapter === null) {
      const name = detectFormat(record);
      if (name === null && isCloudTrailDigest(record)) {
        counters.ignoredFiles += 1;
        state.stop = true;
        return;
      }
      if (name === null) {
        if (!isRecord(record)) {
          report(broken({ file: state.file, line, index }, `not an object (${kindOf(record)})`));
          return;
        }
        skipFile(
          state,
          line,
          'unrecognized format: not CloudTrail, GitHub audit, Kubernetes audit or Keyward events (give a format, or a field mapping for other NDJSON)',
        );
        return;
      }
      state.adapterName = name;
      state.adapter = adapterFor(name);
    }
    const result = state.adapter!(record, { file: state.file, line, index, seq: firstSeq + counters.events });
    if (isBrokenRecord(result)) {
      report(result);
      return;
    }
    counters.events += 1;
    counters.byAdapter[result.source.adapter] += 1;
    out.push(result);
  }

  /**
   * One parsed value: a CloudTrail delivery document gives its `Records`, a page of Keyward's event API
   * (`{"items": [...], "next": …}`) its `items`; anything else is one record.
   */
  function onValue(state: FileState, value: unknown, line: number | null, index: string | null, out: Item[]) {
    const list = listOf(state.adapterName, value);
    if (list === null) {
      onRecord(state, value, line, index, out);
      return;
    }
    for (let i = 0; i < list.records.length && !state.stop; i++) {
      onRecord(state, list.records[i], line, `${index ?? ''}${list.key}[${i}]`, out);
    }
  }

  /** One line of NDJSON. */
  function onLine(state: FileState, l: FileLine, out: Item[]): void {
    const text = l.text;
    if (text === null) {
      report({ file: state.file, line: l.line, reason: `line longer than ${maxBytes} bytes: not read` });
      return;
    }
    // Most lines start with `{`: only others can be blank.
    if (text.charCodeAt(0) !== 123 && text.trim() === '') return;
    if (lineFilter !== null && state.adapter !== null && state.adapterName === lineFilter.adapter) {
      const time = lineFilter.passOver(text);
      if (time !== null) {
        counters.events += 1;
        counters.passedOver += 1;
        counters.byAdapter[lineFilter.adapter] += 1;
        out.push(time);
        return;
      }
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      report({ file: state.file, line: l.line, reason: jsonProblem(err) });
      return;
    }
    onValue(state, value, l.line, null, out);
  }

  /** A whole JSON document (an array, or an object over several lines); false when it is not JSON. */
  function onDocument(state: FileState, lines: FileLine[], isArray: boolean, out: Item[]): boolean {
    let value: unknown;
    try {
      value = JSON.parse(lines.map((l) => l.text).join('\n'));
    } catch (err) {
      if (isArray) skipFile(state, lines[0]!.line, jsonProblem(err));
      return false;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length && !state.stop; i++) onValue(state, value[i], null, `[${i}]`, out);
    } else {
      onValue(state, value, lines[0]!.line, null, out);
    }
    return true;
  }

  /** The items of one file, a list per block of lines read (one await per block, not per line). */
  async function* readFile(file: string): AsyncGenerator<Item[]> {
    counters.files += 1;
    const state: FileState = {
      file,
      adapterName: format,
      adapter: format === null ? null : adapterFor(format, mapping),
      stop: false,
    };
    // A document over several lines is collected (up to maxBytes) before it is parsed.
    let doc: { lines: FileLine[]; bytes: number; isArray: boolean } | null = null;
    let sawText = false;
    let lastLine = 0;
    let out: Item[] = [];
    try {
      for await (const batch of readLineBatches(file, maxBytes)) {
        for (const l of batch) {
          lastLine = l.line;
          if (doc !== null) {
            doc.bytes += (l.text?.length ?? maxBytes) + 1;
            if (l.text === null || doc.bytes > maxBytes) {
              skipFile(state, doc.lines[0]!.line, `JSON document longer than ${maxBytes} bytes: not read`);
              return;
            }
            doc.lines.push(l);
            continue;
          }
          if (!sawText && l.text !== null && l.text.trim() !== '') {
            sawText = true;
            const t = l.text.trimStart();
            if (t.startsWith('[') || (opensDocument(t) && !parses(t))) {
              doc = { lines: [l], bytes: l.text.length, isArray: t.startsWith('[') };
              continue;
            }
          }
          onLine(state, l, out);
          if (state.stop) break;
        }
        if (out.length > 0) {
          yield out;
          out = [];
        }
        if (state.stop) return;
      }
      if (doc !== null) {
        // A document that is not JSON after all: read its lines as NDJSON.
        const ok = onDocument(state, doc.lines, doc.isArray, out);
        if (!ok && !state.stop) for (const l of doc.lines) if (!state.stop) onLine(state, l, out);
        if (out.length > 0) {
          yield out;
          out = [];
        }
      }
      if (!sawText && lastLine === 0) skipFile(state, null, 'empty file');
      else if (!sawText) skipFile(state, null, 'empty file (only blank lines)');
    } catch (err) {
      if (!(err instanceof FileReadError)) throw err;
      if (out.length > 0) yield out;
      if (err.line === null || lastLine === 0) skipFile(state, err.line, err.message);
      else report({ file, line: err.line, reason: err.message });
    }
  }

  /** Every item of every file, a list at a time. */
  async function* items(): AsyncGenerator<Item[]> {
    if (started) throw new Error('an event stream is read once');
    started = true;
    for await (const file of listFiles(paths, (b) => {
      counters.skippedFiles += 1;
      report(b);
    })) {
      yield* readFile(file);
    }
  }

  let started = false;
  const passedOver = (time: number): void => lineFilter!.onPassedOver(time);
  return {
    counters,
    async *[Symbol.asyncIterator]() {
      for await (const list of items()) {
        for (const item of list) {
          if (typeof item === 'number') passedOver(item);
          else yield item;
        }
      }
    },
    async forEach(onEvent: (event: DetectEvent) => void): Promise<void> {
      for await (const list of items()) {
        for (const item of list) {
          if (typeof item === 'number') passedOver(item);
          else onEvent(item);
        }
      }
    },
  };
}

/** The records a container document holds, for the adapter chosen so far (or any, when none is). */
function listOf(adapter: AdapterName | null, value: unknown): { key: string; records: unknown[] } | null {
  if (!isRecord(value)) return null;
  if ((adapter === null || adapter === 'cloudtrail') && isCloudTrailDelivery(value)) {
    return { key: 'Records', records: value.Records };
  }
  const items = value.items;
  if ((adapter === null || adapter === 'keyward') && Array.isArray(items) && Object.hasOwn(value, 'next')) {
    return { key: 'items', records: items };
  }
  return null;
}

/** True when a text is JSON. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
