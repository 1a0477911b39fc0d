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

/**
 * Builds the automaton; keywords are matched case-insensitively and must be printable ASCII.
 * @example
 * const m = createKeywordMatcher(['ghp_', 'AKIA']);
 * m.scan(Buffer.from('x = "ghp_…"'), (ids, end) => console.log(ids, end));
 */
export function createKeywordMatcher(keywords: readonly string[]): KeywordMatcher {
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

  // Breadth-first: failure links, merged outputs, then the full transition table.
  const states = goto.length;
  const delta = new Int32Array(states * ALPHA);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  for (let c = 0; c < ALPHA; c++) {
    const next = goto[0]!.get(c);
    if (next !== undefined) {
      delta[c] = next;
      queue.push(next);
    }
  }
  for (let qi = 0; qi < queue.length; qi++) {
    const s = queue[qi]!;
    const f = fail[s]!;
    if (outputs[f]!.length > 0) outputs[s] = [...outputs[s]!, ...outputs[f]!];
    for (let c = 0; c < ALPHA; c++) {
      const next = goto[s]!.get(c);
      if (next !== undefined) {
        fail[next] = delta[f * ALPHA + c]!;
        delta[s * ALPHA + c] = next;
        queue.push(next);
      } else {
        delta[s * ALPHA + c] = delta[f * ALPHA + c]!;
      }
    }
  }
  // Case folding: an upper-case letter moves like its lower-case form.
  for (let s = 0; s < states; s++) {
    for (let c = 65; c <= 90; c++) delta[s * ALPHA + c] = delta[s * ALPHA + c + 32]!;
  }
  // Byte classes: every byte that occurs in no keyword (after case folding) shares one class, so the table has
  // a row of ~50 entries per state instead of 256 and stays in cache.
  const classOf = new Uint8Array(ALPHA);
  let classes = 1;
  for (let c = 0; c < ALPHA; c++) {
    const folded = c >= 65 && c <= 90 ? c + 32 : c;
    if (folded !== c) continue;
    if (keywordBytes.has(c)) classOf[c] = classes++;
  }
  for (let c = 65; c <= 90; c++) classOf[c] = classOf[c + 32]!;
  const representative = new Int32Array(classes);
  for (let c = ALPHA - 1; c >= 0; c--) representative[classOf[c]!] = c;
  // Entries are the next state's row offset (state × classes), negated when that state reports keywords, so
  // the inner loop needs two loads per byte and a sign test.
  const table = new Int32Array(states * classes);
  for (let st = 0; st < states; st++) {
    for (let k = 0; k < classes; k++) {
      const next = delta[st * ALPHA + representative[k]!]!;
      table[st * classes + k] = outputs[next]!.length > 0 ? -(next * classes) : next * classes;
    }
  }

  return {
    size: keywords.length,
    scan(bytes, onHit) {
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
    },
  };
}
