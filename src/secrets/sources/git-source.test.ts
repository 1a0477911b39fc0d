import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createCaseGen } from '../secret-case-gen.js';
import { gitHistory, gitStaged, unquoteGitPath, type GitAddedText } from './git-source.js';

let repo: string;
const g = createCaseGen(7);

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'kw-git-'));
  git('init', '-q', '-b', 'main');
});
afterEach(() => {
  rmSync(repo, { recursive: true, force: true });
});

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
}

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), content);
}

/** Stages everything and commits it as Ann at a fixed date; returns the new sha. */
function commit(message: string, date = '2024-01-02T03:04:05Z'): string {
  git('add', '-A');
  git(
    '-c',
    'user.name=Ann Example',
    '-c',
    'user.email=ann@example.com',
    'commit',
    '-q',
    '--allow-empty',
    `--date=${date}`,
    '-m',
    message,
  );
  return git('rev-parse', 'HEAD').trim();
}

async function all(it: AsyncIterable<GitAddedText>): Promise<GitAddedText[]> {
  const out: GitAddedText[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** [sha-or-kind, path, lines] per group, for compact expectations. */
function brief(items: GitAddedText[]): Array<[string, string, Array<[number, string]>]> {
  return items.map((i) => [
    i.origin.commit?.sha ?? i.origin.kind,
    i.origin.path,
    i.lines.map((l) => [l.line, l.text] as [number, string]),
  ]);
}

describe('gitHistory', () => {
  it('yields the lines each commit added, numbered in the new file, with commit metadata', async () => {
    const token = g.githubToken(g.join('gh', 'p_'));
    write('config/app.env', `A=1\nGITHUB_TOKEN=${token}\nB=2\n`);
    const first = commit('add config\nover two lines\n\nwith a body');
    write('config/app.env', 'A=1\nB=2\nC=3\n');
    const second = commit('remove the token');
    const items = await all(gitHistory(repo));
    expect(brief(items)).toEqual([
      [second, 'config/app.env', [[3, 'C=3']]],
      [
        first,
        'config/app.env',
        [
          [1, 'A=1'],
          [2, `GITHUB_TOKEN=${token}`],
          [3, 'B=2'],
        ],
      ],
    ]);
    expect(items[1]!.origin).toEqual({
      kind: 'git',
      path: 'config/app.env',
      commit: {
        sha: first,
        author: 'Ann Example',
        email: 'ann@example.com',
        date: '2024-01-02T03:04:05+00:00',
        message: 'add config over two lines',
      },
    });
  });

  it('numbers lines across several hunks and insertions', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`);
    write('f.txt', lines.join('\n') + '\n');
    commit('base');
    const next = [...lines];
    next[1] = 'changed 2';
    next.splice(5, 0, 'inserted after 5', 'inserted again');
    next[11] = 'changed 10';
    next.push('appended');
    write('f.txt', next.join('\n') + '\n');
    const sha = commit('edit');
    const [item] = await all(gitHistory(repo, { range: 'HEAD~1..HEAD' }));
    expect(brief([item!])).toEqual([
      [
        sha,
        'f.txt',
        [
          [2, 'changed 2'],
          [6, 'inserted after 5'],
          [7, 'inserted again'],
          [12, 'changed 10'],
          [15, 'appended'],
        ],
      ],
    ]);
    for (const l of item!.lines) expect(next[l.line - 1]).toBe(l.text);
  });

  it('reads added lines that look like diff headers, missing final newlines and CRLF ends as content', async () => {
    write('odd.txt', '++ plus\n-- minus\n@@ -1 +1 @@\ndiff --git a b\r\nlast');
    const sha = commit('odd');
    expect(brief(await all(gitHistory(repo)))).toEqual([
      [
        sha,
        'odd.txt',
        [
          [1, '++ plus'],
          [2, '-- minus'],
          [3, '@@ -1 +1 @@'],
          [4, 'diff --git a b'],
          [5, 'last'],
        ],
      ],
    ]);
  });

  it('handles paths with spaces, tabs, quotes and non-ASCII characters', async () => {
    write('with space.txt', 'a\n');
    write('tab\there.txt', 'b\n');
    write('quo"te.txt', 'c\n');
    write('ünïcödé/ファイル.txt', 'd\n');
    write('back\\slash.txt', 'e\n');
    commit('names');
    const paths = (await all(gitHistory(repo))).map((i) => i.origin.path).sort();
    expect(paths).toEqual(
      ['back\\slash.txt', 'quo"te.txt', 'tab\there.txt', 'with space.txt', 'ünïcödé/ファイル.txt'].sort(),
    );
  });

  it('skips binary files, deletions, pure renames and mode changes; shows only changed lines of a moved file', async () => {
    const body = Array.from({ length: 20 }, (_, i) => `row ${i}`).join('\n') + '\n';
    write('bin.dat', Buffer.from([0, 1, 2, 3, 0, 255]));
    write('keep.txt', body);
    write('gone.txt', 'bye\n');
    write('script.sh', 'echo hi\n');
    commit('base');
    rmSync(join(repo, 'gone.txt'));
    git('mv', 'keep.txt', 'moved.txt');
    execFileSync('chmod', ['+x', join(repo, 'script.sh')]);
    const pure = commit('rename and delete');
    expect((await all(gitHistory(repo, { range: `${pure}~1..${pure}` }))).length).toBe(0);
    git('mv', 'moved.txt', 'moved-again.txt');
    writeFileSync(join(repo, 'moved-again.txt'), body + 'one more\n');
    const edited = commit('rename with edit');
    expect(brief(await all(gitHistory(repo, { range: `${edited}~1..${edited}` })))).toEqual([
      [edited, 'moved-again.txt', [[21, 'one more']]],
    ]);
    const base = (await all(gitHistory(repo))).filter((i) => i.origin.commit?.message === 'base');
    expect(base.map((i) => i.origin.path)).toEqual(['gone.txt', 'keep.txt', 'script.sh']);
  });

  it('yields nothing for a merge commit itself; the merged commit keeps its lines', async () => {
    write('a.txt', 'a\n');
    commit('base');
    git('checkout', '-q', '-b', 'feature');
    write('b.txt', 'from feature\n');
    const feature = commit('feature work', '2024-01-03T00:00:00Z');
    git('checkout', '-q', 'main');
    write('c.txt', 'on main\n');
    commit('main work', '2024-01-04T00:00:00Z');
    git(
      '-c',
      'user.name=M',
      '-c',
      'user.email=m@example.com',
      'merge',
      '-q',
      '--no-ff',
      '-m',
      'merge',
      'feature',
    );
    const items = await all(gitHistory(repo));
    expect(items.filter((i) => i.origin.path === 'b.txt').map((i) => i.origin.commit?.sha)).toEqual([
      feature,
    ]);
    expect(items.some((i) => i.origin.commit?.message === 'merge')).toBe(false);
  });

  it('parses the output whatever the repository configuration says', async () => {
    git('config', 'diff.noprefix', 'true');
    git('config', 'color.ui', 'always');
    git('config', 'log.showRoot', 'false');
    git('config', 'diff.external', 'false');
    git('config', 'core.quotePath', 'true');
    git('config', 'diff.renames', 'false');
    write('é.txt', 'x\n');
    const sha = commit('root');
    expect(brief(await all(gitHistory(repo)))).toEqual([[sha, 'é.txt', [[1, 'x']]]]);
  });

  it('cuts added lines at maxLineBytes', async () => {
    write('min.js', 'a'.repeat(100_000) + '\nshort\n');
    commit('bundle');
    const [item] = await all(gitHistory(repo, { maxLineBytes: 10 }));
    expect(item!.lines).toEqual([
      { line: 1, text: 'a'.repeat(10) },
      { line: 2, text: 'short' },
    ]);
  });

  it('yields nothing for a repository without commits', async () => {
    expect(await all(gitHistory(repo))).toEqual([]);
  });

  it('rejects option-like or empty ranges before running git', async () => {
    for (const range of ['-p', '--output=/tmp/x', '']) {
      const err = await all(gitHistory(repo, { range })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toMatch(/^--git: invalid revision range/);
      expect((err as ValidationError).details[0]?.path).toBe('--git');
    }
    await expect(all(gitHistory(repo, { maxLineBytes: 0 }))).rejects.toThrow(/maxLineBytes/);
  });

  it("reports an unknown revision, a non-repository and a missing directory with git's first error line", async () => {
    write('a.txt', 'a\n');
    commit('one');
    await expect(all(gitHistory(repo, { range: 'no-such-branch' }))).rejects.toThrow(
      /--git no-such-branch in .*: fatal: bad revision 'no-such-branch'/,
    );
    const plain = mkdtempSync(join(tmpdir(), 'kw-nogit-'));
    try {
      const err = await all(gitHistory(plain)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toMatch(/not a git repository/);
      expect((err as Error).message).not.toMatch(/\n/);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
    await expect(all(gitHistory(join(repo, 'missing')))).rejects.toThrow(
      /--git: .*missing is not a directory/,
    );
  });

  it('reports a missing git executable as a ValidationError', async () => {
    const saved = process.env.PATH;
    const empty = mkdtempSync(join(tmpdir(), 'kw-nopath-'));
    process.env.PATH = empty;
    try {
      await expect(all(gitHistory(repo))).rejects.toThrow(
        /--git HEAD in .*: git is not installed or not on PATH/,
      );
      await expect(all(gitStaged(repo))).rejects.toThrow(
        /--staged in .*: git is not installed or not on PATH/,
      );
    } finally {
      process.env.PATH = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('kills git when the consumer stops early', async () => {
    // The older commit's diff is far larger than a pipe buffer, so git is still writing when we stop.
    write('big.txt', `${'x'.repeat(200)}\n`.repeat(40_000));
    commit('big', '2024-01-01T00:00:00Z');
    write('small.txt', 'first\n');
    commit('small');
    const started = Date.now();
    for await (const item of gitHistory(repo)) {
      expect(item.origin.path).toBe('small.txt');
      break;
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    if (!existsSync('/proc/self/cwd')) return;
    const gitInRepo = (): number =>
      readdirSync('/proc').filter((pid) => {
        if (!/^\d+$/.test(pid)) return false;
        try {
          return (
            readlinkSync(`/proc/${pid}/cwd`) === repo &&
            readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'git'
          );
        } catch {
          return false;
        }
      }).length;
    for (let i = 0; i < 50 && gitInRepo() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(gitInRepo()).toBe(0);
  });
});

describe('gitStaged', () => {
  it('yields staged lines only, origin kind staged without commit', async () => {
    write('a.txt', 'one\ntwo\n');
    commit('base');
    write('a.txt', 'one\nTWO staged\n');
    write('new.env', 'KEY=staged\n');
    git('add', 'a.txt', 'new.env');
    write('a.txt', 'one\nTWO staged\nunstaged\n');
    write('untracked.txt', 'nope\n');
    const items = await all(gitStaged(repo));
    expect(brief(items)).toEqual([
      ['staged', 'a.txt', [[2, 'TWO staged']]],
      ['staged', 'new.env', [[1, 'KEY=staged']]],
    ]);
    expect(items[0]!.origin).toEqual({ kind: 'staged', path: 'a.txt' });
  });

  it('works before the first commit and reports nothing when nothing is staged', async () => {
    expect(await all(gitStaged(repo))).toEqual([]);
    write('x.txt', 'hello\n');
    git('add', 'x.txt');
    expect(brief(await all(gitStaged(repo)))).toEqual([['staged', 'x.txt', [[1, 'hello']]]]);
  });

  it('reports a directory that is not a git work tree', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'kw-nogit-'));
    try {
      await expect(all(gitStaged(plain))).rejects.toThrow(/^--staged in .*: fatal: not a git repository/);
      git('init', '-q', '--bare', join(plain, 'bare.git'));
      await expect(all(gitStaged(join(plain, 'bare.git')))).rejects.toThrow(/not inside a git work tree/);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe('unquoteGitPath', () => {
  it('undoes C quoting with octal UTF-8 bytes', () => {
    expect(unquoteGitPath(Buffer.from('"b/a\\tb\\"c\\\\d\\303\\251"'))).toBe('b/a\tb"c\\dé');
  });
});
