import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-limits.js';
import { createRegistryClient } from './registry-client.js';
import { RegistryError } from './registry-errors.js';
import { makePackageTarball } from './tarball-test-support.js';

interface Seen {
  url: string;
  authorization: string | undefined;
}

/** A tiny registry on 127.0.0.1: routes map a path to a status and body; every request is recorded. */
class FakeRegistry {
  readonly seen: Seen[] = [];
  readonly routes = new Map<
    string,
    { status: number; body?: Buffer | string; headers?: Record<string, string> }
  >();
  private server = http.createServer((req, res) => {
    this.seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const route = this.routes.get(req.url ?? '');
    if (route === undefined) {
      res.writeHead(404).end('{"error":"Not found"}');
      return;
    }
    res.writeHead(route.status, route.headers).end(route.body);
  });
  base = '';
  host = '';

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const { port } = this.server.address() as AddressInfo;
    this.host = `127.0.0.1:${port}`;
    this.base = `http://${this.host}`;
    return this;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  json(pathname: string, doc: unknown): void {
    this.routes.set(pathname, {
      status: 200,
      body: JSON.stringify(doc),
      headers: { 'content-type': 'application/json' },
    });
  }
}

function sri(bytes: Buffer, algo = 'sha512'): string {
  return `${algo}-${createHash(algo).update(bytes).digest('base64')}`;
}

function packument(
  name: string,
  versions: Record<string, Record<string, unknown>>,
  tags: Record<string, string>,
) {
  return { name, 'dist-tags': tags, versions };
}

let tmp: string;
let cwd: string;
let home: string;
let main: FakeRegistry;
let other: FakeRegistry;

