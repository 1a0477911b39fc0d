/**
 * A small line diff for showing a proposed policy next to the current one: Myers' O(ND) shortest edit script
 * over lines, written out as a unified diff (the format of `diff -u` and `git diff`). Policies are small and the
 * proposals change few lines, so D stays small; past a limit the diff falls back to "remove all, add all",
 * which is still a correct diff, only not the shortest.
 */

/** One line of an edit script: kept (` `), removed (`-`) or added (`+`). */
export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
}

/** Edit distance beyond which the diff gives up on finding the shortest script. */
const MAX_EDIT_DISTANCE = 4000;

/**
 * The shortest edit script turning `a` into `b`, as kept, removed and added lines in order; removals come before
 * additions where both are possible.
 * @example diffLines(['a', 'b'], ['a', 'c']); // [' a', '-b', '+c'] as { op, text }
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  // Common head and tail first: a proposal usually touches a few lines in the middle of the file.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail++;
  }
  const out: DiffLine[] = a.slice(0, head).map((text) => ({ op: ' ', text }));
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  out.push(...myers(midA, midB));
  for (const text of a.slice(a.length - tail)) out.push({ op: ' ', text });
  return out;
}

/** Myers (1986), "An O(ND) Difference Algorithm and Its Variations", with the V array of each step kept. */
function myers(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((text) => ({ op: '+', text }));
  if (m === 0) return a.map((text) => ({ op: '-', text }));
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  // v[k + offset] = furthest x on diagonal k (k = x - y) after d edits.
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      // Step down (an addition) from diagonal k+1, or right (a removal) from diagonal k-1.
      const down = k === -d || (k !== d && v[k - 1 + offset]! < v[k + 1 + offset]!);
      let x = down ? v[k + 1 + offset]! : v[k - 1 + offset]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[k + offset] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
  }
  if (found < 0) {
    return [
      ...a.map((text): DiffLine => ({ op: '-', text })),
      ...b.map((text): DiffLine => ({ op: '+', text })),
    ];
  }
  // Walk back through the saved V arrays from (n, m) to (0, 0).
  const reversed: DiffLine[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && vd[k - 1 + offset]! < vd[k + 1 + offset]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = vd[prevK + offset]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      reversed.push({ op: ' ', text: a[--x]! });
      y--;
    }
    if (down) reversed.push({ op: '+', text: b[--y]! });
    else reversed.push({ op: '-', text: a[--x]! });
  }
  while (x > 0 && y > 0) {
    reversed.push({ op: ' ', text: a[--x]! });
    y--;
  }
  return reversed.reverse();
}

/** Splits text into lines; a final newline does not start another line. */
function toLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** `start,count` of a hunk side; an empty side names the line before it, and a count of 1 is left out (GNU diff). */
function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/**
 * A unified diff of two texts with `context` lines around each change, or '' when they are equal.
 * @example
 * unifiedDiff('a\nb\n', 'a\nc\n', { fromLabel: 'current', toLabel: 'proposed' });
 * // '--- current\n+++ proposed\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n'
 */
export function unifiedDiff(
  from: string,
  to: string,
  options: { fromLabel: string; toLabel: string; context?: number },
): string {
  const context = options.context ?? 3;
  const lines = diffLines(toLines(from), toLines(to));
  if (lines.every((l) => l.op === ' ')) return '';
  const out = [`--- ${options.fromLabel}`, `+++ ${options.toLabel}`];
  // Line numbers (1-based) of each edit-script line in the old and the new text.
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let o = 1;
  let n = 1;
  for (const l of lines) {
    oldNo.push(o);
    newNo.push(n);
    if (l.op !== '+') o++;
    if (l.op !== '-') n++;
  }
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.op === ' ') {
      i++;
      continue;
    }
    // A hunk starts `context` lines before the first change and runs until a run of more than 2 × context
    // unchanged lines (shorter runs join the next change into the same hunk).
    const start = Math.max(0, i - context);
    let end = i;
    let j = i;
    while (j < lines.length) {
      if (lines[j]!.op !== ' ') {
        end = j;
        j++;
        continue;
      }
      let run = j;
      while (run < lines.length && lines[run]!.op === ' ') run++;
      if (run === lines.length || run - j > 2 * context) break;
      j = run;
    }
    const stop = Math.min(lines.length, end + 1 + context);
    const hunk = lines.slice(start, stop);
    const oldCount = hunk.filter((l) => l.op !== '+').length;
    const newCount = hunk.filter((l) => l.op !== '-').length;
    out.push(`@@ -${range(oldNo[start]!, oldCount)} +${range(newNo[start]!, newCount)} @@`);
    for (const l of hunk) out.push(`${l.op}${l.text}`);
    i = stop;
  }
  return `${out.join('\n')}\n`;
}
