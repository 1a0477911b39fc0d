/** `keyward serve` as a user runs it: a child process on a free port, spoken to over HTTP, stopped by a signal. */
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FIXTURES,
  freePort,
  removeDir,
  requireBuild,
  runKeyward,
  startServe,
  tempDir,
  type ServeProcess,
} from './e2e-helpers.js';

let dir: string;
let serve: ServeProcess | null = null;
let blocker: Server | null = null;

beforeEach(() => {
  requireBuild();
  dir = tempDir();
});
afterEach(async () => {
  await serve?.stop('SIGKILL');
  serve = null;
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = null;
  removeDir(dir);
});

describe('keyward serve (SQLite)', () => {
  it('serves the API behind the admin token, imports over HTTP, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    serve = await startServe(['--data-dir', dir, '--port', String(port)]);
    const url = `http://127.0.0.1:${port}`;
    expect(serve.url).toBe(url);
    const tokenFile = join(dir, 'admin.token');
    expect(serve.stdout().split('\n')).toEqual([
      `keyward listening on ${url}`,
      `admin token: created on first start and written to ${tokenFile} (mode 0600)`,
      `dashboard: ${url}/ (sign in with the admin token)`,
      `try: curl -H "Authorization: Bearer $(cat ${tokenFile})" '${url}/api/v1/findings?minSeverity=high'`,
      '',
    ]);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(serve.stdout()).not.toContain(token);
    expect(serve.stderr()).not.toContain(token);

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const anonymous = await fetch(`${url}/api/v1/identities`);
    expect(anonymous.status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    const empty = await fetch(`${url}/api/v1/identities`, { headers: auth });
    expect(empty.status).toBe(200);
    expect(await empty.json()).toMatchObject({ items: [], total: 0 });

    const imported = await fetch(`${url}/api/v1/imports/dotenv?filename=billing-api.env`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: readFileSync(join(FIXTURES, 'billing-api.env')),
    });
    expect(imported.status).toBe(201);
    expect(await imported.json()).toMatchObject({ kind: 'dotenv', changes: { identities: { created: 1 } } });

    const after = (await (await fetch(`${url}/api/v1/identities`, { headers: auth })).json()) as {
      items: Array<{ name: string }>;
      total: number;
    };
    expect(after.total).toBe(1);
    expect(after.items[0]!.name).toBe('billing-api');

    expect(await serve.stop('SIGTERM')).toBe(0);
    expect(serve.stderr()).toContain('keyward: SIGTERM received, shutting down');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    // The store was closed cleanly: the CLI sees what was imported over HTTP.
    const listed = await runKeyward(['--data-dir', dir, 'identities']);
    expect(listed.stdout.split('\n')[1]).toMatch(/^billing-api\t/);
  });

  it('says where the token is on a later start, and exits 0 on SIGINT', async () => {
    const first = await startServe(['--data-dir', dir, '--port', '0']);
    expect(await first.stop('SIGINT')).toBe(0);
    serve = await startServe(['--data-dir', dir, '--port', '0']);
    expect(serve.stdout().split('\n')[1]).toBe(
      `admin token: in ${join(dir, 'admin.token')} (written on first start)`,
    );
  });

  it('with --port 0, the broker advertises the address it really listens on', async () => {
    serve = await startServe(['--data-dir', dir, '--port', '0']);
    const res = await fetch(`${serve.url}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const meta = (await res.json()) as { issuer: string; token_endpoint: string };
    expect(meta.issuer).toBe(serve.url);
    expect(meta.token_endpoint).toBe(`${serve.url}/oauth/token`);
  });

  it('loads the demo data set with --demo into an empty store', async () => {
    serve = await startServe(['--data-dir', dir, '--port', '0', '--demo']);
    expect(serve.stdout()).toContain('demo data set loaded: 50 identities\n');
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const res = await fetch(`${serve.url}/api/v1/findings?minSeverity=high`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { total: number }).total).toBeGreaterThan(0);
  });

  it('exits 2 with a clear message when the port is taken', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', resolve));
    const r = await runKeyward(['--data-dir', dir, 'serve', '--port', String(port)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `keyward: cannot listen on 127.0.0.1:${port}: the port is already in use; stop the other process or choose another port with --port\n`,
    );
  });

  it('rejects a port out of range', async () => {
    const r = await runKeyward(['--data-dir', dir, 'serve', '--port', '70000']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      "error: option '--port <port>' argument '70000' is invalid. Expected a whole number from 0 to 65535.",
    );
  });
});
