/**
 * Aho–Corasick over the rules' keywords, compiled to a dense DFA over bytes (ASCII case-folded), so one pass over
 * a file's raw bytes finds every keyword occurrence in time linear in its size, however many rules there are. It
 * runs on bytes, not strings: most of a tree is never decoded from UTF-8 at all.
 */

/** A compiled keyword automaton. */
export interface KeywordMatcher {
  /** Number of keywords it was built from. */
  readonly size: number;
  /**
   * Calls `onHit(keywordIds, end)` for every position where at least one keyword ends (`end` is the index of the
   * keyword's last byte). `keywordIds` is shared; copy it to keep it.
   */
  scan(bytes: Uint8Array, onHit: (keywordIds: readonly number[], end: number) => void): void;
}

const ALPHA = 256;

/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Builds the automaton; keywords are matched case-insensitively and must be printable ASCII.
 * @example
 * const m = createKeywordMatcher(['ghp_', 'AKIA']);
 * m.scan(Buffer.from('x = "ghp_…"'), (ids, end) => console.log(ids, end));
 */
export function createKeywordMatcher(
  keywords: readonly string[],
  engine: 'wasm' | 'js' = 'wasm',
): KeywordMatcher {
  const goto: Array<Map<number, number>> = [new Map()];
  const keywordBytes = new Set<number>();
  const outputs: number[][] = [[]];
  keywords.forEach((raw, id) => {
    const k = raw.toLowerCase();
    if (k.length === 0 || !/^[\x20-\x7e]+$/.test(k)) {
      throw new Error(`keyword ${JSON.stringify(raw)} must be non-empty printable ASCII`);
    }
    let s = 0;
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      keywordBytes.add(c);
      let next = goto[s]!.get(c);
      if (next === undefined) {
        next = goto.length;
        goto.push(new Map());
        outputs.push([]);
        goto[s]!.set(c, next);
      }
      s = next;
    }
    outputs[s]!.push(id);
  });

  // Byte classes: every byte that occurs in no keyword (after case folding) shares class 0, an upper-case
  // letter is in its lower-case form's class, so the table has a row of ~50 entries per state instead of 256.
  const classOf = new Uint8Array(ALPHA);
  let classes = 1;
  for (let c = 0; c < ALPHA; c++) if (keywordBytes.has(c)) classOf[c] = classes++;
  for (let c = 65; c <= 90; c++) classOf[c] = classOf[c + 32]!;

  // Breadth-first over classes: failure links, merged outputs and the full transition table.
  const states = goto.length;
  const delta = new Int32Array(states * classes);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  const edges = (s: number): Array<[number, number]> =>
    [...goto[s]!].map(([c, next]): [number, number] => [classOf[c]!, next]).sort((a, b) => a[0] - b[0]);
  for (const [k, next] of edges(0)) {
    delta[k] = next;
    queue.push(next);
  }
  for (let qi = 0; qi < queue.length; qi++) {
    const s = queue[qi]!;
    const f = fail[s]!;
    if (outputs[f]!.length > 0) outputs[s] = [...outputs[s]!, ...outputs[f]!];
    // The failure state's row (complete: it is shallower), then this state's own edges.
    delta.copyWithin(s * classes, f * classes, f * classes + classes);
    for (const [k, next] of edges(s)) {
      fail[next] = delta[f * classes + k]!;
      delta[s * classes + k] = next;
      queue.push(next);
    }
  }
  // Entries are the next state's row offset (state × classes), negated when that state reports keywords, so
  // the inner loop needs two loads per byte and a sign test. Rows go in breadth-first order: the shallow
  // states, where the scan spends nearly all its time, share a few kilobytes of cache.
  const order = [0, ...queue];
  const rank = new Int32Array(states);
  order.forEach((st, i) => (rank[st] = i));
  const table = new Int32Array(states * classes);
  for (let i = 0; i < states; i++) {
    for (let k = 0; k < classes; k++) {
      const next = delta[order[i]! * classes + k]!;
      const offset = rank[next]! * classes;
      table[i * classes + k] = outputs[next]!.length > 0 ? -offset : offset;
    }
  }
  const rankedOutputs = order.map((st) => outputs[st]!);

  const run = engine === 'js' || !wasmApi ? jsScan : wasmScan;
  return { size: keywords.length, scan: run(table, classOf, classes, rankedOutputs) };
}

type ScanFn = KeywordMatcher['scan'];

/** The automaton as a plain JavaScript loop (the reference the WebAssembly loop is tested against). */
function jsScan(table: Int32Array, classOf: Uint8Array, classes: number, outputs: number[][]): ScanFn {
  return (bytes, onHit) => {
    let row = 0;
    const n = bytes.length;
    // Keywords are ASCII, so a byte of a multi-byte UTF-8 character breaks every partial match, as it should.
    for (let i = 0; i < n; i++) {
      row = table[row + classOf[bytes[i]!]!]!;
      if (row < 0) {
        row = -row;
        onHit(outputs[row / classes]!, i);
      }
    }
  };
}

