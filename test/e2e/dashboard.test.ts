/**
 * The dashboard in a real browser: the built CLI serves it (`keyward serve --demo`), headless Chromium signs
 * in with the admin token, opens every page on the demo data, approves a pending request, acknowledges an
 * alert and accepts a finding, and nothing leaves 127.0.0.1, logs a console error or breaks the CSP.
 * Screenshots of every page (wide, narrow, dark) go to test-results/dashboard-*.png. A second test measures
 * the first paint of the identity list with 10,000 identities.
 *
 * Needs Chromium at /usr/bin/chromium (Debian's `chromium` package; .ci/run installs it). Without it the
 * tests are skipped with the reason printed, except in CI (CI set), where they fail.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  removeDir,
  requireBuild,
  ROOT,
  runKeyward,
  startServe,
  tempDir,
  type ServeProcess,
} from './e2e-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SHOTS = join(ROOT, 'test-results');
/** First row of the identity list with 10,000 identities must be visible within this after navigation. */
const FIRST_PAINT_LIMIT_MS = 1000;

const haveChromium = existsSync(CHROMIUM);
const mustRun = !!process.env.CI;
if (!haveChromium && !mustRun)
  console.log(`dashboard e2e skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

/** A page of a listing, as the API answers. */
interface ApiPage<T> {
  items: T[];
  total: number;
}

/** What the browser did that the tests forbid: requests elsewhere, console errors, failed requests. */
interface Watch {
  requests: string[];
  errors: string[];
}

/** Starts recording every request and console error of the context's pages. */
function watch(context: BrowserContext): Watch {
  const w: Watch = { requests: [], errors: [] };
  context.on('page', (page) => attach(page, w));
  return w;
}
function attach(page: Page, w: Watch): void {
  page.on('request', (r) => w.requests.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400)
      w.errors.push(`${page.url()}: ${r.request().method()} ${r.url()} answered ${r.status()}`);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const source = m.location().url;
    w.errors.push(`${page.url()}: ${m.text()}${source ? ` (${source})` : ''}`);
  });
  page.on('pageerror', (e) => w.errors.push(`${page.url()}: uncaught ${e.message}`));
}

/** Reports CSP violations into `window.__cspViolations` before any page script runs. */
async function recordCspViolations(context: BrowserContext): Promise<void> {
  // Strings, not functions: this file is type-checked without the DOM library.
  await context.addInitScript({
    content: `window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(e.violatedDirective + ' blocked ' + e.blockedURI));`,
  });
}
async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.__cspViolations ?? []');
}

/** Waits until the page has loaded its code and data: a heading, no "Loading…" left, and no error shown. */
async function settled(page: Page): Promise<void> {
  await page.locator('main h1').first().waitFor();
  // Polled from outside the page: waitForFunction evaluates its predicate with eval, which the CSP forbids.
  await expect
    .poll(() => page.locator('[role="status"]', { hasText: /^Loading…$/ }).count(), { timeout: 15_000 })
    .toBe(0);
  const errors = await page.locator('main .error[role="alert"]').allTextContents();
  expect(errors, `errors shown on ${page.url()}`).toEqual([]);
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`), fullPage: true });
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** An agent type whose refund scope needs a person's approval. */
const APPROVAL_POLICY = `agentType: dashboard-e2e
owner: e2e@example.com
tokens:
  maxTtl: 15m
  defaultTtl: 5m
allow:
  - resource: https://billing.example
    scopes: [invoices:refund]
    approval: [invoices:refund]
    approvalTimeout: 30m
`;

/** Registers an agent of that type and asks the broker for a refund token: the request waits for approval. */
async function requestApproval(dataDir: string, url: string): Promise<void> {
  const policy = join(dataDir, 'dashboard-e2e-policy.yaml');
  writeFileSync(policy, APPROVAL_POLICY);
  const applied = await runKeyward(['--data-dir', dataDir, 'agent-types', 'apply', policy, '--json']);
  expect(applied.code, applied.stderr).toBe(0);
  const registered = await runKeyward([
    '--data-dir',
    dataDir,
    'agents',
    'register',
    'dashboard-e2e',
    '--name',
    'refund-bot',
    '--json',
  ]);
  expect(registered.code, registered.stderr).toBe(0);
  const client = JSON.parse(registered.stdout) as { clientId: string; clientSecret: string };
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'invoices:refund',
      resource: 'https://billing.example',
    }).toString(),
  });
  expect(await res.json()).toMatchObject({ error: 'authorization_pending' });
}

let dir: string | undefined;
let serve: ServeProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!haveChromium) {
    if (mustRun)
      throw new Error(
        `the dashboard end-to-end tests need Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does)`,
      );
    return;
  }
  requireBuild();
  expect(existsSync(join(ROOT, 'dist', 'web', 'index.html')), 'dist/web was built').toBe(true);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await serve?.stop('SIGKILL');
  serve = undefined;
  removeDir(dir);
  dir = undefined;
});

