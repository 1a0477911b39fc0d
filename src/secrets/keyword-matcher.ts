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
  const longest = Math.max(...keywords.map((k) => k.length));
  return { size: keywords.length, scan: run(table, classOf, classes, rankedOutputs, longest) };
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
const WASM_CLASSES = 32;
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

const I32 = 0x7f;
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const store = (at: number): number[] => [0x36, 2, ...uleb(at)];

/**
 * One byte of one stream: `row = table[row + class(mem[p])]`; a reporting row is written to the hit area
 * (address, row) and, when that is full, the function leaves through `leave` (a `br` depth) with `p` past the
 * byte; otherwise `p` moves on. Locals: `p`, `row`, `n` (hits so far).
 */
function stepCode(p: number, row: number, n: number, hitsAt: number, leave: number): number[] {
  const incP = [...get(p), 0x41, 1, 0x6a, ...set(p)];
  return [
    ...get(row),
    ...[...get(p), 0x2d, 0, 0], // i32.load8_u [p]
    ...[0x2d, 0, ...uleb(WASM_CLASSES)], // i32.load8_u classes[b]
    0x6a, // add
    ...[0x28, 2, ...uleb(WASM_TABLE)], // i32.load table[row + class]
    ...[0x22, row, 0x41, 0, 0x48, 0x04, 0x40], // row = …; if row < 0
    ...[0x41, 0, ...get(row), 0x6b, ...set(row)], // row = -row
    ...[...get(n), 0x41, 3, 0x74, ...get(p), ...store(hitsAt)], // hits[n].at = p
    ...[...get(n), 0x41, 3, 0x74, ...get(row), ...store(hitsAt + 4)], // hits[n].row = row
    ...[...get(n), 0x41, 1, 0x6a, 0x22, n, 0x41, ...sleb(WASM_HIT_CAP), 0x46], // ++n === cap
    ...[0x04, 0x40, ...incP, 0x0c, leave, 0x0b], // then p++ and leave
    0x0b, // end if
    ...incP,
  ];
}

/** `if local >= limit: br depth` */
function breakIfPast(local: number, limit: number, depth: number): number[] {
  return [...get(local), ...get(limit), 0x4f, 0x0d, depth];
}

/**
 * The bytes of a WebAssembly module with two functions over its memory `mem`. `scan(p, end, row) → hits` runs
 * the table from address `p` to `end` starting in row `row` and writes each hit (address, row of the reporting
 * state) to the first hit area, returning early when that is full; where it stopped goes to the resume slots
 * (p, row). `scan2(pA, endA, rowA, pB, endB, rowB) → 0` runs two streams a byte each in turn, into the two hit
 * areas, until either ends or fills a hit area, and leaves (pA, rowA, pB, rowB, hitsA, hitsB) in the resume
 * slots: the two chains of dependent loads overlap, which a single stream's cannot. Table entries are byte offsets
 * of rows (negated for reporting states) and byte classes are pre-multiplied by 4, so a byte costs three loads
 * and an add.
 */
export function keywordScanModule(hitsAt: number, pages: number): Uint8Array {
  const hitsB = hitsAt + WASM_HIT_CAP * 8;
  const single = [
    ...[1, 1, I32], // local 3: the hit count
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    ...breakIfPast(0, 1, 1),
    ...stepCode(0, 2, 3, hitsAt, 3),
    ...[0x0c, 0, 0x0b, 0x0b], // continue; end loop, block
    ...[0x41, 0, ...get(0), ...store(WASM_RESUME)],
    ...[0x41, 0, ...get(2), ...store(WASM_RESUME + 4)],
    ...get(3),
    0x0b,
  ];
  const dual = [
    ...[1, 2, I32], // locals 6 and 7: the hit counts
    ...[0x02, 0x40, 0x03, 0x40],
    ...breakIfPast(0, 1, 1),
    ...breakIfPast(3, 4, 1),
    ...stepCode(0, 2, 6, hitsAt, 3),
    ...stepCode(3, 5, 7, hitsB, 3),
    ...[0x0c, 0, 0x0b, 0x0b],
    ...[0, 2, 3, 5, 6, 7].flatMap((local, i) => [0x41, 0, ...get(local), ...store(WASM_RESUME + 4 * i)]),
    ...[0x41, 0],
    0x0b,
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [2, 0x60, 3, I32, I32, I32, 1, I32, 0x60, 6, I32, I32, I32, I32, I32, I32, 1, I32]),
    ...section(3, [2, 0, 1]),
    ...section(5, [1, 0, ...uleb(pages)]),
    ...section(7, [3, ...name('scan'), 0, 0, ...name('scan2'), 0, 1, ...name('mem'), 2, 0]),
    ...section(10, [2, ...uleb(single.length), ...single, ...uleb(dual.length), ...dual]),
  ]);
}

