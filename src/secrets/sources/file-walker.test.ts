import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import {
  decodeScanBuffer,
  isBinaryBuffer,
  readScanText,
  rebasePattern,
  walkFiles,
  walkTree,
  type UnstatedFile,
  type WalkEntry,
  type WalkOptions,
} from './file-walker.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-walk-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes files under `dir`: path → content. */
function tree(files: Record<string, string | Buffer>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
}

async function collect(root: string, opts: Partial<WalkOptions> = {}): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  for await (const e of walkFiles(root, { maxFileBytes: 1 << 20, ...opts })) out.push(e);
  return out;
}

async function filePaths(root: string, opts: Partial<WalkOptions> = {}): Promise<string[]> {
  return (await collect(root, opts)).filter((e) => e.kind === 'file').map((e) => e.path);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.excludesFile=/dev/null', ...args], { cwd, encoding: 'utf8' });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe('walkFiles: gitignore semantics', () => {
  it('keeps exactly the files `git ls-files --others --exclude-standard` keeps, on a tricky tree', async () => {
    tree({
      '.gitignore': [
        '*.log',
        '!keep.log',
        '/anchored.txt',
        'build/',
        'docs/**/*.tmp',
        'secret[0-9].txt',
        '# a comment line',
        '\\#hash.txt',
        'trailing.txt   ',
        'dironly/',
      ].join('\n'),
      'anchored.txt': 'x',
      'keep.log': 'x',
      'debug.log': 'x',
      'build/out.js': 'x',
      'docs/z.tmp': 'x',
      'docs/x/y/z.tmp': 'x',
      'docs/x/y/z.md': 'x',
      'secret1.txt': 'x',
      'secretA.txt': 'x',
      '#hash.txt': 'x',
      'trailing.txt': 'x',
      dironly: 'a file, not a directory, so `dironly/` does not match it',
      'a/.gitignore': ['!build/', 'anchored.txt', '/only-here.txt', 'sub/x.txt', '*.cfg', '!b/'].join('\n'),
      'a/anchored.txt': 'x',
      'a/x/anchored.txt': 'x',
      'a/only-here.txt': 'x',
      'a/c/only-here.txt': 'x',
      'a/sub/x.txt': 'x',
      'a/c/sub/x.txt': 'x',
      'a/build/out.js': 'x',
      'a/app.cfg': 'x',
      'a/b/.gitignore': ['!*.log', '*.txt', '!keep.txt', '!*.cfg'].join('\n'),
      'a/b/debug.log': 'x',
      'a/b/keep.txt': 'x',
      'a/b/other.txt': 'x',
      'a/b/app.cfg': 'x',
      'a/[x]/.gitignore': 'y.txt\n',
      'a/[x]/y.txt': 'x',
      'a/[x]/w.txt': 'x',
      'a/x/y.txt': 'x',
      '!bang/.gitignore': 'z\n',
      '!bang/z': 'x',
      '!bang/w': 'x',
      'bang/z': 'x',
      'ignored-dir/.gitignore': '!*\n',
      'ignored-dir/keep.txt': 'cannot be re-included: its directory is excluded',
      'dironly2/dironly/f.txt': 'x',
      '.gitignore-extra/ok.txt': 'x',
    });
    appendFileSync(join(dir, '.gitignore'), '\nignored-dir/\n');
    git(dir, 'init', '-q');
    const expected = git(dir, 'ls-files', '--others', '--exclude-standard', '-z')
      .split('\0')
      .filter((p) => p !== '')
      .sort();
    const got = [...(await filePaths(dir, { ignoreFileNames: ['.gitignore'] }))].sort();
    expect(got).toEqual(expected);
    // Spot checks, so a git change cannot make the comparison vacuous.
    expect(got).toContain('a/b/debug.log');
    expect(got).toContain('a/build/out.js');
    expect(got).toContain('a/c/only-here.txt');
    expect(got).toContain('bang/z');
    expect(got).not.toContain('a/x/anchored.txt');
    expect(got).not.toContain('!bang/z');
    expect(got).not.toContain('ignored-dir/keep.txt');
  });

  it('reads .keywardignore after .gitignore at each level, so it can override it', async () => {
    tree({
      '.gitignore': 'secrets.env\n',
      '.keywardignore': '!secrets.env\nfixtures/\n',
      'secrets.env': 'x',
      'fixtures/a.txt': 'x',
      'src/.keywardignore': 'gen.ts\n',
      'src/gen.ts': 'x',
      'src/main.ts': 'x',
      'other/gen.ts': 'x',
    });
    expect(await filePaths(dir)).toEqual([
      '.gitignore',
      '.keywardignore',
      'other/gen.ts',
      'secrets.env',
      'src/.keywardignore',
      'src/main.ts',
    ]);
  });

  it('reads only the ignore files named in ignoreFileNames', async () => {
    tree({ '.gitignore': 'a.txt\n', '.keywardignore': 'b.txt\n', 'a.txt': 'x', 'b.txt': 'x' });
    expect(await filePaths(dir, { ignoreFileNames: ['.keywardignore'] })).toEqual([
      '.gitignore',
      '.keywardignore',
      'a.txt',
    ]);
    expect(await filePaths(dir, { ignoreFileNames: [] })).toEqual([
      '.gitignore',
      '.keywardignore',
      'a.txt',
      'b.txt',
    ]);
  });

  it('applies exclude patterns from the root on top of the ignore files', async () => {
    tree({
      '.gitignore': 'dist/\n',
      'sub/.gitignore': '!*.md\n',
      'README.md': 'x',
      'sub/notes.md': 'x',
      'sub/keep.md': 'x',
      'dist/bundle.js': 'x',
      'vendor/lib.js': 'x',
      'src/vendor/lib.js': 'x',
      'src/main.ts': 'x',
    });
    const got = await filePaths(dir, { exclude: ['*.md', '!keep.md', '/vendor/', '!dist/'] });
    // `!dist/` cannot re-include what .gitignore excluded.
    expect(got).toEqual(['.gitignore', 'src/main.ts', 'src/vendor/lib.js', 'sub/.gitignore', 'sub/keep.md']);
  });

  it('ignores a BOM and CRLF line ends in ignore files', async () => {
    tree({ '.gitignore': '\uFEFFa.txt\r\nb.txt\r\n', 'a.txt': 'x', 'b.txt': 'x', 'c.txt': 'x' });
    expect(await filePaths(dir)).toEqual(['.gitignore', 'c.txt']);
  });
});

