import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from './cli-context.js';
import { runCli } from './cli-program.js';

/** A fake process: captured output, a temp data dir, and a shutdown signal the test fires. */
function fakeIo(options: { tty?: boolean } = {}) {
  let out = '';
  let err = '';
  let stop: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  const listeners: Array<(text: string) => void> = [];
  const io: CliIo = {
    stdout: {
      write: (t: string) => {
        out += t;
        for (const l of listeners) l(out);
        return true;
      },
      isTTY: options.tty ?? false,
      columns: 200,
    },
    stderr: { write: (t: string) => ((err += t), true) },
    env: {},
    now: () => new Date(),
    waitForShutdown: () => stopped,
  };
  return {
    io,
    out: () => out,
    err: () => err,
    stop,
    /** Resolves once stdout matches. */
    waitFor: (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve) => {
        const check = (text: string): void => {
          const m = re.exec(text);
          if (m) resolve(m);
        };
        listeners.push(check);
        check(out);
      }),
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI against the test's data directory. */
async function run(args: string[], options: { tty?: boolean } = {}) {
  const f = fakeIo(options);
  const code = await runCli(['--data-dir', dir, ...args], f.io);
  return { code, stdout: f.out(), stderr: f.err() };
}

describe('usage errors exit 2 with commander’s message', () => {
  it('prints help on stderr when no command is given', async () => {
    const f = fakeIo();
    expect(await runCli([], f.io)).toBe(2);
    expect(f.err()).toContain('Usage: keyward [options] [command]');
    expect(f.out()).toBe('');
  });

  it('rejects an unknown command, option, missing argument and invalid choice', async () => {
    const unknown = await run(['bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe("error: unknown command 'bogus'");

    const option = await run(['identities', '--nope']);
    expect(option.code).toBe(2);
    expect(option.stderr.split('\n')[0]).toBe("error: unknown option '--nope'");

    const missing = await run(['import', 'dotenv']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n')[0]).toBe("error: missing required argument 'file'");

    const severity = await run(['findings', '--severity', 'bogus']);
    expect(severity.code).toBe(2);
    expect(severity.stderr.split('\n')[0]).toBe(
      "error: option '--severity <min>' argument 'bogus' is invalid. Allowed choices are info, low, medium, high, critical.",
    );

    const limit = await run(['identities', '--limit', '0']);
    expect(limit.code).toBe(2);
    expect(limit.stderr.split('\n')[0]).toBe(
      "error: option '--limit <n>' argument '0' is invalid. Expected a whole number from 1 to 1000.",
    );
  });

  it('prints help and the version with exit 0', async () => {
    const help = await run(['findings', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--fail-on <severity>');
    const version = await run(['--version']);
    expect(version).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });
});

describe('input errors exit 2 with one line', () => {
  it('names a file that does not exist', async () => {
    const file = join(dir, 'missing.env');
    expect(await run(['import', 'dotenv', file])).toEqual({
      code: 2,
      stdout: '',
      stderr: `keyward: cannot read ${file}: no such file\n`,
    });
  });

  it('refuses a directory', async () => {
    expect(await run(['import', 'dotenv', dir])).toEqual({
      code: 2,
      stdout: '',
      stderr: `keyward: cannot read ${dir}: it is a directory, not a file\n`,
    });
  });

  it('says when `import auto` cannot tell the kind of a file', async () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'just some notes\n');
    expect(await run(['import', 'auto', file])).toEqual({
      code: 2,
      stdout: '',
      stderr: `keyward: cannot tell what kind of export ${file} is; name the kind: keyward import <mcp|dotenv|aws|kubernetes|github|directory> ${file}\n`,
    });
  });

  it('names an identity that does not exist', async () => {
    expect(await run(['identity', 'nobody'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'keyward: no identity with id or name "nobody"\n',
    });
  });

  it('names the field of a bad config file', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'port: lots\n');
    const r = await run(['--config', config, 'identities']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`keyward: invalid configuration in ${config}`);
    expect(r.stderr.split('\n')[1]).toMatch(/^ {2}at port: /);
  });

  it('rejects an unsupported database URL', async () => {
    const r = await run(['--database-url', 'mysql://x', 'identities']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'keyward: database URL must start with postgres://, postgresql:// or sqlite: (got "mysql:…")\n' +
        '  at KEYWARD_DATABASE_URL: unsupported scheme\n',
    );
  });
});

describe('listings on an empty store', () => {
  it('prints only the header row when piped, and a sentence on a terminal', async () => {
    expect(await run(['identities'])).toEqual({
      code: 0,
      stdout: 'name\tkind\tprovider\tenvironment\towner\trisk\tlast seen\n',
      stderr: '',
    });
    expect((await run(['identities'], { tty: true })).stdout).toBe('no identities match\n');
    expect((await run(['findings'])).stdout).toBe('severity\towasp\trule\tidentity\tmessage\n');
  });

  it('prints JSON with --json before or after the command', async () => {
    const page = { items: [], total: 0, limit: 100, offset: 0 };
    expect(JSON.parse((await run(['identities', '--json'])).stdout)).toEqual(page);
    expect(JSON.parse((await run(['--json', 'identities'])).stdout)).toEqual(page);
    expect(JSON.parse((await run(['findings', '--json'])).stdout)).toEqual({ items: [], total: 0 });
  });

  it('passes --fail-on when there are no findings', async () => {
    expect((await run(['findings', '--fail-on', 'high'])).code).toBe(0);
  });
});

describe('import', () => {
  it('detects the kind with `auto` and prints a summary', async () => {
    const file = join(dir, 'orders-api.env');
    writeFileSync(file, 'LOG_LEVEL=debug\nOPENAI_API_KEY=sk-proj-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000unit\n');
    const r = await run(['import', 'auto', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(
      /^imported dotenv file .*orders-api\.env \(\d+ B, sha256 [0-9a-f]{12}…\)$/,
    );
    expect(r.stdout).toContain('  credentials  1        0        0\n');
    expect(r.stdout).not.toContain('FAKEFAKE');
  });
});

describe('with the demo data set', () => {
  it('loads it idempotently, lists, fails on high findings, shows detail and graph, verifies the log', async () => {
    const first = await run(['demo', 'load']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^demo data set loaded \(5 batches\)\n/);
    expect(first.stdout).toMatch(/^ {2}identities {3}50 {7}0 {8}0$/m);
    const again = await run(['demo', 'load', '--json']);
    const summary = JSON.parse(again.stdout) as { changes: Array<{ identities: { created: number } }> };
    expect(summary.changes.reduce((n, c) => n + c.identities.created, 0)).toBe(0);

    const ids = JSON.parse((await run(['identities', '--json', '--kind', 'ai-agent'])).stdout) as {
      total: number;
      items: Array<{ kind: string }>;
    };
    expect(ids.total).toBe(8);
    expect(ids.items.every((i) => i.kind === 'ai-agent')).toBe(true);

    const paged = await run(['identities', '--limit', '2']);
    expect(paged.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(paged.stderr).toBe('showing 1–2 of 50 identities; use --offset 2 for more\n');

    const failing = await run(['findings', '--fail-on', 'high']);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/^keyward: \d+ findings at or above high \(--fail-on high\)\n$/);
    const high = JSON.parse((await run(['findings', '--severity', 'high', '--json'])).stdout) as {
      items: Array<{ severity: string; identityName: string | null }>;
      total: number;
    };
    expect(high.total).toBeGreaterThan(0);
    expect(high.items.every((f) => f.severity === 'high' || f.severity === 'critical')).toBe(true);
    expect(high.items.every((f) => typeof f.identityName === 'string')).toBe(true);

    const nhi5 = JSON.parse((await run(['findings', '--owasp', 'NHI5', '--json'])).stdout) as {
      items: Array<{ owasp: string }>;
    };
    expect(nhi5.items.length).toBeGreaterThan(0);
    expect(nhi5.items.every((f) => f.owasp === 'NHI5')).toBe(true);

    const detail = await run(['identity', 'terraform-admin']);
    expect(detail.code).toBe(0);
    expect(detail.stdout).toMatch(/^name {9}terraform-admin$/m);
    expect(detail.stdout).toMatch(/^credentials \(\d+\)$/m);
    expect(detail.stdout).toMatch(/^grants \(\d+\)$/m);
    expect(detail.stdout).toMatch(/^risk \d+\/100$/m);

    const graph = await run(['graph', 'terraform-admin']);
    expect(graph.code).toBe(0);
    expect(graph.stdout.split('\n')[0]).toMatch(/^terraform-admin \(service-account, aws, /);
    expect(graph.stdout).toMatch(/^\|- credentials \(\d+\)$/m);
    expect(graph.stdout).toMatch(/^`- grants \(\d+\)$/m);
    const graphJson = JSON.parse((await run(['graph', 'terraform-admin', '--json'])).stdout) as {
      nodes: unknown[];
    };
    expect(graphJson.nodes.length).toBeGreaterThan(1);

    const audit = await run(['audit', 'verify']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(
      /^ok: \d+ records, chain intact \(last hash [0-9a-f]{64}\)\nanchor: \d+:[0-9a-f]{64} /,
    );
  });
});

describe('operator commands', () => {
  it('migrate reports what it applied, then that nothing is pending', async () => {
    const first = await run(['migrate']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied migrations? 1(, \d+)* to the sqlite store\n$/);
    expect(await run(['migrate'])).toEqual({
      code: 0,
      stdout: 'the sqlite store is up to date; no migrations to apply\n',
      stderr: '',
    });
    expect(JSON.parse((await run(['migrate', '--json'])).stdout)).toEqual({ dialect: 'sqlite', applied: [] });
  });

  it('admin-token rotate writes a new 0600 token file and prints only its path', async () => {
    const file = join(dir, 'admin.token');
    const r = await run(['admin-token', 'rotate']);
    expect(r).toEqual({
      code: 0,
      stdout: `admin token rotated; the new token is in ${file} (the old one no longer works)\n`,
      stderr: '',
    });
    const token = readFileSync(file, 'utf8').trim();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await run(['admin-token', 'rotate']);
    expect(readFileSync(file, 'utf8').trim()).not.toBe(token);
  });
});

describe('serve', () => {
  it('listens, prints the URL, the token file and an example, and stops on a signal', async () => {
    const f = fakeIo();
    const done = runCli(['--data-dir', dir, 'serve', '--port', '0'], f.io);
    const [, url] = await f.waitFor(/^keyward listening on (http:\/\/127\.0\.0\.1:\d+)$/m);
    const file = join(dir, 'admin.token');
    expect(f.out().split('\n').slice(1)).toEqual([
      `admin token: created on first start and written to ${file} (mode 0600)`,
      `dashboard: ${url}/ (sign in with the admin token)`,
      `try: curl -H "Authorization: Bearer $(cat ${file})" '${url}/api/v1/findings?minSeverity=high'`,
      '',
    ]);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const token = readFileSync(file, 'utf8').trim();
    expect(f.out()).not.toContain(token);
    expect(f.err()).not.toContain(token);
    f.stop('SIGTERM');
    expect(await done).toBe(0);
    expect(f.err()).toContain('keyward: SIGTERM received, shutting down\n');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('says the token file is gone and how to make a new one', async () => {
    expect((await run(['admin-token', 'rotate'])).code).toBe(0);
    rmSync(join(dir, 'admin.token'));
    const f = fakeIo();
    const done = runCli(['--data-dir', dir, 'serve', '--port', '0'], f.io);
    await f.waitFor(/^keyward listening on /m);
    expect(f.out()).toContain(
      `admin token: the file ${join(dir, 'admin.token')} is gone; run \`keyward admin-token rotate\` to make a new one\n`,
    );
    expect(existsSync(join(dir, 'admin.token'))).toBe(false);
    f.stop('SIGINT');
    expect(await done).toBe(0);
  });
});

describe('keyward findings --status', () => {
  it('lists open findings by default, and accepted, resolved or all on request', async () => {
    expect((await run(['demo', 'load'])).code).toBe(0);
    const { loadConfig } = await import('../app/app-config.js');
    const { openApp } = await import('../app/app.js');
    const app = await openApp(loadConfig({ env: {}, flags: { dataDir: dir } }));
    let accepted: string;
    try {
      const [first] = (await app.store.listFindings({ limit: 1 })).items;
      accepted = first!.id;
      await app.store.setFindingStatus(
        accepted,
        { status: 'accepted', reason: 'test' },
        { time: new Date().toISOString(), actor: 'test' },
      );
    } finally {
      await app.close();
    }
    const ids = async (...args: string[]) =>
      (
        JSON.parse((await run(['findings', '--json', ...args])).stdout) as { items: Array<{ id: string }> }
      ).items.map((f) => f.id);
    const all = await ids('--status', 'all');
    expect(all).toContain(accepted);
    expect(await ids()).toEqual(all.filter((id) => id !== accepted));
    expect(await ids('--status', 'accepted')).toEqual([accepted]);
    expect(await ids('--status', 'resolved')).toEqual([]);
    expect((await run(['findings', '--status', 'closed'])).code).not.toBe(0);
  }, 60_000);
});
