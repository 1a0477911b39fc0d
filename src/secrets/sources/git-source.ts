/**
 * Git as a scan source: the lines each commit added (`git log -p`) or the staged lines (`git diff --cached`),
 * streamed from a git child process and grouped per commit and file, numbered as in the new file.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { ValidationError } from '../../core/errors.js';
import type { ScanOrigin } from '../secret-types.js';

/** One added line: its 1-based number in the new version of the file and its text (no line end). */
export interface AddedLine {
  line: number;
  text: string;
}

/** The lines one commit (or the index) added to one file. */
export interface GitAddedText {
  origin: ScanOrigin;
  lines: AddedLine[];
}

/** Options of `gitHistory`. */
export interface GitHistoryOptions {
  /** A revision or range as `git log` takes it (`main..feature`, `v1.2.0..`, a sha); default HEAD. */
  range?: string;
  /** Added lines longer than this many bytes are cut to it (minified bundles); default 1 MiB. */
  maxLineBytes?: number;
}

/** Options of `gitStaged`. */
export interface GitStagedOptions {
  /** As in `GitHistoryOptions`. */
  maxLineBytes?: number;
}

/** The default cap on one added line. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/**
 * Settings that make the output parseable whatever the user's or the repository's configuration says, and
 * keep git from running repository-configured commands (external diff, textconv, fsmonitor) while we read.
 */
const GIT_CONFIG_ARGS = [
  '-c',
  'core.quotePath=false',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'diff.relative=false',
  '-c',
  'log.showSignature=false',
  // The root commit's diff holds everything it added.
  '-c',
  'log.showRoot=true',
];

/**
 * Diff flags shared by history and staged scans. `-M` (rename detection) makes a moved file show only the lines
 * that changed, so content is reported once, in the commit that added it; copies are not detected, so a copied
 * file's lines count as added.
 */
const DIFF_ARGS = [
  '-U0',
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '-M',
  '--src-prefix=a/',
  '--dst-prefix=b/',
];

// A header line starts with NUL, which no diff line can, then the fields NUL-separated (%s has no newline).
const HEADER_MARK = 'KW';
const LOG_FORMAT = `--format=%x00${HEADER_MARK}%x00%H%x00%an%x00%ae%x00%aI%x00%s`;

/** Splits a byte stream into lines, keeping at most `cap` bytes of each so memory stays bounded. */
class LineSplitter {
  private parts: Buffer[] = [];
  private kept = 0;

  constructor(private readonly cap: number) {}

  *push(chunk: Buffer): Generator<Buffer> {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.kept < this.cap && end > start) {
        const piece = chunk.subarray(start, Math.min(end, start + (this.cap - this.kept)));
        this.parts.push(piece);
        this.kept += piece.length;
      }
      if (nl === -1) return;
      yield this.take();
      start = nl + 1;
    }
  }

  *end(): Generator<Buffer> {
    if (this.parts.length > 0) yield this.take();
  }

  private take(): Buffer {
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.kept = 0;
    return line;
  }
}

const C_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  t: 9,
  n: 10,
  v: 11,
  f: 12,
  r: 13,
  '"': 0x22,
  '\\': 0x5c,
};

