/**
 * The scanning engine: one keyword pass (Aho–Corasick) over a text picks, per line, the few rules whose keywords
 * occur there; only those rules' patterns run, on that line (or on a window for multi-line rules). Overlapping
 * candidates keep the most specific rule; `keyward:allow <reason>` comments suppress a finding on their line or
 * the next.
 */
import { isAscii } from 'node:buffer';
import { createKeywordMatcher, type KeywordMatcher } from './keyword-matcher.js';
import { compileRule, matchRule, type CompiledRule, type RuleMatch } from './secret-rule-match.js';
import { redactedPreview } from '../core/fingerprint.js';
import { createCaseGen } from './secret-case-gen.js';
import type { CheckContext, ScanOrigin, SecretFinding, SecretRule } from './secret-types.js';

/** How many bytes past its keyword's line a multi-line rule (a PEM block) may reach. */
const MULTILINE_WINDOW = 16_384;
/** Lines longer than this are scanned in windows around each keyword instead of whole (minified files). */
const LONG_LINE = 4_096;
const LONG_LINE_CONTEXT = 1_024;
/** How much text around a line a rule's check may look at (an AWS secret key near its key id). */
const CHECK_CONTEXT = 1_024;
/** Check contexts are cut from blocks of at least this many bytes, decoded once (see `contextAround`). */
const CONTEXT_BLOCK = 32 * 1_024;
const NL = 10;

/** What a scan of one text reports besides findings. */
export interface TextScanResult {
  findings: SecretFinding[];
  /** Findings suppressed by a `keyward:allow <reason>` comment, with the reason. */
  allowed: Array<{ finding: SecretFinding; reason: string }>;
}

/** Options of one text scan. */
export interface TextScanOptions {
  /** Line number of each line of the text (git hunks); default `firstLine`, `firstLine + 1`, … */
  lineNumbers?: readonly number[];
  /** Line number of the text's first line (a chunk of a large file); default 1. */
  firstLine?: number;
  /**
   * Report only values whose line starts in these byte offsets of the text (default: all of it). A chunk of a
   * large file is scanned with a line before it and a margin after it, for allow comments and PEM blocks that
   * cross the cut, and reports only its own lines.
   */
  reportFrom?: number;
  reportTo?: number;
  /** Structure-aware key names for values at a line and column (`mcpServers.github.env.GITHUB_TOKEN`). */
  keyNames?: ReadonlyMap<string, string>;
}

/** The scanner a CLI or worker holds: compiled rules plus the fingerprint function. */
export type SecretScanner = ReturnType<typeof createSecretScanner>;

/** Key for `TextScanOptions.keyNames`. */
export function positionKey(line: number, column: number): string {
  return `${line}:${column}`;
}

const ALLOW = /keyward:allow\b[ \t:]*([^\r\n]*)/;

