/** The built `keyward` CLI against a temporary SQLite store: imports, listings, exit codes, the audit chain. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES, removeDir, requireBuild, runJson, runKeyward, tempDir } from './e2e-helpers.js';

const ENV_FIXTURE = join(FIXTURES, 'billing-api.env');

interface IdentityPage {
  items: Array<{ id: string; name: string; kind: string; provider: string }>;
  total: number;
}
interface FindingList {
  items: Array<{
    ruleId: string;
    owasp: string;
    severity: string;
    identityName: string | null;
    message: string;
  }>;
  total: number;
}

let dir: string;
beforeEach(() => {
  requireBuild();
  dir = tempDir();
});
afterEach(() => removeDir(dir));

const kw = (...args: string[]) => runKeyward(['--data-dir', dir, ...args]);
const kwJson = <T>(...args: string[]) => runJson<T>(['--data-dir', dir, ...args]);

describe('import → identities → findings', () => {
  it('imports a .env file and shows its identity and the leaked secrets', async () => {
    const imported = await kw('import', 'dotenv', ENV_FIXTURE);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const lines = imported.stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^imported dotenv file ${ENV_FIXTURE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ B, sha256 [0-9a-f]{12}…\\)$`,
      ),
    );
    expect(lines).toContain('  identities   1        0        0');
    expect(lines).toContain('  credentials  2        0        0');

    const ids = await kwJson<IdentityPage>('identities');
    expect(ids.total).toBe(1);
    expect(ids.items[0]).toMatchObject({ name: 'billing-api', kind: 'workload', provider: 'dotenv' });

    const text = await kw('identities');
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toBe('name\tkind\tprovider\tenvironment\towner\trisk\tlast seen');
    expect(text.stdout.split('\n')[1]).toMatch(/^billing-api\tworkload\tdotenv\t/);

    const leaks = await kwJson<FindingList>('findings', '--owasp', 'NHI2');
    expect(leaks.total).toBeGreaterThanOrEqual(2);
    expect(leaks.items.every((f) => f.owasp === 'NHI2' && f.identityName === 'billing-api')).toBe(true);
    expect(leaks.items.map((f) => f.message).join('\n')).toContain('OPENAI_API_KEY');
    // Never the secret itself: previews only.
    expect(JSON.stringify(leaks)).not.toContain('FAKEFAKEFAKEFAKEFAKEFAKE');

    const again = await kwJson<{ changes: { identities: { unchanged: number } } }>(
      'import',
      'dotenv',
      ENV_FIXTURE,
    );
    expect(again.changes.identities.unchanged).toBe(1);

    const detail = await kw('identity', 'billing-api');
    expect(detail.code).toBe(0);
    expect(detail.stdout).toMatch(/^credentials \(2\)$/m);
    expect(detail.stdout).not.toContain('FAKEFAKEFAKEFAKEFAKEFAKE');
  });
});

describe('import auto', () => {
  it('detects a .env file', async () => {
    const r = await kwJson<{ kind: string; changes: { credentials: { created: number } } }>(
      'import',
      'auto',
      ENV_FIXTURE,
    );
    expect(r.kind).toBe('dotenv');
    expect(r.changes.credentials.created).toBe(2);
  });
});

describe('--fail-on', () => {
  it('exits 1 on the demo data set, which has high findings', async () => {
    expect((await kw('demo', 'load')).code).toBe(0);
    const r = await kw('findings', '--fail-on', 'high');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyward: \d+ findings at or above high \(--fail-on high\)\n$/);
  });

  it('exits 0 on an empty store', async () => {
    expect(await kw('findings', '--fail-on', 'high')).toEqual({
      code: 0,
      stdout: 'severity\towasp\trule\tidentity\tmessage\n',
      stderr: '',
    });
  });
});

describe('bad input exits 2 with a clear message', () => {
  it('names a file that does not exist', async () => {
    const file = join(dir, 'nope.env');
    expect(await kw('import', 'dotenv', file)).toEqual({
      code: 2,
      stdout: '',
      stderr: `keyward: cannot read ${file}: no such file\n`,
    });
  });

  it('rejects an unknown import kind with the valid ones', async () => {
    const r = await kw('import', 'bogus', ENV_FIXTURE);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      "error: command-argument value 'bogus' is invalid for argument 'kind'. Allowed choices are mcp, dotenv, aws, kubernetes, github, directory, auto.",
    );
    expect(r.stdout).toBe('');
  });

  it('rejects --severity bogus with the valid severities', async () => {
    const r = await kw('findings', '--severity', 'bogus');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      "error: option '--severity <min>' argument 'bogus' is invalid. Allowed choices are info, low, medium, high, critical.",
    );
  });

  it('rejects --owasp NHI11 with the valid ids', async () => {
    const r = await kw('findings', '--owasp', 'NHI11');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      "error: option '--owasp <id>' argument 'NHI11' is invalid. Allowed choices are NHI1, NHI2, NHI3, NHI4, NHI5, NHI6, NHI7, NHI8, NHI9, NHI10.",
    );
  });

  it('reports an invalid file with where it is wrong and leaves the store unchanged', async () => {
    const r = await kw('import', 'mcp', join(FIXTURES, 'not-json.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^keyward: .*not-json\.json/);
    expect(r.stderr).not.toMatch(/^\s+at .*\.js:\d+/m);
    expect((await kwJson<IdentityPage>('identities')).total).toBe(0);
  });

  it('rejects unknown commands and options', async () => {
    const cmd = await kw('frobnicate');
    expect(cmd.code).toBe(2);
    expect(cmd.stderr.split('\n')[0]).toBe("error: unknown command 'frobnicate'");
    const opt = await kw('identities', '--colour');
    expect(opt.code).toBe(2);
    expect(opt.stderr.split('\n')[0]).toMatch(/^error: unknown option '--colour'/);
  });
});

describe('audit verify', () => {
  it('passes on an untouched log, then names seq 2 after the file is edited', async () => {
    expect((await kw('import', 'dotenv', ENV_FIXTURE)).code).toBe(0);
    const ok = await kw('audit', 'verify');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^ok: \d+ records, chain intact \(last hash [0-9a-f]{64}\)\nanchor: \d+:[0-9a-f]{64} /,
    );
    const n = Number(/^ok: (\d+)/.exec(ok.stdout)![1]);
    expect(n).toBeGreaterThanOrEqual(2);

    const db = new Database(join(dir, 'keyward.db'));
    try {
      const changed = db
        .prepare('UPDATE events SET data = ? WHERE seq = 2')
        .run(JSON.stringify({ tampered: true }));
      expect(changed.changes).toBe(1);
    } finally {
      db.close();
    }

    const bad = await kw('audit', 'verify');
    expect(bad.code).toBe(1);
    expect(bad.stdout.split('\n')[0]).toMatch(/^broken: record seq 2 \(changed\): /);
    const json = await runKeyward(['--data-dir', dir, 'audit', 'verify', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      checked: 1,
      problem: { seq: 2, kind: 'changed' },
    });
  });
});

describe('audit verify --anchor', () => {
  it('detects records removed from the end of the log, which a plain verify cannot', async () => {
    expect((await kw('import', 'dotenv', ENV_FIXTURE)).code).toBe(0);
    const first = await kw('audit', 'verify');
    const anchor = /^anchor: (\d+:[0-9a-f]{64}) /m.exec(first.stdout)![1]!;
    const lastSeq = Number(anchor.split(':')[0]);

    const db = new Database(join(dir, 'keyward.db'));
    try {
      expect(db.prepare('DELETE FROM events WHERE seq = ?').run(lastSeq).changes).toBe(1);
    } finally {
      db.close();
    }
    expect((await kw('audit', 'verify')).code).toBe(0);
    const cut = await kw('audit', 'verify', '--anchor', anchor);
    expect(cut.code).toBe(1);
    expect(cut.stdout.split('\n')[0]).toMatch(new RegExp(`^broken: record seq ${lastSeq} \\(missing\\): `));

    const bad = await kw('audit', 'verify', '--anchor', 'nonsense');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--anchor must be <seq>:<64 hex digits>');
  });
});

describe('operator commands', () => {
  it('migrate, demo load twice, admin-token rotate', async () => {
    const m = await kw('migrate');
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/^applied migrations? 1(, \d+)* to the sqlite store\n$/);

    const first = await kwJson<{ changes: Array<{ identities: { created: number } }> }>('demo', 'load');
    const second = await kwJson<{ changes: Array<{ identities: { created: number; updated: number } }> }>(
      'demo',
      'load',
    );
    expect(first.changes.reduce((n, c) => n + c.identities.created, 0)).toBe(50);
    expect(second.changes.reduce((n, c) => n + c.identities.created + c.identities.updated, 0)).toBe(0);

    const rotated = await kw('admin-token', 'rotate');
    expect(rotated).toEqual({
      code: 0,
      stdout: `admin token rotated; the new token is in ${join(dir, 'admin.token')} (the old one no longer works)\n`,
      stderr: '',
    });
  });
});
