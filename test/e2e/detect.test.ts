/** Detection as a user runs it: the built CLI over rule and event files, and `keyward serve` detecting live. */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  removeDir,
  requireBuild,
  ROOT,
  runKeyward,
  startServe,
  tempDir,
  type ServeProcess,
} from './e2e-helpers.js';

const PACK = join(ROOT, 'rules', 'keyward');
const SPRAY = '5455b8a1-685f-5ae2-8f2f-d3274e024d8d';

async function until<T>(probe: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('keyward rules check and detect (built CLI)', () => {
  let dir: string;
  beforeAll(() => {
    requireBuild();
    dir = tempDir();
  });
  afterAll(() => removeDir(dir));

  it('the built-in pack checks clean', async () => {
    const r = await runKeyward(['--data-dir', dir, 'rules', 'check', PACK]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(
      /^33 files, \d+ rules: \d+ ok, 0 with errors \(\d+ detections, 0 filters, \d+ correlations\)$/,
    );
  });

  it('detect finds the burst of secret reads in its fixture, as SARIF, and fails on it', async () => {
    const events = join(PACK, 'fixtures', 'aws-secrets-read-burst', 'positive.ndjson');
    const r = await runKeyward([
      '--data-dir',
      dir,
      'detect',
      '--output',
      'sarif',
      '--fail-on',
      'medium',
      events,
    ]);
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      runs: Array<{ results: Array<{ ruleId: string }> }>;
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.results.length).toBeGreaterThan(0);
    const negative = join(PACK, 'fixtures', 'aws-secrets-read-burst', 'negative.ndjson');
    const quiet = await runKeyward(['--data-dir', dir, 'detect', '--output', 'json', negative]);
    expect(quiet.code).toBe(0);
    const ids = (JSON.parse(quiet.stdout) as Array<{ finding_info: { analytic: { uid: string } } }>).map(
      (f) => f.finding_info.analytic.uid,
    );
    const burstId = /^id: (\S+)$/m.exec(
      readFileSync(join(PACK, 'aws-secrets-read-burst.yml'), 'utf8').split('\n---\n').pop()!,
    )![1];
    expect(ids).not.toContain(burstId);
  });
});

describe('keyward serve detects live', () => {
  let dir: string;
  let serve: ServeProcess | undefined;
  let hook: Server | undefined;
  const received: Array<{ alert: { ruleId: string; summary: string } }> = [];
  let token = '';

  beforeAll(async () => {
    requireBuild();
    dir = tempDir();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as { alert: { ruleId: string; summary: string } });
        res.end();
      });
    });
    await new Promise<void>((r) => hook!.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;
    writeFileSync(
      join(dir, 'keyward.yaml'),
      `detect:\n  logPollIntervalMs: 100\n  webhooks:\n    - name: siem\n      url: http://127.0.0.1:${port}/alerts\n`,
    );
    serve = await startServe(['--data-dir', dir, '--port', '0']);
    token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  }, 60_000);
  afterAll(async () => {
    await serve?.stop('SIGKILL');
    await new Promise((r) => (hook ? hook.close(r) : r(undefined)));
    removeDir(dir);
  });

  it('a client-credential spray against the token endpoint raises an alert from the event log, sent to the webhook', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${serve!.url}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`kwc_spray${i}xxxxxx:wrong`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&scope=read&resource=https://api.example',
      });
      expect(res.status).toBe(401);
    }
    const alert = await until(async () => {
      const res = await fetch(`${serve!.url}/api/v1/detect/alerts?ruleId=${SPRAY}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const page = (await res.json()) as {
        items: Array<{ ruleId: string; summary: string; groupKey: Record<string, unknown> }>;
      };
      return page.items[0];
    });
    expect(alert.groupKey).toEqual({ 'data.sourceIp': '127.0.0.1' });
    await until(async () => received.some((b) => b.alert.ruleId === SPRAY));
    const status = await fetch(`${serve!.url}/api/v1/detect/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await status.json()).toMatchObject({ running: true, report: { ok: true } });
  });

  it('records posted to the API are evaluated and their alerts listed by the CLI', async () => {
    const lines = readFileSync(
      join(PACK, 'fixtures', 'aws-nhi-key-browser-user-agent', 'positive.ndjson'),
      'utf8',
    );
    const res = await fetch(`${serve!.url}/api/v1/detect/events?format=cloudtrail`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: lines,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { accepted: number }).accepted).toBeGreaterThan(0);
    const listed = await runKeyward(['--data-dir', dir, 'alerts', 'list', '--level', 'high']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/browser|user agent/i);
  });
});