/** Reads the reason of a `keyward:allow` comment on a line, stripping comment closers; null when there is none. */
export function allowReason(line: string): string | null {
  const m = ALLOW.exec(line);
  if (!m) return null;
  return m[1]!.replace(/(\*\/|-->|#>|\s)+$/, '').trim();
}

// `NAME=`, `"name": `, `name: `, `name := ` or a flag (`--api-key `) right before a value.
const KEY_BEFORE =
  /(?:^|[^A-Za-z0-9_.-])(?:--?([A-Za-z][A-Za-z0-9_-]*)[ \t]+|([A-Za-z_][A-Za-z0-9_.-]*)["'`]?\s*(?:=|:=|:|=>)\s*)["'`]?\s*$/;

/** The variable, key or flag a value at `column` (0-based) of `line` is assigned to, if the line says. */
export function keyNameBefore(line: string, column: number): string | null {
  const before = line.slice(Math.max(0, column - 120), column);
  const m = KEY_BEFORE.exec(before);
  if (!m) return null;
  return m[1] ?? m[2] ?? null;
}

function specificity(m: RuleMatch): number {
  return (
    (m.rule.verifiedFormat ? 4 : 0) + (m.rule.provider === 'generic' ? 0 : 2) + (m.rule.multiline ? 1 : 0)
  );
}

/** An after-keyword test that also requires the keyword (of `length` bytes) to start a word. */
function startsWordThen(
  length: number,
  then: ((bytes: Uint8Array, at: number) => boolean) | undefined,
): (bytes: Uint8Array, at: number) => boolean {
  return (bytes, at) => {
    const before = bytes[at - length - 1];
    const first = bytes[at - length]!;
    const lower = (b: number): boolean => b >= 97 && b <= 122;
    const upper = (b: number): boolean => b >= 65 && b <= 90;
    // A word starts after a non-letter, or at a camelCase hump (`myDatadogKey`).
    const startsWord =
      before === undefined || !(lower(before) || upper(before)) || (lower(before) && upper(first));
    if (!startsWord) return false;
    return then ? then(bytes, at) : true;
  };
}

/** True when the bytes ending at `end` (inclusive) are exactly `want`. */
function endsWithExactly(buf: Buffer, end: number, want: Buffer): boolean {
  const start = end + 1 - want.length;
  if (start < 0) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

/** A byte above 0x7f, in a line copied as Latin-1 (one character per byte). */
const HIGH_BYTE = /[\x80-\xff]/;

/**
 * Decodes a line: as Latin-1 (a plain copy, several times faster) when it is ASCII, where both agree. The copy is
 * made first and tested, which spares a buffer view per line (most lines are ASCII).
 */
function decodeLine(buf: Buffer, start: number, end: number): string {
  const latin1 = buf.toString('latin1', start, end);
  return HIGH_BYTE.test(latin1) ? buf.toString('utf8', start, end) : latin1;
}

/** A line where rules are to run: its byte range, the rules, and (for a minified line) its keyword hits. */
interface CandidateLine {
  start: number;
  end: number;
  /** Indexes of the rules to run, each once, in the order found (a line holds one or two). */
  rules: number[];
  hits: readonly number[];
}

/** The `hits` of every line that is not minified (only a minified line's hits are listed). */
const NO_HITS: readonly number[] = Object.freeze([]);

/** A match placed in the scanned bytes: the byte offset of the start of its line and the column in that line. */
interface PlacedMatch {
  match: RuleMatch;
  /** Byte offset where the value's line starts. */
  lineStart: number;
  /** 0-based column (UTF-16 code units) of the value in its line. */
  column: number;
  lineText: string;
}

/**
 * Creates a scanner over `rules`; `fingerprint` turns a value into the keyed fingerprint findings carry.
 * @example
 * const scanner = createSecretScanner({ rules: BUILTIN_SECRET_RULES, fingerprint });
 * const { findings } = scanner.scanText(text, { kind: 'file', path: 'src/app.ts' });
 */
export function createSecretScanner(deps: {
  rules: readonly SecretRule[];
  fingerprint: (value: string) => string;
}) {
  const compiled: CompiledRule[] = deps.rules.map(compileRule);
  const keywords: string[] = [];
  const keywordRules: number[][] = [];
  const keywordIndex = new Map<string, number>();
  // A keyword a case-sensitive rule writes as it appears in its pattern (`AC` of a Twilio SID) only counts
  // for that rule in that exact case: `ac` in `back` would otherwise run it on half of all lines.
  const keywordExact: Array<Array<Buffer | null>> = [];
  const keywordAfter: Array<Array<((bytes: Uint8Array, at: number) => boolean) | null>> = [];
  compiled.forEach((c, ruleIdx) => {
    for (const original of c.rule.keywords) {
      const k = original.toLowerCase();
      let id = keywordIndex.get(k);
      if (id === undefined) {
        id = keywords.length;
        keywords.push(k);
        keywordRules.push([]);
        keywordExact.push([]);
        keywordAfter.push([]);
        keywordIndex.set(k, id);
      }
      if (keywordRules[id]!.includes(ruleIdx)) continue;
      keywordRules[id]!.push(ruleIdx);
      const cased = !c.rule.ignoreCase && original !== k && c.rule.pattern.source.includes(original);
      keywordExact[id]!.push(cased ? Buffer.from(original, 'latin1') : null);
      keywordAfter[id]!.push(
        c.rule.keywordStartsWord
          ? startsWordThen(k.length, c.rule.afterKeyword)
          : (c.rule.afterKeyword ?? null),
      );
    }
  });
  const matcher: KeywordMatcher = createKeywordMatcher(keywords);
  // Token prefixes that belong to a provider rule (`ghp_`, `glpat-`, `xoxb-`, `sg.`): a generic rule does not
  // report a value that starts with one, since the provider's own rule has already judged it (and a value it
  // refused, such as a token with a wrong checksum, is not a credential of that format).
  const ownedPrefixes = [
    ...new Set(
      compiled
        .filter((c) => c.rule.provider !== 'generic')
        .flatMap((c) => {
          const source = c.rule.pattern.source.toLowerCase();
          return c.keywords.filter(
            (k) =>
              k.length >= 3 &&
              (/^[a-z0-9][a-z0-9_.-]*[-_.]$/.test(k) ||
                source.includes(`(?<secret>${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)),
          );
        }),
    ),
  ];
  const ownedByProvider = (value: string): boolean => {
    const lower = value.slice(0, 16).toLowerCase();
    return ownedPrefixes.some((p) => lower.startsWith(p));
  };
  const reachRules = new Map<number, number>();
  compiled.forEach((c, i) => {
    if (c.rule.keywordReach) reachRules.set(i, c.rule.keywordReach);
  });

  /** Keyword hits (end offsets) of the current buffer, reused from one scan to the next. */
  let hitEnds = new Int32Array(4096);

  /**
   * Candidate rules per line (byte offset of its start), found by the keyword pass. Only hits that pass a rule's
   * keyword tests make a line a candidate; a minified line's `hits` are all the keyword hits on it.
   */
  function candidates(buf: Buffer): Map<number, CandidateLine> {
    const byLine = new Map<number, CandidateLine>();
    let lineEnd = -1;
    let lineStart = 0;
    const reached: Array<[number, number]> = [];
    const long: CandidateLine[] = [];
    let current: CandidateLine | undefined;
    let hitCount = 0;
    matcher.scan(buf, (ids, end) => {
      if (hitCount === hitEnds.length) {
        const grown = new Int32Array(hitEnds.length * 2);
        grown.set(hitEnds);
        hitEnds = grown;
      }
      hitEnds[hitCount++] = end;
      for (const id of ids) {
        const list = keywordRules[id]!;
        const exact = keywordExact[id]!;
        const after = keywordAfter[id]!;
        for (let j = 0; j < list.length; j++) {
          const want = exact[j];
          if (want && !endsWithExactly(buf, end, want)) continue;
          const test = after[j];
          if (test && !test(buf, end + 1)) continue;
          // Hits come in increasing order: only a hit past the current line's end starts a new line.
          if (end >= lineEnd || current === undefined) {
            lineStart = end === 0 ? 0 : buf.lastIndexOf(NL, end) + 1;
            const nl = buf.indexOf(NL, end);
            lineEnd = nl === -1 ? buf.length : nl;
            current = { start: lineStart, end: lineEnd, rules: [], hits: NO_HITS };
            byLine.set(lineStart, current);
            if (lineEnd - lineStart > LONG_LINE) long.push(current);
          }
          const r = list[j]!;
          if (current.rules.includes(r)) continue;
          if (reachRules.has(r)) reached.push([lineStart, r]);
          current.rules.push(r);
        }
      }
    });
    // Hit positions matter only for minified lines, which are matched in windows around every hit on them.
    for (const line of long) {
      const hits: number[] = [];
      for (let h = firstHitFrom(hitCount, line.start); h < hitCount && hitEnds[h]! < line.end; h++)
        hits.push(hitEnds[h]!);
      line.hits = hits;
    }
    if (reached.length === 0) return byLine;
    return extendReach(buf, byLine, reached, hitCount);
  }

  /** Index of the first of the `count` hits that ends at or after `from`. */
  function firstHitFrom(count: number, from: number): number {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hitEnds[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Adds rules with a `keywordReach` to the lines around each line where their keywords were found. Lines are
   * returned in order: every line holding a keyword hit by position, then lines only reach added, as found.
   */
  function extendReach(
    buf: Buffer,
    byLine: Map<number, CandidateLine>,
    reached: Array<[number, number]>,
    hitCount: number,
  ): Map<number, CandidateLine> {
    const additions: Array<[number, number, number]> = [];
    for (const [lineStart, r] of reached) {
      const c = byLine.get(lineStart)!;
      const reach = reachRules.get(r)!;
      let start = lineStart;
      for (let k = 0; k < reach && start > 0; k++) {
        const prevStart = start >= 2 ? buf.lastIndexOf(NL, start - 2) + 1 : 0;
        additions.push([prevStart, start - 1, r]);
        start = prevStart;
      }
      let end = c.end;
      for (let k = 0; k < reach && end < buf.length; k++) {
        const nextStart = end + 1;
        const nl = buf.indexOf(NL, nextStart);
        const nextEnd = nl === -1 ? buf.length : nl;
        additions.push([nextStart, nextEnd, r]);
        end = nextEnd;
      }
    }
    // A new line that holds a keyword hit (of no rule's) keeps its place among the keyword lines.
    const keywordLines: CandidateLine[] = [...byLine.values()];
    const reachOnly = new Map<number, CandidateLine>();
    let placedAmong = false;
    for (const [start, end, r] of additions) {
      if (end - start > LONG_LINE) continue;
      let line = byLine.get(start) ?? reachOnly.get(start);
      if (!line) {
        line = { start, end, rules: [], hits: NO_HITS };
        const h = firstHitFrom(hitCount, start);
        if (h < hitCount && hitEnds[h]! < end) {
          byLine.set(start, line);
          keywordLines.push(line);
          placedAmong = true;
        } else reachOnly.set(start, line);
      }
      if (!line.rules.includes(r)) line.rules.push(r);
    }
    if (!placedAmong) {
      for (const [start, line] of reachOnly) byLine.set(start, line);
      return byLine;
    }
    keywordLines.sort((a, b) => a.start - b.start);
    const ordered = new Map<number, CandidateLine>();
    for (const line of keywordLines) ordered.set(line.start, line);
    for (const [start, line] of reachOnly) ordered.set(start, line);
    return ordered;
  }

  /**
   * A block of the buffer `runRules` is on, decoded once for the check contexts that fall in it: bytes
   * [blockFrom, blockTo) as `blockText`, or null when they are not all ASCII. Dropped when `runRules` returns, so
   * no string outlives its buffer's scan.
   */
  let blockText: string | null = null;
  let blockFrom = 0;
  let blockTo = 0;

  /**
   * A check context over the text around bytes [start, end) (`text`, decoded): decoded only when a check asks
   * for it. Where those bytes are ASCII, bytes are characters, so the context is a slice of a block of the buffer
   * decoded once for the contexts that follow (lines come in order); otherwise the bytes either side are decoded
   * and joined to `text`. Both give the same string.
   */
  function contextAround(
    buf: Buffer,
    start: number,
    end: number,
    text: string,
  ): (offset: number) => CheckContext {
    let wide: { text: string; shift: number } | null = null;
    return (offset) => {
      if (!wide) {
        const from = Math.max(0, start - CHECK_CONTEXT);
        const to = Math.min(buf.length, end + CHECK_CONTEXT);
        if (from < blockFrom || to > blockTo) {
          blockFrom = from;
          blockTo = Math.min(buf.length, Math.max(to, from + CONTEXT_BLOCK));
          const bytes = buf.subarray(blockFrom, blockTo);
          blockText = isAscii(bytes) ? bytes.toString('latin1') : null;
        }
        if (blockText !== null)
          wide = { text: blockText.slice(from - blockFrom, to - blockFrom), shift: start - from };
        else {
          const before = buf.toString('utf8', from, start);
          const after = buf.toString('utf8', end, to);
          wide = { text: before + text + after, shift: before.length };
        }
      }
      return { text: wide.text, offset: wide.shift + offset };
    };
  }

  /**
   * Adds a match to `placed` once (by rule, line, column and length), unless it is a generic rule's value that
   * starts like a provider's token. One function for every scan rather than a closure per scan: a call site that
   * met a new closure each time would throw away the optimised code of its caller.
   */
  function place(
    placed: PlacedMatch[],
    seen: Set<string>,
    m: RuleMatch,
    lineStart: number,
    column: number,
    lineText: string,
  ): void {
    if (m.rule.provider === 'generic' && !m.rule.verifiedFormat && ownedByProvider(m.secret)) return;
    const key = `${m.rule.id}:${lineStart}:${column}:${m.secret.length}`;
    if (seen.has(key)) return;
    seen.add(key);
    placed.push({ match: m, lineStart, column, lineText });
  }

  function runRules(buf: Buffer): PlacedMatch[] {
    try {
      return runRulesOn(buf);
    } finally {
      blockText = null;
      blockFrom = 0;
      blockTo = 0;
    }
  }

  function runRulesOn(buf: Buffer): PlacedMatch[] {
    const placed: PlacedMatch[] = [];
    const seen = new Set<string>();
    for (const c of candidates(buf).values()) {
      if (c.rules.length === 0) continue;
      const lineStart = c.start;
      const lineEnd = c.end;
      const long = lineEnd - lineStart > LONG_LINE;
      const lineText = long ? '' : decodeLine(buf, lineStart, lineEnd);
      const lineContext = long ? null : contextAround(buf, lineStart, lineEnd, lineText);
      for (const ruleIdx of c.rules) {
        const cr = compiled[ruleIdx]!;
        if (cr.rule.multiline) {
          const windowEnd = Math.min(buf.length, lineStart + MULTILINE_WINDOW);
          const window = buf.toString('utf8', lineStart, windowEnd);
          for (const m of matchRule(
            cr,
            window,
            0,
            window.length,
            contextAround(buf, lineStart, windowEnd, window),
          )) {
            // The value may start on a later line of the window.
            const nlBefore = window.lastIndexOf('\n', m.offset - 1);
            const valueLineStart = lineStart + Buffer.byteLength(window.slice(0, nlBefore + 1));
            const lineEndInWindow = window.indexOf('\n', m.offset);
            const text = window.slice(nlBefore + 1, lineEndInWindow === -1 ? window.length : lineEndInWindow);
            place(placed, seen, m, valueLineStart, m.offset - nlBefore - 1, text.replace(/\r$/, ''));
          }
        } else if (!long) {
          for (const m of matchRule(cr, lineText, 0, lineText.length, lineContext!))
            place(placed, seen, m, lineStart, m.offset, lineText);
        } else {
          // A minified line: windows around this line's keyword hits, merged where they overlap.
          let winStart = -1;
          let winEnd = -1;
          const flush = (): void => {
            if (winStart < 0) return;
            const text = buf.toString('utf8', winStart, winEnd);
            const prefix = buf.toString('utf8', lineStart, winStart).length;
            for (const m of matchRule(cr, text, 0, text.length, contextAround(buf, winStart, winEnd, text)))
              place(placed, seen, m, lineStart, prefix + m.offset, text);
          };
          for (const hit of c.hits) {
            const s = Math.max(lineStart, hit - LONG_LINE_CONTEXT);
            const e = Math.min(lineEnd, hit + LONG_LINE_CONTEXT);
            if (s <= winEnd) winEnd = Math.max(winEnd, e);
            else {
              flush();
              winStart = s;
              winEnd = e;
            }
          }
          flush();
        }
      }
    }
    return resolveOverlaps(placed);
  }

  /**
   * Reads the options once and hands them on as plain values. Files, configs (with key names), pieces of large
   * files and git hunks pass options of different shapes; read in the scanning function itself, each new shape
   * threw away its optimised code, and with it the rule matching compiled into it.
   */
  function scanBuffer(buf: Buffer, origin: ScanOrigin, opts?: TextScanOptions): TextScanResult {
    if (opts === undefined) return scanBytes(buf, origin, 0, buf.length, undefined, 1, undefined);
    return scanBytes(
      buf,
      origin,
      opts.reportFrom ?? 0,
      opts.reportTo ?? buf.length,
      opts.lineNumbers,
      opts.firstLine ?? 1,
      opts.keyNames,
    );
  }

  function scanBytes(
    buf: Buffer,
    origin: ScanOrigin,
    from: number,
    to: number,
    lineNumbers: readonly number[] | undefined,
    firstLine: number,
    keyNames: ReadonlyMap<string, string> | undefined,
  ): TextScanResult {
    const placed = runRules(buf).filter((p) => p.lineStart >= from && p.lineStart < to);
    if (placed.length === 0) return { findings: [], allowed: [] };
    const findings: SecretFinding[] = [];
    const allowed: TextScanResult['allowed'] = [];
    // Line numbers: count line breaks up to each value's line, once, in increasing order.
    placed.sort((a, b) => a.lineStart - b.lineStart || a.column - b.column);
    let counted = 0;
    let lineIdx = 0;
    for (const p of placed) {
      for (let i = buf.indexOf(NL, counted); i !== -1 && i < p.lineStart; i = buf.indexOf(NL, i + 1))
        lineIdx++;
      counted = p.lineStart;
      const { match: m, column, lineText } = p;
      const line = lineNumbers?.[lineIdx] ?? lineIdx + firstLine;
      const keyName = keyNames?.get(positionKey(line, column + 1)) ?? keyNameBefore(lineText, column) ?? null;
      const { rule } = m;
      const finding: SecretFinding = {
        ruleId: rule.id,
        title: rule.title,
        severity: rule.severity,
        provider: rule.provider,
        type: rule.type,
        origin,
        line,
        column: column + 1,
        endColumn: column + 1 + Math.min(m.secret.length, Math.max(1, lineText.length - column)),
        keyName,
        verifiedFormat: rule.verifiedFormat,
        entropy: Math.round(m.entropy * 100) / 100,
        fingerprint: deps.fingerprint(m.secret),
        preview: redactedPreview(m.secret),
        secret: m.secret,
      };
      let reason = allowReason(lineText);
      if (!reason && p.lineStart > 0) {
        const prevStart = p.lineStart >= 2 ? buf.lastIndexOf(NL, p.lineStart - 2) + 1 : 0;
        reason = allowReason(buf.toString('utf8', prevStart, p.lineStart - 1));
      }
      if (reason) allowed.push({ finding, reason });
      else findings.push(finding);
    }
    return { findings, allowed };
  }

  /**
   * Scans a small text built from the rules' own positive cases once, so every path of a scan has run before V8
   * optimises the scanning functions: a multi-line rule's window, a minified line, a rule with keyword reach, a
   * non-ASCII line, a finding under an allow comment, options of each shape. A path first met after optimisation
   * throws the optimised code away (a large function, with the rule matching compiled into it), and a worker then
   * compiles it again, once per such path. The findings are dropped; only V8's feedback stays.
   */
  function prime(): void {
    const g = createCaseGen(1);
    const sample = (pick: (r: SecretRule) => boolean): string[] =>
      deps.rules
        .filter(pick)
        .slice(0, 2)
        .map((r) => r.cases.positives(g)[0] ?? '');
    const cases = [
      ...sample((r) => r.multiline === true),
      ...sample((r) => r.keywordReach !== undefined),
      ...sample((r) => r.afterKeyword !== undefined),
      ...sample((r) => r.keywordStartsWord === true),
      ...sample((r) => r.check !== undefined && !r.multiline),
    ];
    // A single-line rule's case (the last ones are) on a non-ASCII line, on a minified line, under an allow comment.
    const single = cases.at(-1) ?? '';
    const lines = cases.join('\n');
    const text = [
      lines,
      `// keyward:allow primer\n${single}`,
      `é ${single}`,
      `${'x'.repeat(LONG_LINE)} ${single}`,
    ].join('\n');
    const origin: ScanOrigin = { kind: 'file', path: 'primer' };
    scanBuffer(Buffer.from(text, 'utf8'), origin);
    const small = Buffer.from(lines, 'utf8');
    scanBuffer(small, origin, { keyNames: new Map([[positionKey(1, 1), 'primer']]) });
    scanBuffer(small, origin, { firstLine: 1, reportFrom: 0, reportTo: small.length });
  }

  return {
    /** Warms the scanner up on its rules' cases (see `prime`): worth it before scanning many files. */
    prime,
    /** The rules this scanner runs. */
    rules: deps.rules,
    /** The keyed fingerprint of a value. */
    fingerprint: deps.fingerprint,
    /** The reason of a `keyward:allow` comment on a line, or null. */
    allowReason,
    /** Scans raw bytes (UTF-8): the fast path for files, which are decoded only around keyword hits. */
    scanBuffer,
    /** Scans one text (a commit's added lines of one file, stdin, a variable's value). */
    scanText(text: string, origin: ScanOrigin, opts?: TextScanOptions): TextScanResult {
      return scanBuffer(Buffer.from(text, 'utf8'), origin, opts);
    },
  };
}

/** Keeps, among candidates whose values overlap on a line, the most specific rule's (then the longest value). */
function resolveOverlaps(placed: PlacedMatch[]): PlacedMatch[] {
  if (placed.length < 2) return placed;
  const ordered = [...placed].sort(
    (a, b) =>
      specificity(b.match) - specificity(a.match) ||
      b.match.secret.length - a.match.secret.length ||
      a.lineStart - b.lineStart ||
      a.column - b.column,
  );
  const kept: PlacedMatch[] = [];
  for (const p of ordered) {
    const end = p.column + p.match.secret.length;
    const clash = kept.some(
      (k) =>
        (k.lineStart === p.lineStart && p.column < k.column + k.match.secret.length && k.column < end) ||
        // A multi-line value (a PEM block) covers what starts inside it on later lines.
        (k.match.secret.includes('\n') && k.match.secret.includes(p.match.secret)),
    );
    if (!clash) kept.push(p);
  }
  return kept;
}
