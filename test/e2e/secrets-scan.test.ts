/**
 * End-to-end: the built `keyward scan` over a real tree, git history, staged changes with the installed
 * pre-commit hook, stdin and the environment; baselines, SARIF, inventory recording and bad input. Every
 * token-shaped value is generated at run time, and no output may contain one.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseGen } from '../../src/secrets/secret-case-gen.js';
import { CLI, removeDir, requireBuild, runKeyward, tempDir } from './e2e-helpers.js';

interface JsonFinding {
  ruleId: string;
  path: string;
  line: number;
  column: number;
  keyName: string | null;
  verifiedFormat: boolean;
  preview: string;
  fingerprint: string;
  source: string;
  commit?: { sha: string; author: string; email: string };
}
interface JsonReport {
  findings: JsonFinding[];
  allowed: Array<JsonFinding & { reason: string }>;
  stats: { files: number; skipped: { binary: number; tooLarge: number }; baselineAccepted: number };
}

const g = createCaseGen(2026);
const ghp = g.join('gh', 'p_');
const secrets: string[] = [];
const keep = (v: string): string => (secrets.push(v), v);

const tokenA = keep(g.githubToken(ghp));
const tokenB = keep(g.githubToken(ghp));
const tokenAllowed = keep(g.githubToken(ghp));
const npmToken = keep(g.githubToken(g.join('np', 'm_')));
const mcpKey = keep(g.chars(12) + '-' + g.chars(20));
const dbPassword = keep(g.chars(18));
const slack = keep(
  `${g.join('xo', 'xb-')}${g.chars(11, '0123456789')}-${g.chars(12, '0123456789')}-${g.chars(24)}`,
);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.org', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });
}

function noSecretIn(...outputs: string[]): void {
  for (const out of outputs)
    for (const s of secrets) expect(out.includes(s), 'a secret value was printed').toBe(false);
}

const where = (r: JsonReport): Array<[string, number, string]> =>
  r.findings.map((f) => [f.path, f.line, f.ruleId]);

let dir: string;
let tree: string;

beforeAll(() => {
  requireBuild();
  dir = tempDir('kw-scan-');
  tree = join(dir, 'tree');
  mkdirSync(join(tree, 'app'), { recursive: true });
  mkdirSync(join(tree, 'ignored'), { recursive: true });
  mkdirSync(join(tree, 'data'), { recursive: true });
  mkdirSync(join(tree, 'docs'), { recursive: true });
  writeFileSync(join(tree, '.gitignore'), 'ignored/\n');
  writeFileSync(join(tree, '.keywardignore'), 'docs/vendor.md\n');
  writeFileSync(join(tree, 'app', 'config.ts'), `// settings\nexport const GITHUB_TOKEN = "${tokenA}";\n`);
  writeFileSync(
    join(tree, 'app', 'allowed.ts'),
    `// keyward:allow rotated on 2026-11-01, kept as a parser fixture\nconst t = "${tokenAllowed}";\n`,
  );
  writeFileSync(join(tree, '.env'), `# local\nDB_PASSWORD=${dbPassword}\nSESSION_SECRET=changeme\n`);
  writeFileSync(
    join(tree, '.mcp.json'),
    JSON.stringify(
      { mcpServers: { search: { command: 'npx', args: ['-y', 'search-mcp', '--api-key', mcpKey] } } },
      null,
      2,
    ),
  );
  writeFileSync(
    join(tree, 'data', 'chat.jsonl'),
    `{"role":"user","content":"my slack bot is ${slack} ok"}\n`,
  );
  writeFileSync(
    join(tree, 'docs', 'README.md'),
    'Set AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE and OPENAI_API_KEY=<your-api-key>.\n',
  );
  writeFileSync(join(tree, 'docs', 'vendor.md'), `vendored: ${keep(g.githubToken(ghp))}\n`);
  writeFileSync(join(tree, 'ignored', 'old.env'), `GITHUB_TOKEN=${keep(g.githubToken(ghp))}\n`);
  writeFileSync(join(tree, 'blob.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(tokenB)]));
  writeFileSync(join(tree, '.npmrc'), `//registry.npmjs.org/:_authToken=${npmToken}\n`);
});

afterAll(() => removeDir(dir));

describe('keyward scan <dir>', () => {
  it('reports exactly the planted credentials, honours ignore files and allow comments, skips binaries', async () => {
    const r = await runKeyward(['scan', '.', '--json'], { cwd: tree });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(where(report)).toEqual([
      ['.env', 2, 'generic-secret-assignment'],
      ['.mcp.json', 9, 'generic-secret-assignment'],
      ['.npmrc', 1, 'npm-access-token'],
      ['app/config.ts', 2, 'github-pat-classic'],
      ['data/chat.jsonl', 1, 'slack-bot-token'],
    ]);
    const byPath = new Map(report.findings.map((f) => [f.path, f]));
    expect(byPath.get('app/config.ts')).toMatchObject({
      column: 30,
      keyName: 'GITHUB_TOKEN',
      verifiedFormat: true,
      preview: `${tokenA.slice(0, 4)}…${tokenA.slice(-4)}`,
      source: 'file',
    });
    expect(byPath.get('.env')!.keyName).toBe('DB_PASSWORD');
    expect(byPath.get('.mcp.json')!.keyName).toBe('mcpServers.search.args[3]');
    expect(report.allowed.map((a) => [a.path, a.line, a.reason])).toEqual([
      ['app/allowed.ts', 2, 'rotated on 2026-11-01, kept as a parser fixture'],
    ]);
    expect(report.stats.skipped.binary).toBe(1);
    noSecretIn(r.stdout, r.stderr);
  });

  it('names paths relative to the working directory, whatever root was named', async () => {
    const sub = await runKeyward(['scan', 'app', '--json'], { cwd: tree });
    expect(where(JSON.parse(sub.stdout) as JsonReport)).toEqual([['app/config.ts', 2, 'github-pat-classic']]);
    const file = await runKeyward(['scan', join('app', 'config.ts'), '--json'], { cwd: tree });
    expect(where(JSON.parse(file.stdout) as JsonReport)).toEqual([
      ['app/config.ts', 2, 'github-pat-classic'],
    ]);
    const outside = await runKeyward(['scan', join(tree, 'app'), '--json'], { cwd: dir });
    expect(where(JSON.parse(outside.stdout) as JsonReport)).toEqual([
      ['tree/app/config.ts', 2, 'github-pat-classic'],
    ]);
    const elsewhere = await runKeyward(['scan', join(tree, 'app'), '--json']);
    expect(where(JSON.parse(elsewhere.stdout) as JsonReport)).toEqual([
      [join(tree, 'app', 'config.ts'), 2, 'github-pat-classic'],
    ]);
  });

  it('prints a redacted table and exits by --fail-on', async () => {
    const table = await runKeyward(['scan'], { cwd: tree });
    expect(table.code).toBe(1);
    expect(table.stdout).toContain(`critical  app/config.ts:2:30`);
    expect(table.stdout).toMatch(
      /5 findings, \d+ files .* skipped 1 \(binary 1,.*1 allowed by keyward:allow/,
    );
    noSecretIn(table.stdout, table.stderr);
    const onlyCritical = await runKeyward(['scan', 'data', '--fail-on', 'critical'], { cwd: tree });
    expect(onlyCritical.code).toBe(0);
    const none = await runKeyward(['scan', '--fail-on', 'none'], { cwd: tree });
    expect(none.code).toBe(0);
  });

  it('writes SARIF 2.1.0 that GitHub code scanning reads', async () => {
    const out = join(dir, 'scan.sarif');
    const r = await runKeyward(['scan', '--format', 'sarif', '--output', out], { cwd: tree });
    expect(r.code).toBe(1);
    const text = readFileSync(out, 'utf8');
    noSecretIn(text, r.stdout, r.stderr);
    const sarif = JSON.parse(text) as {
      version: string;
      runs: Array<{
        tool: { driver: { name: string; rules: Array<{ id: string; properties: Record<string, unknown> }> } };
        results: Array<{
          ruleId: string;
          ruleIndex: number;
          level: string;
          locations: Array<{
            physicalLocation: {
              artifactLocation: { uri: string };
              region: { startLine: number; startColumn: number };
            };
          }>;
        }>;
      }>;
    };
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe('Keyward');
    expect(run.results).toHaveLength(5);
    for (const res of run.results) expect(run.tool.driver.rules[res.ruleIndex]!.id).toBe(res.ruleId);
    const gh = run.results.find((x) => x.ruleId === 'github-pat-classic')!;
    expect(gh.level).toBe('error');
    expect(gh.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'app/config.ts', uriBaseId: '%SRCROOT%' },
      region: { startLine: 2, startColumn: 30, endColumn: 70 },
    });
    expect(
      run.tool.driver.rules.find((x) => x.id === 'github-pat-classic')!.properties['security-severity'],
    ).toBe('9.5');
  });

  it('fails CI only on new findings with a baseline, even when a different secret lands on an accepted line', async () => {
    const work = join(dir, 'baseline-tree');
    mkdirSync(work);
    writeFileSync(join(work, 'a.ts'), `const GITHUB_TOKEN = "${tokenA}";\n`);
    const baseline = join(dir, 'baseline.json');
    const w = await runKeyward(['scan', '--write-baseline', baseline], { cwd: work });
    expect(w.code).toBe(0);
    expect(w.stderr).toContain('wrote 1 accepted finding(s)');
    noSecretIn(readFileSync(baseline, 'utf8'));

    writeFileSync(join(work, 'a.ts'), `// moved down\n\nconst GITHUB_TOKEN = "${tokenA}";\n`);
    const ok = await runKeyward(['scan', '--baseline', baseline, '--json'], { cwd: work });
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as JsonReport).stats.baselineAccepted).toBe(1);

    writeFileSync(join(work, 'a.ts'), `// moved down\n\nconst GITHUB_TOKEN = "${tokenB}";\n`);
    const changed = await runKeyward(['scan', '--baseline', baseline, '--json'], { cwd: work });
    expect(changed.code).toBe(1);
    expect(where(JSON.parse(changed.stdout) as JsonReport)).toEqual([['a.ts', 3, 'github-pat-classic']]);
  });
});

describe('keyward scan of a large tree', () => {
  it('spreads files over worker threads and reports the same findings as one thread', async () => {
    const big = join(dir, 'big');
    mkdirSync(big);
    const filler = `${'const value = compute(input, options); // nothing to see here\n'.repeat(16_000)}`;
    const planted: Array<[string, number, string]> = [];
    for (let i = 0; i < 12; i++) {
      const name = `part-${String(i).padStart(2, '0')}.ts`;
      const token = keep(g.githubToken(ghp));
      writeFileSync(join(big, name), `${filler}export const TOKEN_${i} = "${token}";\n${filler}`);
      planted.push([name, 16_001, 'github-pat-classic']);
    }
    const threaded = await runKeyward(['scan', '--json', '--workers', '2'], { timeoutMs: 60_000, cwd: big });
    const single = await runKeyward(['scan', '--json', '--workers', '0'], { timeoutMs: 60_000, cwd: big });
    const a = JSON.parse(threaded.stdout) as JsonReport & { stats: { workers: number; bytes: number } };
    const b = JSON.parse(single.stdout) as JsonReport & { stats: { workers: number } };
    expect(a.stats.workers).toBe(2);
    expect(b.stats.workers).toBe(0);
    expect(a.stats.bytes).toBeGreaterThan(8 * 1024 * 1024);
    expect(where(a)).toEqual(planted);
    // Each run fingerprints under its own key: equal within a run, different across runs.
    expect(new Set(a.findings.map((f) => f.fingerprint)).size).toBe(12);
    expect(where(b)).toEqual(planted);
    noSecretIn(threaded.stdout, single.stdout);
  });
});

describe('keyward scan --git, --staged and hooks install', () => {
  let repo: string;
  beforeAll(() => {
    repo = join(dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'deploy.sh'), `#!/bin/sh\nexport NPM_TOKEN=${npmToken}\nnpm publish\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'add deploy script');
    writeFileSync(join(repo, 'deploy.sh'), '#!/bin/sh\nnpm publish\n');
    git(repo, 'commit', '-q', '-am', 'remove token');
  });

  it('reports a secret added and later removed, with its commit and author', async () => {
    const r = await runKeyward(['scan', '--git', '--json'], { cwd: repo });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(where(report)).toEqual([['deploy.sh', 2, 'npm-access-token']]);
    const first = git(repo, 'rev-list', '--max-parents=0', 'HEAD').trim();
    expect(report.findings[0]!.commit).toMatchObject({ sha: first, author: 'Ada', email: 'ada@example.org' });
    expect(report.findings[0]!.source).toBe('git');
    noSecretIn(r.stdout, r.stderr);
    const recent = await runKeyward(['scan', '--git', 'HEAD~1..HEAD', '--json'], { cwd: repo });
    expect(recent.code).toBe(0);
  });

  it('refuses an option-looking range and a directory that is not a repository', async () => {
    const bad = await runKeyward(['scan', '--git=--output=/tmp/x'], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--git');
    const notRepo = await runKeyward(['scan', tree, '--git']);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toMatch(/not a git repository/i);
  });

  it('installs a pre-commit hook that stops a commit holding a secret', async () => {
    const r = await runKeyward(['hooks', 'install', '--command', `${process.execPath} ${CLI}`], {
      cwd: repo,
    });
    expect(r.code).toBe(0);
    const hook = join(repo, '.git', 'hooks', 'pre-commit');
    expect(readFileSync(hook, 'utf8')).toContain('scan --staged');
    chmodSync(hook, 0o755);
    writeFileSync(
      join(repo, 'notify.js'),
      `const hook = "https://hooks.slack.com/x";\nconst t = "${slack}";\n`,
    );
    git(repo, 'add', 'notify.js');
    let failed: { status: number; stdout: string; stderr: string } | null = null;
    try {
      git(repo, 'commit', '-q', '-m', 'notify');
    } catch (err) {
      failed = err as { status: number; stdout: string; stderr: string };
    }
    expect(failed?.status).toBe(1);
    // git hands the hook's output to the committer on stderr.
    const told = `${String(failed?.stdout)}${String(failed?.stderr)}`;
    expect(told).toContain('notify.js:2');
    noSecretIn(told);
    writeFileSync(join(repo, 'notify.js'), 'const t = process.env.SLACK_BOT_TOKEN;\n');
    git(repo, 'add', 'notify.js');
    git(repo, 'commit', '-q', '-m', 'notify');
    expect(git(repo, 'log', '--format=%s', '-1').trim()).toBe('notify');
    const again = await runKeyward(['hooks', 'install'], { cwd: repo });
    expect(again.code).toBe(0);
  });
});

describe('keyward hooks install with a hook of its own', () => {
  it("refuses to replace a pre-commit hook that is not Keyward's and leaves it as it was", async () => {
    const other = join(dir, 'other-repo');
    mkdirSync(other);
    git(other, 'init', '-q');
    const hook = join(other, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, '#!/bin/sh\nnpm run lint\n');
    const r = await runKeyward(['hooks', 'install'], { cwd: other });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'already exists and is not Keyward\'s; add "keyward scan --staged" to it, or use --force',
    );
    expect(readFileSync(hook, 'utf8')).toBe('#!/bin/sh\nnpm run lint\n');
    const forced = await runKeyward(['hooks', 'install', '--force'], { cwd: other });
    expect(forced.code).toBe(0);
    expect(readFileSync(hook, 'utf8')).toContain('scan --staged');
  });

  it('says so outside a git repository', async () => {
    const r = await runKeyward(['hooks', 'install'], { cwd: tree });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not inside a git repository');
  });
});

describe('keyward scan --stdin and --env', () => {
  it('scans standard input', async () => {
    const r = await runKeyward(['scan', '--stdin', '--json'], { stdin: `token: ${tokenB}\n` });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.findings.map((f) => [f.path, f.line, f.ruleId, f.source])).toEqual([
      ['-', 1, 'github-pat-classic', 'stdin'],
    ]);
    noSecretIn(r.stdout, r.stderr);
  });

  it('scans environment variables with their names as context', async () => {
    const r = await runKeyward(['scan', '--env', '--json', '--fail-on', 'none'], {
      env: { KW_TEST_GH: tokenA, KW_TEST_DB_PASSWORD: dbPassword },
    });
    expect(r.code).toBe(0);
    const ours = (JSON.parse(r.stdout) as JsonReport).findings.filter((f) => f.path.startsWith('KW_TEST_'));
    expect(ours.map((f) => [f.path, f.ruleId, f.keyName])).toEqual([
      ['KW_TEST_DB_PASSWORD', 'generic-secret-assignment', 'KW_TEST_DB_PASSWORD'],
      ['KW_TEST_GH', 'github-pat-classic', 'KW_TEST_GH'],
    ]);
    noSecretIn(r.stdout, r.stderr);
  });
});

describe('keyward scan --record', () => {
  it('stores each credential by fingerprint with its locations, and the inventory reports it (NHI2)', async () => {
    const data = join(dir, 'data');
    const r = await runKeyward(['--data-dir', data, 'scan', '--record', '--json'], { cwd: tree });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'recorded 5 credential(s) in the inventory (5 new, 5 new identities of unknown owner)',
    );
    const findings = await runKeyward(['--data-dir', data, 'findings', '--json']);
    const all = JSON.parse(findings.stdout) as { items: Array<{ ruleId: string; message: string }> };
    const nhi2 = all.items.filter((f) => f.ruleId === 'nhi2-secret-in-plaintext');
    expect(nhi2).toHaveLength(5);
    expect(nhi2.map((f) => f.message).join('\n')).toContain(join(tree, 'app/config.ts:2'));
    noSecretIn(r.stdout, r.stderr, findings.stdout);
    // The event log keeps the scan's evidence (rule, file, line, preview) for the dashboard; never a value.
    const db = new Database(join(data, 'keyward.db'), { readonly: true });
    const row = db
      .prepare("SELECT data FROM events WHERE type = 'inventory.batch.applied' ORDER BY seq DESC LIMIT 1")
      .get() as { data: string };
    db.close();
    const source = (JSON.parse(row.data) as { source: Record<string, unknown> }).source;
    const evidence = source.evidence as Array<{
      file: string;
      line: number;
      ruleId: string;
      preview: string;
    }>;
    expect(source).toMatchObject({ kind: 'secret-scan', findings: 5 });
    expect(Object.values(source.bySeverity as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(5);
    expect(evidence).toHaveLength(5);
    expect(evidence.map((e) => `${e.file}:${e.line}`)).toContain('app/config.ts:2');
    expect(evidence.every((e) => e.preview.includes('…'))).toBe(true);
    noSecretIn(row.data);
    // Recording again changes nothing: the same fingerprints, the same identities.
    const again = await runKeyward(['--data-dir', data, 'scan', '--record'], { cwd: tree });
    expect(again.stderr).toContain('(0 new, 0 new identities of unknown owner)');
  });
});

describe('bad input', () => {
  it.each([
    [['scan', '/no/such/dir'], '/no/such/dir does not exist'],
    [
      ['scan', '.', '--fail-on', 'severe'],
      '--fail-on must be one of low, medium, high, critical, none (got "severe")',
    ],
    [['scan', '.', '--format', 'xml'], '--format must be one of table, json, sarif (got "xml")'],
    [['scan', '.', '--max-file-size', 'big'], '--max-file-size must be a size such as 5MB'],
    [['scan', '.', '--workers', '-1'], '--workers must be an integer from 0 to 64'],
    [['scan', '--stdin', '--env'], 'choose one of --git, --staged, --stdin and --env'],
    [['scan', 'src', '--stdin'], 'paths cannot be combined with --stdin or --env'],
    [['scan', 'src', 'test', '--git'], '--git and --staged take one repository directory'],
    [
      ['scan', '.', '--baseline', '/no/baseline.json'],
      'baseline /no/baseline.json does not exist; create it with --write-baseline',
    ],
  ])('keyward %j says what is wrong', async (args, message) => {
    const r = await runKeyward(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it('names the file and field of a broken baseline', async () => {
    const file = join(dir, 'broken-baseline.json');
    writeFileSync(
      file,
      JSON.stringify({ version: 1, tool: 'keyward', salt: 'ab'.repeat(16), entries: [{ path: 'x' }] }),
    );
    const r = await runKeyward(['scan', tree, '--baseline', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: entries.0.ruleId:`);
  });
});

describe('the project itself', () => {
  it('has no credentials in its tree (CI scans itself)', async () => {
    const r = await runKeyward(['scan', '--json'], { timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(where(report)).toEqual([]);
    expect(r.code).toBe(0);
  });
});