describe('walkFiles: entries', () => {
  it('always leaves out .git (directory or worktree file) and yields a sorted, depth-first order', async () => {
    tree({
      'b.txt': 'x',
      'B.txt': 'x',
      'a/z.txt': 'x',
      'a/A.txt': 'x',
      'a.txt': 'x',
      '_/x': 'x',
      'sub/.git': 'gitdir: ../x',
    });
    git(dir, 'init', '-q');
    const entries = await collect(dir);
    expect(entries.map((e) => e.path)).toEqual(['B.txt', '_/x', 'a/A.txt', 'a/z.txt', 'a.txt', 'b.txt']);
    const first = entries[0]!;
    expect(first).toEqual({ kind: 'file', path: 'B.txt', absPath: join(dir, 'B.txt'), size: 1 });
  });

  it('reports symlinks as skipped and never follows them', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'kw-walk-outside-'));
    try {
      writeFileSync(join(outside, 'secret.txt'), 'outside');
      tree({ 'real.txt': 'x' });
      symlinkSync(outside, join(dir, 'linkdir'));
      symlinkSync(join(dir, 'real.txt'), join(dir, 'linkfile'));
      symlinkSync(join(dir, 'missing'), join(dir, 'dangling'));
      expect(await collect(dir)).toEqual([
        { kind: 'skipped', path: 'dangling', reason: 'symlink' },
        { kind: 'skipped', path: 'linkdir', reason: 'symlink' },
        { kind: 'skipped', path: 'linkfile', reason: 'symlink' },
        { kind: 'file', path: 'real.txt', absPath: join(dir, 'real.txt'), size: 1 },
      ]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('matches a symlink to a directory as a file, like git: `linkdir/` does not ignore it', async () => {
    tree({ '.gitignore': 'linkdir/\n', 'target/f': 'x' });
    symlinkSync(join(dir, 'target'), join(dir, 'linkdir'));
    expect((await collect(dir)).map((e) => e.path)).toEqual(['.gitignore', 'linkdir', 'target/f']);
  });

  it('reports FIFOs as special', async () => {
    try {
      execFileSync('mkfifo', [join(dir, 'pipe')]);
    } catch {
      return; // no mkfifo on this platform
    }
    expect(await collect(dir)).toEqual([{ kind: 'skipped', path: 'pipe', reason: 'special' }]);
  });

  it('walkTree leaves regular files unstated while asked to, and tells the rest by their directory entries', () => {
    const big = 'x'.repeat(101);
    tree({ 'a.txt': 'x', 'b.txt': big, 'c.txt': big, 'sub/.gitignore': 'skip.txt\n', 'sub/skip.txt': 'x' });
    symlinkSync(join(dir, 'a.txt'), join(dir, 'link'));
    // Stat only the file after a.txt: b.txt is told too large by the walk, c.txt is left to its reader.
    let stat = false;
    const seen: Array<WalkEntry | UnstatedFile> = [];
    for (const e of walkTree(dir, { maxFileBytes: 100 }, () => stat)) {
      seen.push(e);
      stat = e.path === 'a.txt';
    }
    expect(seen).toEqual([
      { kind: 'file', path: 'a.txt', absPath: join(dir, 'a.txt'), size: null },
      { kind: 'skipped', path: 'b.txt', reason: 'too-large' },
      { kind: 'file', path: 'c.txt', absPath: join(dir, 'c.txt'), size: null },
      { kind: 'skipped', path: 'link', reason: 'symlink' },
      { kind: 'file', path: 'sub/.gitignore', absPath: join(dir, 'sub', '.gitignore'), size: null },
    ]);
  });

  it('names files as path.join would, whatever form the root is given in', () => {
    tree({ 'd/f.txt': 'x' });
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      for (const root of ['.', './', 'd/..', dir + '/', dir]) {
        const files = [...walkTree(root, { maxFileBytes: 10 })];
        expect(files).toEqual([
          { kind: 'file', path: 'd/f.txt', absPath: join(root, 'd', 'f.txt'), size: 1 },
        ]);
      }
    } finally {
      process.chdir(cwd);
    }
  });

  it('reports files above maxFileBytes as too-large', async () => {
    tree({ 'big.txt': 'x'.repeat(101), 'edge.txt': 'x'.repeat(100) });
    expect(await collect(dir, { maxFileBytes: 100 })).toEqual([
      { kind: 'skipped', path: 'big.txt', reason: 'too-large' },
      { kind: 'file', path: 'edge.txt', absPath: join(dir, 'edge.txt'), size: 100 },
    ]);
  });

  it.skipIf(isRoot)('reports an unreadable directory and goes on', async () => {
    tree({ 'locked/a.txt': 'x', 'ok.txt': 'x' });
    chmodSync(join(dir, 'locked'), 0o000);
    try {
      expect((await collect(dir)).map((e) => [e.path, e.kind])).toEqual([
        ['locked', 'skipped'],
        ['ok.txt', 'file'],
      ]);
    } finally {
      chmodSync(join(dir, 'locked'), 0o755);
    }
  });

  it('yields a single-file root as itself, without ignore rules', async () => {
    tree({ '.gitignore': 'one.env\n', 'one.env': 'abc' });
    expect(await collect(join(dir, 'one.env'))).toEqual([
      { kind: 'file', path: 'one.env', absPath: join(dir, 'one.env'), size: 3 },
    ]);
    expect(await collect(join(dir, 'one.env'), { maxFileBytes: 2 })).toEqual([
      { kind: 'skipped', path: 'one.env', reason: 'too-large' },
    ]);
  });

  it('follows a root that is itself a symlink (the caller named it), but no link inside', async () => {
    tree({ 'real/a.txt': 'x' });
    symlinkSync(join(dir, 'real'), join(dir, 'root-link'));
    symlinkSync(join(dir, 'real', 'a.txt'), join(dir, 'real', 'b.txt'));
    expect((await collect(join(dir, 'root-link'))).map((e) => [e.path, e.kind])).toEqual([
      ['a.txt', 'file'],
      ['b.txt', 'skipped'],
    ]);
  });

  it('can be stopped early', async () => {
    tree({ 'a.txt': 'x', 'b.txt': 'x', 'c/d.txt': 'x' });
    const it = walkFiles(dir, { maxFileBytes: 10 });
    const first = await it.next();
    expect(first.value).toMatchObject({ path: 'a.txt' });
    await it.return(undefined);
    expect((await it.next()).done).toBe(true);
  });

  it('throws a ValidationError for a missing root or a bad maxFileBytes', async () => {
    await expect(collect(join(dir, 'nope'))).rejects.toThrow(ValidationError);
    await expect(collect(join(dir, 'nope'))).rejects.toThrow(/nope/);
    await expect(collect(dir, { maxFileBytes: 0 })).rejects.toThrow(/maxFileBytes/);
    await expect(collect(dir, { maxFileBytes: 1.5 })).rejects.toThrow(ValidationError);
  });
});