/** Inputs at least this long are scanned as two interleaved streams (see `scan2`). */
const WASM_DUAL_MIN = 16 * 1024;

/** The automaton as a WebAssembly loop over a copy of the input in the module's memory. */
function wasmScan(
  table: Int32Array,
  classOf: Uint8Array,
  classes: number,
  outputs: number[][],
  longest: number,
): ScanFn {
  const hitsAt = WASM_TABLE + table.length * 4;
  const inputAt = hitsAt + WASM_HIT_CAP * 16;
  const pages = Math.ceil((inputAt + WASM_PAGE) / WASM_PAGE);
  const instance = new wasmApi!.Instance(new wasmApi!.Module(keywordScanModule(hitsAt, pages)));
  const exports = instance.exports as {
    scan: (p: number, end: number, row: number) => number;
    scan2: (pA: number, endA: number, rowA: number, pB: number, endB: number, rowB: number) => number;
    mem: WasmMemory;
  };
  const { scan, scan2, mem } = exports;
  let u8 = new Uint8Array(mem.buffer);
  let i32 = new Int32Array(mem.buffer);
  for (let c = 0; c < ALPHA; c++) u8[WASM_CLASSES + c] = classOf[c]! * 4;
  for (let k = 0; k < table.length; k++) i32[WASM_TABLE / 4 + k] = table[k]! * 4;
  const rowBytes = classes * 4;
  const hitsA = hitsAt >> 2;
  const hitsB = hitsA + WASM_HIT_CAP * 2;
  const resume = WASM_RESUME >> 2;
  /** Reports `count` hits of the area at word `area`, those at or after address `from`. */
  const report = (area: number, count: number, from: number, onHit: Parameters<ScanFn>[1]): void => {
    for (let h = 0; h < count; h++) {
      const at = i32[area + 2 * h]!;
      if (at >= from) onHit(outputs[i32[area + 2 * h + 1]! / rowBytes]!, at - inputAt);
    }
  };
  /** Runs one stream from `p` to `end` in row `row`, reporting hits at or after `from`. */
  const single = (p: number, end: number, row: number, from: number, onHit: Parameters<ScanFn>[1]): void => {
    while (p < end) {
      report(hitsA, scan(p, end, row), from, onHit);
      p = i32[resume]!;
      row = i32[resume + 1]!;
    }
  };
  /** Stream B's hits (address, row) kept until stream A is done, reused from one input to the next. */
  let later = new Int32Array(2 * WASM_HIT_CAP);
  return (bytes, onHit) => {
    const n = bytes.length;
    if (inputAt + n > u8.length) {
      mem.grow(Math.ceil((inputAt + n - u8.length) / WASM_PAGE));
      u8 = new Uint8Array(mem.buffer);
      i32 = new Int32Array(mem.buffer);
    }
    u8.set(bytes, inputAt);
    const end = inputAt + n;
    if (n < WASM_DUAL_MIN) {
      single(inputAt, end, 0, inputAt, onHit);
      return;
    }
    // Stream A: the first half. Stream B: the second half, started `longest` bytes early so its state is the
    // true one by the half (a state is a suffix of at most that many bytes); its hits before the half are A's.
    // A's hits are reported as they come, B's kept until A is done, so hits stay in order.
    const half = inputAt + (n >> 1);
    let pA = inputAt;
    let rowA = 0;
    let pB = half - longest;
    let rowB = 0;
    let laterLength = 0;
    while (pA < half && pB < end) {
      scan2(pA, half, rowA, pB, end, rowB);
      pA = i32[resume]!;
      rowA = i32[resume + 1]!;
      pB = i32[resume + 2]!;
      rowB = i32[resume + 3]!;
      report(hitsA, i32[resume + 4]!, inputAt, onHit);
      const countB = i32[resume + 5]!;
      if (laterLength + 2 * countB > later.length) {
        const grown = new Int32Array(Math.max(later.length * 2, laterLength + 2 * countB));
        grown.set(later.subarray(0, laterLength));
        later = grown;
      }
      for (let h = 0; h < countB; h++) {
        const at = i32[hitsB + 2 * h]!;
        if (at >= half) {
          later[laterLength++] = at;
          later[laterLength++] = i32[hitsB + 2 * h + 1]!;
        }
      }
    }
    single(pA, half, rowA, inputAt, onHit);
    for (let h = 0; h < laterLength; h += 2) onHit(outputs[later[h + 1]! / rowBytes]!, later[h]! - inputAt);
    single(pB, end, rowB, half, onHit);
  };
}
