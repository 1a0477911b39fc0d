/** The serve → import → identities flow against PostgreSQL, each test in a database of its own. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  FIXTURES,
  removeDir,
  requireBuild,
  runJson,
  runKeyward,
  startServe,
  tempDir,
  type ServeProcess,
} from './e2e-helpers.js';

let dir: string;
let db: { url: string; drop(): Promise<void> } | undefined;
let serve: ServeProcess | null = null;

beforeEach(async () => {
  requireBuild();
  dir = tempDir();
  db = await createTestDatabase();
});
afterEach(async () => {
  await serve?.stop('SIGKILL');
  serve = null;
  await db?.drop();
  db = undefined;
  removeDir(dir);
});

describe('keyward against PostgreSQL', () => {
  it('migrates, serves, imports over HTTP and from the CLI, lists, and verifies the log', async () => {
    const g = ['--data-dir', dir, '--database-url', db!.url];
    const m = await runKeyward([...g, 'migrate']);
    expect(m.stderr).toBe('');
    expect(m.stdout).toMatch(/^applied migrations? 1(, \d+)* to the postgres store\n$/);

    serve = await startServe([...g, '--port', '0']);
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${serve.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${serve.url}/api/v1/identities`)).status).toBe(401);

    const imported = await fetch(`${serve.url}/api/v1/imports/dotenv?filename=billing-api.env`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: readFileSync(join(FIXTURES, 'billing-api.env')),
    });
    expect(imported.status).toBe(201);

    const listed = (await (await fetch(`${serve.url}/api/v1/identities`, { headers: auth })).json()) as {
      total: number;
    };
    expect(listed.total).toBe(1);
    expect(await serve.stop('SIGTERM')).toBe(0);

    // The CLI, in another process, reads and writes the same database.
    const cli = await runKeyward([...g, 'import', 'dotenv', join(FIXTURES, 'billing-api.env')]);
    expect(cli.code).toBe(0);
    const ids = await runJson<{ items: Array<{ name: string; provider: string }>; total: number }>([
      ...g,
      'identities',
    ]);
    expect(ids.total).toBe(2);
    expect(ids.items.map((i) => i.name)).toEqual(['billing-api', 'billing-api']);

    const leaks = await runJson<{ items: Array<{ owasp: string }> }>([...g, 'findings', '--owasp', 'NHI2']);
    expect(leaks.items.length).toBeGreaterThanOrEqual(2);

    const audit = await runKeyward([...g, 'audit', 'verify']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(
      /^ok: \d+ records, chain intact \(last hash [0-9a-f]{64}\)\nanchor: \d+:[0-9a-f]{64} /,
    );
  });

  it('names the database in a connection failure and exits 3', async () => {
    const url = new URL(db!.url);
    url.port = '1';
    const r = await runKeyward(['--data-dir', dir, '--database-url', url.toString(), 'identities']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^keyward: .+ \(run again with --verbose to see the cause\)\n$/);
    const verbose = await runKeyward([
      '--data-dir',
      dir,
      '--database-url',
      url.toString(),
      '--verbose',
      'identities',
    ]);
    expect(verbose.code).toBe(3);
    expect(verbose.stderr).toMatch(/^ {2}cause: .*ECONNREFUSED/m);
  });
});