/** Where the WebAssembly module keeps its data: resume state, byte classes, table, hits, then the input. */
const WASM_RESUME = 0;
const WASM_CLASSES = 16;
const WASM_TABLE = 512;
const WASM_HIT_CAP = 4096;
const WASM_PAGE = 65_536;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for `i32.const`). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Buffer.from(s, 'latin1')];
}

/**
 * The bytes of a WebAssembly module with one function, `scan(p, end, row) → hits`: it runs the table from
 * memory address `p` to `end` starting in row `row` and writes each hit (address, row of the reporting state) to
 * the hit area, returning early when that is full; where it stopped goes to the resume slots. Table entries are
 * byte offsets of rows (negated for reporting states) and byte classes are pre-multiplied by 4, so a byte costs
 * three loads and an add.
 */
export function keywordScanModule(hitsAt: number, pages: number): Uint8Array {
  const I32 = 0x7f;
  const get = (i: number): number[] => [0x20, i];
  const set = (i: number): number[] => [0x21, i];
  const inc0 = [...get(0), 0x41, 1, 0x6a, ...set(0)];
  const body = [
    ...[1, 1, I32], // one local: the hit count
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    ...[...get(0), ...get(1), 0x4f, 0x0d, 1], // if p >= end: break
    ...get(2),
    ...[...get(0), 0x2d, 0, 0], // i32.load8_u [p]
    ...[0x2d, 0, ...uleb(WASM_CLASSES)], // i32.load8_u classes[b]
    0x6a, // add
    ...[0x28, 2, ...uleb(WASM_TABLE)], // i32.load table[row + class]
    ...[0x22, 2, 0x41, 0, 0x48, 0x04, 0x40], // row = …; if row < 0
    ...[0x41, 0, ...get(2), 0x6b, ...set(2)], // row = -row
    ...[...get(3), 0x41, 3, 0x74, ...get(0), 0x36, 2, ...uleb(hitsAt)], // hits[n].at = p
    ...[...get(3), 0x41, 3, 0x74, ...get(2), 0x36, 2, ...uleb(hitsAt + 4)], // hits[n].row = row
    ...[...get(3), 0x41, 1, 0x6a, 0x22, 3, 0x41, ...sleb(WASM_HIT_CAP), 0x46], // ++n === cap
    ...[0x04, 0x40, ...inc0, 0x0c, 3, 0x0b], // then p++ and leave
    0x0b, // end if
    ...inc0,
    ...[0x0c, 0, 0x0b, 0x0b], // continue; end loop, block
    ...[0x41, 0, ...get(0), 0x36, 2, ...uleb(WASM_RESUME)], // resume.p = p
    ...[0x41, 0, ...get(2), 0x36, 2, ...uleb(WASM_RESUME + 4)], // resume.row = row
    ...get(3),
    0x0b,
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 3, I32, I32, I32, 1, I32]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, ...uleb(pages)]),
    ...section(7, [2, ...name('scan'), 0, 0, ...name('mem'), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The automaton as a WebAssembly loop over a copy of the input in the module's memory. */
function wasmScan(table: Int32Array, classOf: Uint8Array, classes: number, outputs: number[][]): ScanFn {
  const hitsAt = WASM_TABLE + table.length * 4;
  const inputAt = hitsAt + WASM_HIT_CAP * 8;
  const pages = Math.ceil((inputAt + WASM_PAGE) / WASM_PAGE);
  const instance = new wasmApi!.Instance(new wasmApi!.Module(keywordScanModule(hitsAt, pages)));
  const exports = instance.exports as {
    scan: (p: number, end: number, row: number) => number;
    mem: WasmMemory;
  };
  const { scan, mem } = exports;
  let u8 = new Uint8Array(mem.buffer);
  let i32 = new Int32Array(mem.buffer);
  for (let c = 0; c < ALPHA; c++) u8[WASM_CLASSES + c] = classOf[c]! * 4;
  for (let k = 0; k < table.length; k++) i32[WASM_TABLE / 4 + k] = table[k]! * 4;
  // Output lists by row byte offset / 4 (the state's first entry index).
  const rowBytes = classes * 4;
  return (bytes, onHit) => {
    const n = bytes.length;
    if (inputAt + n > u8.length) {
      mem.grow(Math.ceil((inputAt + n - u8.length) / WASM_PAGE));
      u8 = new Uint8Array(mem.buffer);
      i32 = new Int32Array(mem.buffer);
    }
    u8.set(bytes, inputAt);
    const end = inputAt + n;
    let p = inputAt;
    let row = 0;
    while (p < end) {
      const found = scan(p, end, row);
      for (let h = 0; h < found; h++) {
        const at = i32[(hitsAt >> 2) + 2 * h]!;
        onHit(outputs[i32[(hitsAt >> 2) + 2 * h + 1]! / rowBytes]!, at - inputAt);
      }
      p = i32[WASM_RESUME >> 2]!;
      row = i32[(WASM_RESUME >> 2) + 1]!;
    }
  };
}