describe.skipIf(!haveChromium && !mustRun)('dashboard in Chromium', () => {
  it('shows every page on the demo data, approves, acknowledges and accepts, all on 127.0.0.1', async () => {
    dir = tempDir('kw-dash-');
    const port = await freePort();
    serve = await startServe(['--demo', '--data-dir', dir, '--port', String(port)]);
    const url = serve.url;
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const api = async <T>(path: string, init?: { method: string; body: unknown }): Promise<T> => {
      const res = await fetch(`${url}/api/v1/${path}`, {
        method: init?.method ?? 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          ...(init ? { 'content-type': 'application/json' } : {}),
        },
        ...(init ? { body: JSON.stringify(init.body) } : {}),
      });
      const body = (await res.json()) as T;
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${JSON.stringify(body)}`);
      return body;
    };

    // What the demo data holds, read over the API, to look for on the pages.
    const identities = await api<ApiPage<{ id: string; name: string }>>('identities?limit=1&sort=risk');
    expect(identities.total).toBeGreaterThan(0);
    const identity = identities.items[0]!;
    const findings = await api<ApiPage<{ id: string; title: string; status: string }>>(
      'findings?status=open&limit=1000',
    );
    expect(findings.total).toBeGreaterThan(0);
    const alerts = await api<ApiPage<{ id: string; ruleTitle: string; acknowledgedAt: string | null }>>(
      'detect/alerts?acknowledged=false&limit=1',
    );
    expect(alerts.total, 'the demo data has open alerts').toBeGreaterThan(0);
    const alert = alerts.items[0]!;
    let pending = await api<ApiPage<{ id: string; agentId: string }>>(
      'broker/approvals?status=pending&limit=100',
    );
    if (pending.total === 0) {
      // The demo data should hold pending requests (dashboard contract); ask for one as an agent would.
      console.log('dashboard e2e: the demo data has no pending approval; requesting one through the broker');
      await requestApproval(dir!, url);
      pending = await api<ApiPage<{ id: string; agentId: string }>>(
        'broker/approvals?status=pending&limit=100',
      );
    }
    expect(pending.total, 'pending approval requests').toBeGreaterThan(0);
    const approval = pending.items[0]!;

    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const seen = watch(context);
    await recordCspViolations(context);
    const page = await context.newPage();
    await signIn(page, url, token);

    const visit = async (path: string, heading: string | RegExp, name: string) => {
      await page.goto(`${url}${path}`);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await settled(page);
      await shot(page, name);
    };

    await visit('/', 'Overview', 'overview');
    await visit('/identities', 'Identities', 'identities');
    await page.getByText(identity.name, { exact: true }).first().waitFor();
    await visit(`/identities/${identity.id}`, identity.name, 'identity');

    await visit('/findings', 'Findings', 'findings');
    const finding = findings.items[0]!;
    await page.getByRole('heading', { level: 2, name: finding.title }).first().waitFor();
    expect(await page.getByRole('navigation', { name: 'Findings by OWASP NHI category' }).isVisible()).toBe(
      true,
    );

    await visit('/alerts', 'Alerts', 'alerts');
    await page.getByRole('link', { name: alert.ruleTitle }).first().waitFor();
    await visit(`/alerts/${alert.id}`, alert.ruleTitle, 'alert');

    await visit('/approvals', 'Approvals', 'approvals');
    const pendingTable = page.getByRole('table', { name: 'Pending approval requests' });
    expect(await pendingTable.locator('tbody tr').count()).toBe(pending.total);

    await visit('/scans', 'Supply chain & scans', 'scans');
    for (const card of ['npm gate', 'Secret scan', 'Datasets']) {
      const result = page.getByRole('article', { name: card }).locator('dl.kv');
      expect(await result.count(), `${card} shows a recorded result`).toBe(1);
    }
    expect(
      await page.getByRole('table', { name: 'npm packages' }).locator('tbody tr').count(),
    ).toBeGreaterThan(0);
    expect(
      await page.getByRole('table', { name: 'Recent scans' }).locator('tbody tr').count(),
    ).toBeGreaterThan(0);

    await visit('/events', 'Event log', 'events');
    expect(await page.locator('table tbody tr').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByText(/^Chain intact: \d+ records checked/).waitFor();

    // Approve the first pending request: it moves to the decided list, and the broker has it approved.
    await page.goto(`${url}/approvals`);
    await page.getByRole('button', { name: new RegExp(`^Approve ${approval.id} for `) }).click();
    await page.getByText(new RegExp(`^Request ${approval.id} of .+ approved\\.$`)).waitFor();
    await page
      .getByRole('table', { name: 'Decided approval requests' })
      .getByRole('cell', { name: approval.id })
      .waitFor();
    const decided = await api<ApiPage<{ id: string; status: string }>>('broker/approvals?status=approved');
    expect(decided.items.map((a) => a.id)).toContain(approval.id);

    // Acknowledge the alert with a note.
    await page.goto(`${url}/alerts/${alert.id}`);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    const ackDialog = page.getByRole('dialog', { name: 'Acknowledge alert' });
    await ackDialog.getByLabel('Note (optional)').fill('seen in the e2e test');
    await ackDialog.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText(/acknowledged by .*: seen in the e2e test/).waitFor();
    const acked = await api<{ acknowledgedAt: string | null; ackNote: string | null }>(
      `detect/alerts/${alert.id}`,
    );
    expect(acked.ackNote).toBe('seen in the e2e test');
    expect(acked.acknowledgedAt).not.toBeNull();

    // Accept a finding: the reason is required, then the finding leaves the open list.
    await page.goto(`${url}/findings`);
    await page
      .getByRole('button', { name: `Accept ${finding.title}` })
      .first()
      .click();
    const dialog = page.getByRole('dialog', { name: 'Accept finding' });
    await dialog.getByRole('button', { name: 'Accept' }).click();
    await dialog.getByText('Reason is required.').waitFor();
    await dialog.getByLabel('Reason').fill('owned by the platform team, rotation planned');
    await dialog.getByRole('button', { name: 'Accept' }).click();
    await page.getByText(`Finding “${finding.title}” accepted.`).waitFor();
    const accepted = await api<ApiPage<{ id: string; statusReason: string | null }>>(
      'findings?status=accepted&limit=1000',
    );
    expect(accepted.items.find((f) => f.id === finding.id)?.statusReason).toBe(
      'owned by the platform team, rotation planned',
    );

    // Narrow screen: no page scrolls sideways (wide tables scroll inside their own boxes); then the dark theme.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of [
      '/',
      '/identities',
      `/identities/${identity.id}`,
      '/alerts',
      '/approvals',
      '/scans',
      '/events',
    ]) {
      await page.goto(`${url}${path}`);
      await settled(page);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(
        390,
      );
    }
    await page.goto(`${url}/findings`);
    await settled(page);
    expect(
      await page.evaluate<number>('document.documentElement.scrollWidth'),
      '/findings',
    ).toBeLessThanOrEqual(390);
    await shot(page, 'narrow');
    await page.getByRole('button', { name: 'Menu' }).click();
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${url}/`);
    await settled(page);
    expect(await page.evaluate<string>('document.documentElement.dataset.theme')).toBe('dark');
    await shot(page, 'dark');

    expect(await cspViolations(page)).toEqual([]);
    await context.close();
    const elsewhere = seen.requests.filter((u) => !u.startsWith(`${url}/`) && !/^(data|blob):/.test(u));
    expect(elsewhere).toEqual([]);
    expect(seen.requests.length).toBeGreaterThan(20);
    expect(seen.errors).toEqual([]);
  }, 120_000);

  it('paints the first identity of 10,000 within a second of navigation', async () => {
    dir = tempDir('kw-dash-10k-');
    const file = join(dir, 'service-accounts.json');
    const items = Array.from({ length: 10_000 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: `svc-${String(i).padStart(5, '0')}`,
        namespace: `team-${i % 40}`,
        labels: { owner: `team${i % 40}@example.com` },
      },
    }));
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const data = join(dir, 'data');
    const imported = await runKeyward(['--data-dir', data, 'import', 'kubernetes', file], {
      timeoutMs: 60_000,
    });
    expect(imported.code, imported.stderr).toBe(0);

    const port = await freePort();
    serve = await startServe(['--data-dir', data, '--port', String(port)]);
    const url = serve.url;
    const token = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    const count = (await (
      await fetch(`${url}/api/v1/identities?limit=1`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as ApiPage<unknown>;
    expect(count.total).toBe(10_000);

    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const seen = watch(context);
    const page = await context.newPage();
    await signIn(page, url, token);
    // Once to warm the server's caches and the browser's, as a returning user would be.
    await page.goto(`${url}/identities`);
    await page
      .getByText(/^team-\d+\/svc-\d{5}$/)
      .first()
      .waitFor();

    const start = Date.now();
    await page.goto(`${url}/identities`);
    await page
      .getByText(/^team-\d+\/svc-\d{5}$/)
      .first()
      .waitFor({ state: 'visible' });
    const elapsed = Date.now() - start;
    const inPage = await page.evaluate<number>('Math.round(performance.now())');
    console.log(
      `dashboard: first identity row of 10,000 visible ${elapsed} ms after navigation (page clock ${inPage} ms)`,
    );
    expect(elapsed).toBeLessThan(FIRST_PAINT_LIMIT_MS);
    await shot(page, 'identities-10k');
    await context.close();
    expect(seen.errors).toEqual([]);
  }, 120_000);
});
