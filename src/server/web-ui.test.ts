import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from './test-support/test-server.js';
import { WEB_CSP } from './web-ui.js';

const INDEX =
  '<!doctype html><title>Keyward</title><script type="module" src="/assets/app-1a2b.js"></script>';
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

let dir: string;
let t: TestServer | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'app-1a2b.js'), 'console.log(1);\n');
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard', () => {
  it('serves index.html at / with its own Content-Security-Policy and no caching', async () => {
    t = await createTestServer({ server: { webRoot: dir } });
    const res = await t.server.inject({ method: 'GET', url: '/', headers: HTML });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(WEB_CSP);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body).toBe(INDEX);
  });

  it('answers a page path the app routes (a reload of /identities/idn_1) with index.html', async () => {
    t = await createTestServer({ server: { webRoot: dir } });
    for (const url of ['/identities', '/identities/idn_1?tab=graph', '/alerts/alt_9']) {
      const res = await t.server.inject({ method: 'GET', url, headers: HTML });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX);
    }
  });

  it('keeps JSON 404s for API paths, non-HTML requests and other methods', async () => {
    t = await createTestServer({ server: { webRoot: dir } });
    const api = await t.server.inject({ method: 'GET', url: '/api/v1/nope', headers: HTML });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'KW_NOT_FOUND' });
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    const json = await t.server.inject({
      method: 'GET',
      url: '/identities',
      headers: { accept: 'application/json' },
    });
    expect(json.statusCode).toBe(404);
    const post = await t.server.inject({ method: 'POST', url: '/identities', headers: HTML, payload: {} });
    expect(post.statusCode).toBe(404);
    const wellKnown = await t.server.inject({ method: 'GET', url: '/.well-known/nope', headers: HTML });
    expect(wellKnown.statusCode).toBe(404);
  });

  it('serves hashed assets with a year of immutable caching, and 404 for a missing one', async () => {
    t = await createTestServer({ server: { webRoot: dir } });
    const res = await t.server.inject({ method: 'GET', url: '/assets/app-1a2b.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript|^application\/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.body).toBe('console.log(1);\n');
    const missing = await t.server.inject({ method: 'GET', url: '/assets/nope.js', headers: HTML });
    expect(missing.statusCode).toBe(404);
    const escape = await t.server.inject({ method: 'GET', url: '/assets/..%2Findex.html' });
    expect(escape.statusCode).toBe(404);
  });

  it('without a build, / says how to build the dashboard and page paths stay 404', async () => {
    t = await createTestServer({ server: { webRoot: join(dir, 'nothing-here') } });
    const res = await t.server.inject({ method: 'GET', url: '/', headers: HTML });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'KW_NOT_FOUND' });
    expect(res.json().message).toContain('npm run build');
    const page = await t.server.inject({ method: 'GET', url: '/identities', headers: HTML });
    expect(page.statusCode).toBe(404);
  });
});