describe('rebasePattern', () => {
  it('anchors patterns to their directory as gitignore does', () => {
    expect(rebasePattern('*.log', '')).toBe('*.log');
    expect(rebasePattern('*.log', 'a/b/')).toBe('a/b/**/*.log');
    expect(rebasePattern('/x', 'a/')).toBe('a/x');
    expect(rebasePattern('x/y', 'a/')).toBe('a/x/y');
    expect(rebasePattern('dir/', 'a/')).toBe('a/**/dir/');
    expect(rebasePattern('!keep', 'a/')).toBe('!a/**/keep');
    expect(rebasePattern('**/z', 'a/')).toBe('a/**/z');
    expect(rebasePattern('x  ', 'a/')).toBe('a/**/x');
    expect(rebasePattern('# c', 'a/')).toBeNull();
    expect(rebasePattern('   ', 'a/')).toBeNull();
    expect(rebasePattern('x', '[a]/!b/')).toBe('\\[a\\]/\\!b/**/x');
    expect(rebasePattern('x', '!b/')).toBe('\\!b/**/x');
  });
});

describe('decodeScanBuffer / isBinaryBuffer / readScanText', () => {
  it('decodes UTF-8, drops a UTF-8 BOM and decodes UTF-16 LE/BE and UTF-32 with a BOM', () => {
    const text = 'key = "välue ✓"\nline2\n';
    expect(decodeScanBuffer(Buffer.from(text))).toBe(text);
    expect(decodeScanBuffer(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toBe(text);
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect(decodeScanBuffer(le)).toBe(text);
    expect(isBinaryBuffer(le)).toBe(false);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    expect(decodeScanBuffer(be)).toBe(text);
    const cps = [...text].map((c) => c.codePointAt(0)!);
    const u32 = Buffer.alloc(4 + cps.length * 4);
    u32.writeUInt32LE(0xfeff, 0);
    cps.forEach((cp, i) => u32.writeUInt32LE(cp, 4 + i * 4));
    expect(decodeScanBuffer(u32)).toBe(text);
  });

  it('tells binary by a NUL byte in the first 8 KiB only', () => {
    expect(isBinaryBuffer(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x41]))).toBe(true);
    const late = Buffer.concat([Buffer.alloc(8 * 1024, 0x61), Buffer.from([0, 0x61])]);
    expect(isBinaryBuffer(late)).toBe(false);
    expect(isBinaryBuffer(Buffer.alloc(0))).toBe(false);
  });

  it('keeps mostly-ASCII text in a legacy encoding and rejects noise that is not UTF-8', () => {
    const latin1 = Buffer.from('name = "Fran\xe7ois M\xfcller"\ntoken = abc\n', 'latin1');
    const decoded = decodeScanBuffer(latin1);
    expect(decoded).toContain('token = abc');
    expect(decoded).toContain('Fran\uFFFDois');
    // Bytes 0x80–0xff with no NUL: every one is invalid UTF-8.
    const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => 0x80 + ((i * 37) % 128)));
    expect(isBinaryBuffer(noise)).toBe(true);
    // Control characters without NUL count too.
    expect(isBinaryBuffer(Buffer.from([0x01, 0x02, 0x03, 0xff, 0x41]))).toBe(true);
  });

  it('reads files as text, binary or unreadable, at most the walked size', async () => {
    tree({ 'a.txt': 'hello\n', 'b.bin': Buffer.from([1, 0, 2]), 'c.txt': 'abcdef' });
    expect(await readScanText(join(dir, 'a.txt'), 6)).toEqual({ text: 'hello\n' });
    expect(await readScanText(join(dir, 'b.bin'), 3)).toEqual({ skipped: 'binary' });
    expect(await readScanText(join(dir, 'c.txt'), 3)).toEqual({ text: 'abc' });
    expect(await readScanText(join(dir, 'missing'), 3)).toEqual({ skipped: 'unreadable' });
    expect(await readScanText(dir, 3)).toEqual({ skipped: 'unreadable' });
  });

  it('refuses to read through a symlink swapped in after the walk', async () => {
    tree({ 'real.txt': 'x' });
    symlinkSync(join(dir, 'real.txt'), join(dir, 'link.txt'));
    expect(await readScanText(join(dir, 'link.txt'), 1)).toEqual({ skipped: 'unreadable' });
  });

  it('walks and reads a whole tree end to end', async () => {
    tree({ 'x/one.txt': 'one', 'x/two.bin': Buffer.from([0, 1]) });
    const results: unknown[] = [];
    for await (const e of walkFiles(dir, { maxFileBytes: 100 })) {
      if (e.kind === 'file') results.push([e.path, await readScanText(e.absPath, e.size)]);
    }
    expect(results).toEqual([
      ['x/one.txt', { text: 'one' }],
      ['x/two.bin', { skipped: 'binary' }],
    ]);
  });
});