/** Undoes git's C-style quoting of a path (`"b/tab\there"`, octal `\303\251` for bytes). */
export function unquoteGitPath(quoted: Buffer): string {
  const bytes: number[] = [];
  for (let i = 1; i < quoted.length; i++) {
    const c = quoted[i]!;
    if (c === 0x22) break;
    if (c !== 0x5c) {
      bytes.push(c);
      continue;
    }
    const next = String.fromCharCode(quoted[i + 1] ?? 0);
    if (next >= '0' && next <= '7') {
      bytes.push(parseInt(quoted.subarray(i + 1, i + 4).toString('latin1'), 8) & 0xff);
      i += 3;
    } else {
      bytes.push(C_ESCAPES[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The new-side path of a `+++ ` line, or null for `/dev/null` (a deleted file). */
function newPath(rest: Buffer): string | null {
  let path: string;
  if (rest[0] === 0x22) path = unquoteGitPath(rest);
  else {
    // git appends a TAB after a name holding a space; a name ending in TAB would have been quoted.
    const end = rest[rest.length - 1] === 0x09 ? rest.length - 1 : rest.length;
    path = rest.subarray(0, end).toString('utf8');
  }
  if (path === '/dev/null') return null;
  return path.startsWith('b/') ? path.slice(2) : path;
}

type Commit = NonNullable<ScanOrigin['commit']>;

const HUNK = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const PLUS = 0x2b;
const MINUS = 0x2d;
const SPACE = 0x20;
const BACKSLASH = 0x5c;

/** Turns `git log -p` / `git diff` lines into per-file added-line groups. */
class PatchParser {
  private commit: Commit | undefined;
  private path: string | null = null;
  private lines: AddedLine[] = [];
  private oldLeft = 0;
  private newLeft = 0;
  private next = 0;

  constructor(
    private readonly kind: 'git' | 'staged',
    private readonly maxLineBytes: number,
  ) {}

  /** Feeds one line; returns the group it completed, if any. */
  push(line: Buffer): GitAddedText | null {
    if (this.oldLeft > 0 || this.newLeft > 0) {
      const c = line[0];
      if (c === PLUS) {
        this.lines.push({ line: this.next++, text: this.decode(line.subarray(1)) });
        this.newLeft--;
        return null;
      }
      if (c === MINUS) {
        this.oldLeft--;
        return null;
      }
      if (c === SPACE) {
        this.oldLeft--;
        this.newLeft--;
        this.next++;
        return null;
      }
      if (c === BACKSLASH) return null;
      // Counts and lines disagree: fall back to reading headers rather than misnumbering.
      this.oldLeft = this.newLeft = 0;
    }
    if (line[0] === 0) {
      const done = this.flush();
      this.commit = parseHeader(line);
      return done;
    }
    const head = line.subarray(0, 11).toString('latin1');
    if (head.startsWith('diff --git ')) {
      const done = this.flush();
      this.path = null;
      return done;
    }
    if (head.startsWith('+++ ')) {
      this.path = newPath(line.subarray(4));
      return null;
    }
    if (head.startsWith('@@ ')) {
      const m = HUNK.exec(line.toString('latin1'));
      if (m) {
        this.oldLeft = m[1] === undefined ? 1 : Number(m[1]);
        this.next = Number(m[2]);
        this.newLeft = m[3] === undefined ? 1 : Number(m[3]);
      }
    }
    return null;
  }

  /** Ends the stream; returns the last group, if any. */
  end(): GitAddedText | null {
    return this.flush();
  }

  private flush(): GitAddedText | null {
    const { path, lines } = this;
    this.lines = [];
    this.oldLeft = this.newLeft = 0;
    if (path === null || lines.length === 0) return null;
    const origin: ScanOrigin = { kind: this.kind, path };
    if (this.kind === 'git' && this.commit) origin.commit = this.commit;
    return { origin, lines };
  }

  private decode(bytes: Buffer): string {
    const kept = bytes.length > this.maxLineBytes ? bytes.subarray(0, this.maxLineBytes) : bytes;
    const text = kept.toString('utf8');
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }
}

function parseHeader(line: Buffer): Commit {
  const [, , sha = '', author = '', email = '', date = '', message = ''] = line.toString('utf8').split('\0');
  return { sha, author, email, date, message };
}

function firstLine(stderr: string): string {
  return (
    stderr
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? 'git failed'
  );
}

function checkMaxLineBytes(value: number | undefined, param: string): number {
  const v = value ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new ValidationError(`${param}: maxLineBytes must be a positive integer, got ${String(value)}`, {
      details: [{ path: 'maxLineBytes', message: 'must be a positive integer' }],
    });
  }
  return v;
}

async function checkDir(repoDir: string, param: string): Promise<void> {
  try {
    if ((await stat(repoDir)).isDirectory()) return;
  } catch {
    // reported below
  }
  throw new ValidationError(`${param}: ${repoDir} is not a directory`, {
    details: [{ path: param, message: `${repoDir} is not a directory` }],
  });
}

interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** Runs a short git command to completion. */
function runGit(repoDir: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve) => {
    const child = spawn('git', args, { cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (error) => resolve({ code: null, stdout, stderr, error }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function gitFailure(param: string, where: string, res: { stderr: string; error?: Error }): ValidationError {
  const cause = res.error;
  const reason =
    cause && (cause as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'git is not installed or not on PATH'
      : cause
        ? cause.message
        : firstLine(res.stderr);
  return new ValidationError(`${param} ${where}: ${reason}`, {
    cause,
    details: [{ path: param, message: reason }],
  });
}

/**
 * Spawns git (no shell) and yields the parsed groups as the output streams in. Stopping the iteration early kills
 * the child, so a consumer that breaks out never leaves git blocked on a full pipe.
 */
async function* streamPatch(
  repoDir: string,
  args: string[],
  parser: PatchParser,
  splitCap: number,
  fail: (res: { stderr: string; error?: Error }) => ValidationError,
): AsyncGenerator<GitAddedText> {
  const child = spawn('git', args, { cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 16_384) stderr += d;
  });
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('close', (code) => resolve({ code }));
  });
  const splitter = new LineSplitter(splitCap);
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (const line of splitter.push(chunk)) {
        const item = parser.push(line);
        if (item) yield item;
      }
    }
    for (const line of splitter.end()) {
      const item = parser.push(line);
      if (item) yield item;
    }
    const res = await exited;
    if (res.error || res.code !== 0) throw fail({ stderr, error: res.error });
    const last = parser.end();
    if (last) yield last;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/**
 * Streams the lines each commit in `range` (default HEAD's history) added, one group per commit and file, newest
 * commit first, as `git log -p -U0` shows them. Deleted files, binary diffs, pure renames and mode changes yield
 * nothing; a line added in one commit and removed later is still yielded from the commit that added it. Merge
 * commits yield nothing (git shows no diff for them by default), so content that only a conflict resolution
 * introduced is not seen. A repository without commits yields nothing when no range is given.
 * @throws ValidationError (parameter `--git`) for a range that is empty or starts with `-` (option injection),
 *   a directory that is not a git repository, or an unknown revision, with git's first error line.
 */
export async function* gitHistory(
  repoDir: string,
  opts: GitHistoryOptions = {},
): AsyncGenerator<GitAddedText> {
  const param = '--git';
  const { range } = opts;
  if (range !== undefined && (range === '' || range.startsWith('-') || range.includes('\0'))) {
    throw new ValidationError(
      `${param}: invalid revision range ${JSON.stringify(range)}: must be non-empty and not start with "-"`,
      {
        details: [{ path: param, message: 'must be a revision or range, not an option' }],
      },
    );
  }
  const maxLineBytes = checkMaxLineBytes(opts.maxLineBytes, param);
  await checkDir(repoDir, param);
  const head = await runGit(repoDir, [...GIT_CONFIG_ARGS, 'rev-parse', '--verify', '--quiet', 'HEAD']);
  const where = `${range ?? 'HEAD'} in ${repoDir}`;
  if (head.error || (head.code !== 0 && head.stderr.trim() !== '')) throw gitFailure(param, where, head);
  // Exit 1 without a message: HEAD is unborn, there is no history yet.
  if (head.code !== 0 && range === undefined) return;
  const args = [...GIT_CONFIG_ARGS, 'log', '-p', ...DIFF_ARGS, LOG_FORMAT, range ?? 'HEAD', '--'];
  yield* streamPatch(
    repoDir,
    args,
    new PatchParser('git', maxLineBytes),
    Math.max(maxLineBytes + 1, 65_536),
    (res) => gitFailure(param, where, res),
  );
}

/**
 * Streams the lines staged in the index (`git diff --cached -U0`), one group per file, origin kind `staged`.
 * Works before the first commit (everything staged is added).
 * @throws ValidationError (parameter `--staged`) when `repoDir` is not a git work tree, with git's first error line.
 */
export async function* gitStaged(repoDir: string, opts: GitStagedOptions = {}): AsyncGenerator<GitAddedText> {
  const param = '--staged';
  const maxLineBytes = checkMaxLineBytes(opts.maxLineBytes, param);
  await checkDir(repoDir, param);
  // Outside a repository `git diff` falls back to --no-index and fails with a confusing message: check first.
  const tree = await runGit(repoDir, [...GIT_CONFIG_ARGS, 'rev-parse', '--is-inside-work-tree']);
  if (tree.error || tree.code !== 0) throw gitFailure(param, `in ${repoDir}`, tree);
  if (tree.stdout.trim() !== 'true') {
    throw gitFailure(param, `in ${repoDir}`, { stderr: 'not inside a git work tree' });
  }
  const args = [...GIT_CONFIG_ARGS, 'diff', '--cached', ...DIFF_ARGS, '--'];
  yield* streamPatch(
    repoDir,
    args,
    new PatchParser('staged', maxLineBytes),
    Math.max(maxLineBytes + 1, 65_536),
    (res) => gitFailure(param, `in ${repoDir}`, res),
  );
}