beforeEach(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'kw-registry-'));
  cwd = path.join(tmp, 'project');
  home = path.join(tmp, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  main = await new FakeRegistry().start();
  other = await new FakeRegistry().start();
});
afterEach(async () => {
  await main.stop();
  await other.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const TOKEN = 'npm_test-token-value-1234';

describe('createRegistryClient', () => {
  it('fetches a packument, resolves versions and fetches a verified tarball with the token', async () => {
    const tgz = await makePackageTarball(
      'demo',
      '1.1.0',
      { 'index.js': 'x' },
      { scripts: { test: 'vitest' } },
    );
    const published = {
      name: 'demo',
      version: '1.1.0',
      dist: { tarball: `${main.base}/demo/-/demo-1.1.0.tgz`, integrity: sri(tgz) },
    };
    main.json(
      '/demo',
      packument(
        'demo',
        {
          '1.0.0': { name: 'demo', version: '1.0.0', dist: { tarball: 'x' } },
          '1.1.0': published,
          '2.0.0-beta.1': { name: 'demo', version: '2.0.0-beta.1', dist: { tarball: 'x' } },
          '1.2.0': { name: 'demo', version: '1.2.0', dist: { tarball: 'x' } },
        },
        { latest: '1.1.0', next: '2.0.0-beta.1' },
      ),
    );
    main.routes.set('/demo/-/demo-1.1.0.tgz', { status: 200, body: tgz });
    writeFileSync(
      path.join(cwd, '.npmrc'),
      `registry=${main.base}/\n//${main.host}/:_authToken=\${KW_TOKEN}\n`,
    );
    const client = createRegistryClient({ cwd, home, env: { KW_TOKEN: TOKEN } });

    expect(await client.resolve('demo', 'latest')).toBe('1.1.0');
    expect(await client.resolve('demo', '')).toBe('1.1.0');
    expect(await client.resolve('demo', 'next')).toBe('2.0.0-beta.1');
    expect(await client.resolve('demo', '^1.0.0')).toBe('1.1.0'); // latest wins when it satisfies
    expect(await client.resolve('demo', '>=1.2.0 <2')).toBe('1.2.0');
    expect(await client.resolve('demo', '1.0.0')).toBe('1.0.0');
    await expect(client.resolve('demo', '3.0.0')).rejects.toThrow(
      `version 3.0.0 of demo not found on ${main.base}/`,
    );
    await expect(client.resolve('demo', '^5')).rejects.toThrow(
      `no version of demo on ${main.base}/ matches ^5`,
    );
    await expect(client.resolve('demo', 'no such tag!')).rejects.toThrow(RegistryError);

    const got = await client.fetchTarball('demo', '1.1.0');
    expect(got.tarballUrl).toBe(`${main.base}/demo/-/demo-1.1.0.tgz`);
    expect(got.integrity).toBe(sri(tgz));
    expect(got.published).toEqual(published);
    expect(got.contents.origin).toEqual({ kind: 'registry', location: got.tarballUrl });
    expect(got.contents.manifest['scripts']).toEqual({ test: 'vitest' });
    expect(got.contents.files.map((f) => f.path)).toEqual(['index.js', 'package.json']);
    // The packument is fetched once; every request carried the token of this host.
    expect(main.seen.map((s) => s.url)).toEqual(['/demo', '/demo/-/demo-1.1.0.tgz']);
    expect(main.seen.map((s) => s.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
  });

  it('sends a scope to its registry, escaped, and the token only to its host', async () => {
    const tgz = await makePackageTarball('@corp/lib', '1.0.0');
    other.json(
      '/@corp%2flib',
      packument(
        '@corp/lib',
        { '1.0.0': { dist: { tarball: `${main.base}/cdn/lib-1.0.0.tgz`, integrity: sri(tgz) } } },
        {
          latest: '1.0.0',
        },
      ),
    );
    main.routes.set('/cdn/lib-1.0.0.tgz', { status: 200, body: tgz });
    writeFileSync(path.join(home, '.npmrc'), `registry=${main.base}/\n`);
    writeFileSync(
      path.join(cwd, '.npmrc'),
      `@corp:registry=${other.base}/\n//${other.host}/:_authToken=${TOKEN}\n`,
    );
    const client = createRegistryClient({ cwd, home, env: {} });
    expect(client.registryFor('@corp/lib')).toBe(`${other.base}/`);
    const got = await client.fetchTarball('@corp/lib', '1.0.0');
    expect(got.contents.name).toBe('@corp/lib');
    expect(other.seen).toEqual([{ url: '/@corp%2flib', authorization: `Bearer ${TOKEN}` }]);
    expect(main.seen).toEqual([{ url: '/cdn/lib-1.0.0.tgz', authorization: undefined }]);
  });

  it('matches tokens on the path prefix and drops them on a redirect to another host', async () => {
    const tgz = await makePackageTarball('demo', '1.0.0');
    main.json(
      '/private/demo',
      packument(
        'demo',
        { '1.0.0': { dist: { tarball: `${main.base}/private/demo.tgz`, integrity: sri(tgz) } } },
        {
          latest: '1.0.0',
        },
      ),
    );
    main.routes.set('/private/demo.tgz', {
      status: 302,
      headers: { location: `${other.base}/blob/demo.tgz` },
    });
    other.routes.set('/blob/demo.tgz', { status: 200, body: tgz });
    writeFileSync(
      path.join(cwd, '.npmrc'),
      `registry=${main.base}/private/\n//${main.host}/private/:_authToken=${TOKEN}\n`,
    );
    const client = createRegistryClient({ cwd, home, env: {} });
    const got = await client.fetchTarball('demo', '1.0.0');
    expect(got.contents.version).toBe('1.0.0');
    expect(main.seen.map((s) => s.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(other.seen).toEqual([{ url: '/blob/demo.tgz', authorization: undefined }]);

    main.seen.length = 0;
    const publicClient = createRegistryClient({
      cwd,
      home,
      env: { npm_config_registry: `${main.base}/public/` },
    });
    await expect(publicClient.packument('demo')).rejects.toThrow(
      `package demo not found on ${main.base}/public/`,
    );
    expect(main.seen).toEqual([{ url: '/public/demo', authorization: undefined }]);
  });

  it('refuses a tarball whose integrity or shasum does not match, before unpacking', async () => {
    const tgz = await makePackageTarball('demo', '1.0.0');
    const wrong = await makePackageTarball('demo', '6.6.6');
    const sha1 = createHash('sha1').update(tgz).digest('hex');
    main.json(
      '/demo',
      packument(
        'demo',
        {
          '1.0.0': { dist: { tarball: `${main.base}/demo.tgz`, integrity: sri(wrong), shasum: sha1 } },
          '1.0.1': { dist: { tarball: `${main.base}/demo.tgz`, shasum: sha1 } },
          '1.0.2': { dist: { tarball: `${main.base}/demo.tgz`, shasum: '0'.repeat(40) } },
          '1.0.3': { dist: { tarball: `${main.base}/demo.tgz` } },
          '1.0.4': {
            dist: { tarball: `${main.base}/demo.tgz`, integrity: `${sri(wrong, 'sha1')} ${sri(tgz)}` },
          },
        },
        {},
      ),
    );
    main.routes.set('/demo.tgz', { status: 200, body: tgz });
    const client = createRegistryClient({ cwd, home, env: { npm_config_registry: main.base } });
    await expect(client.fetchTarball('demo', '1.0.0')).rejects.toThrow(
      `tarball of demo@1.0.0 from ${main.base}/demo.tgz does not match its published sha512 integrity; it was not unpacked`,
    );
    const bySha1 = await client.fetchTarball('demo', '1.0.1');
    expect(bySha1.integrity).toBe(sri(tgz, 'sha1'));
    expect(bySha1.contents.notes).toEqual(["the tarball's package.json says demo@1.0.0, not demo@1.0.1"]);
    await expect(client.fetchTarball('demo', '1.0.2')).rejects.toThrow(
      'does not match its published sha1 shasum',
    );
    const unverified = await client.fetchTarball('demo', '1.0.3');
    expect(unverified.integrity).toBeNull();
    expect(unverified.contents.notes).toEqual([
      "the tarball's package.json says demo@1.0.0, not demo@1.0.3",
      'the registry gave no integrity or shasum for demo@1.0.3; the tarball was not verified',
    ]);
    // The strongest algorithm listed decides.
    expect((await client.fetchTarball('demo', '1.0.4')).integrity).toBe(`${sri(wrong, 'sha1')} ${sri(tgz)}`);
  });

  it('reports 404, missing versions, refusals, bad documents, size limits, network errors and timeouts clearly', async () => {
    writeFileSync(path.join(cwd, '.npmrc'), `registry=${main.base}/\n//${main.host}/:_authToken=${TOKEN}\n`);
    const client = createRegistryClient({ cwd, home, env: {}, timeoutMs: 300, maxTarballBytes: 100 });
    await expect(client.packument('nope')).rejects.toThrow(`package nope not found on ${main.base}/`);
    await expect(client.packument('../etc')).rejects.toThrow('"../etc" is not a valid npm package name');

    main.json(
      '/demo',
      packument(
        'demo',
        {
          '1.0.0': { dist: { tarball: `${main.base}/big.tgz` } },
          '1.0.1': { dist: { tarball: `${main.base}/big-declared.tgz` } },
        },
        {},
      ),
    );
    main.routes.set('/big.tgz', { status: 200, body: Buffer.alloc(500) });
    main.routes.set('/big-declared.tgz', {
      status: 200,
      body: Buffer.alloc(500),
      headers: { 'content-length': '500' },
    });
    await expect(client.fetchTarball('demo', '9.9.9')).rejects.toThrow(
      `version 9.9.9 of demo not found on ${main.base}/`,
    );
    await expect(client.fetchTarball('demo', '1.0.0')).rejects.toThrow(
      `${main.base}/big.tgz is more than 100 bytes (demo@1.0.0)`,
    );
    await expect(client.fetchTarball('demo', '1.0.1')).rejects.toThrow(
      `${main.base}/big-declared.tgz is 500 bytes, above the limit of 100 (demo@1.0.1)`,
    );

    main.routes.set('/secret', { status: 401 });
    const refused = await client.packument('secret').catch((e: unknown) => e as RegistryError);
    expect(refused).toBeInstanceOf(RegistryError);
    expect(refused.message).toBe(
      `${main.base}/secret refused access (HTTP 401) for secret; check the token configured for it in .npmrc`,
    );
    main.routes.set('/broken', { status: 500 });
    await expect(client.packument('broken')).rejects.toThrow(
      `${main.base}/broken answered HTTP 500 for broken`,
    );
    main.routes.set('/notjson', { status: 200, body: '<html>' });
    await expect(client.packument('notjson')).rejects.toThrow(
      `${main.base}/ sent a document for notjson that is not JSON`,
    );
    main.json('/badshape', { name: 'badshape', versions: [] });
    await expect(client.packument('badshape')).rejects.toThrow(
      `${main.base}/ sent a malformed document for badshape (versions:`,
    );

    const slow = http.createServer(() => undefined); // never answers
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const slowPort = (slow.address() as AddressInfo).port;
    const slowClient = createRegistryClient({
      cwd: tmp,
      home,
      env: { npm_config_registry: `http://127.0.0.1:${slowPort}/` },
      timeoutMs: 200,
    });
    await expect(slowClient.packument('x')).rejects.toThrow(
      `http://127.0.0.1:${slowPort}/x did not answer within 200 ms (x)`,
    );
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));

    const deadClient = createRegistryClient({
      cwd: tmp,
      home,
      env: { npm_config_registry: `http://127.0.0.1:${slowPort}/` },
    });
    await expect(deadClient.packument('x')).rejects.toThrow(
      `could not reach http://127.0.0.1:${slowPort}/x for x (ECONNREFUSED)`,
    );

    for (const err of [refused]) {
      expect(err.message).not.toContain(TOKEN);
      expect(JSON.stringify(err.details)).not.toContain(TOKEN);
    }
  });

  it('passes unsafe tarballs through readTarball', async () => {
    const { makeTarball } = await import('./tarball-test-support.js');
    const evil = await makeTarball([
      { path: 'package/package.json', content: '{"name":"demo","version":"1.0.0"}' },
      { path: '../../evil', content: 'x' },
    ]);
    main.json(
      '/demo',
      packument('demo', { '1.0.0': { dist: { tarball: `${main.base}/e.tgz`, integrity: sri(evil) } } }, {}),
    );
    main.routes.set('/e.tgz', { status: 200, body: evil });
    const client = createRegistryClient({ cwd, home, env: { npm_config_registry: main.base } });
    await expect(client.fetchTarball('demo', '1.0.0')).rejects.toThrow(ArchiveError);
  });

  it('uses an injected fetch', async () => {
    const calls: string[] = [];
    const client = createRegistryClient({
      cwd,
      home,
      env: {},
      fetch: async (url) => {
        calls.push(url);
        return { status: 404, headers: new Headers(), body: null };
      },
    });
    await expect(client.packument('@a/b')).rejects.toThrow(
      'package @a/b not found on https://registry.npmjs.org/',
    );
    expect(calls).toEqual(['https://registry.npmjs.org/@a%2fb']);
  });

  it('uses an undici Dispatcher, and notes a tarball whose package.json names another package', async () => {
    const tgz = await makePackageTarball('impostor', '0.0.1');
    main.json(
      '/demo',
      packument('demo', { '1.0.0': { dist: { tarball: `${main.base}/d.tgz`, integrity: sri(tgz) } } }, {}),
    );
    main.routes.set('/d.tgz', { status: 200, body: tgz });
    const agent = new Agent();
    try {
      const client = createRegistryClient({
        cwd,
        home,
        env: { npm_config_registry: main.base },
        fetch: agent,
      });
      const got = await client.fetchTarball('demo', '1.0.0');
      expect(got.contents.notes).toEqual(["the tarball's package.json says impostor@0.0.1, not demo@1.0.0"]);
    } finally {
      await agent.close();
    }
  });
});
