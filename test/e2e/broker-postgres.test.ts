/**
 * The credential broker across processes on PostgreSQL: two `keyward serve` children share one database
 * (same master key and issuer, each with its own data directory); the CLI administers the same database.
 * Revocations written by one process are enforced by the other within a second; approvals requested at one
 * are collected at the other; the event log of broker events detects tampering done directly in PostgreSQL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, removeDir, requireBuild } from './e2e-helpers.js';
import {
  cli,
  cliJson,
  dataDirWithMasterKey,
  getToken,
  introspect,
  jwtClaims,
  newMasterKey,
  pollUntil,
  postForm,
  proxyGet,
  registerAgent,
  SHARED_ISSUER,
  startNode,
  startUpstream,
  type Client,
  type Node,
  type RecordingUpstream,
} from './broker-postgres-support.js';

const POLICY = `agentType: pg-agent
owner: e2e@example.com
tokens:
  maxTtl: 15m
  defaultTtl: 5m
allow:
  - resource: keyward:upstream:tickets
    scopes: [tickets:read]
  - resource: https://billing.example
    scopes: [invoices:refund]
    approval: [invoices:refund]
    approvalTimeout: 10m
  - resource: https://deploy.example
    scopes: [deploy:prod]
    approval: [deploy:prod]
    approvalTimeout: 2s
`;
const TICKETS = 'keyward:upstream:tickets';
const UPSTREAM_SECRET = 'tk_live_e2e_0123456789abcdef';
const CIBA = 'urn:openid:params:grant-type:ciba';
/** Revocations must reach the other process within this (docs/broker.md: 250 ms poll, "well under a second"). */
const REVOCATION_LIMIT_MS = 1000;

type Db = { url: string; drop(): Promise<void> };

/** An approval request as `keyward approvals list --json` prints it. */
interface Approval {
  id: string;
  agentId: string;
  scopes: string[];
  resource: string | null;
  status: string;
  requestedAt: string;
  expiresAt: string;
  decidedBy: string | null;
  reason: string | null;
  tokenJti: string | null;
}

/** Writes the policy and the upstream's credential into the directory; applies both with the CLI. */
async function setUpBroker(db: Db, dir: string, upstreamBaseUrl: string): Promise<void> {
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  writeFileSync(join(dir, 'tickets.secret'), UPSTREAM_SECRET + '\n', { mode: 0o600 });
  const applied = await cli(db.url, dir, 'agent-types', 'apply', join(dir, 'policy.yaml'));
  expect(applied).toEqual({
    code: 0,
    stdout: 'created agent type pg-agent (policy version 1)\n',
    stderr: '',
  });
  const upstream = await cli(
    db.url,
    dir,
    'upstreams',
    'add',
    'tickets',
    '--base-url',
    upstreamBaseUrl,
    '--auth',
    'header',
    '--header',
    'X-Api-Key',
    '--secret-file',
    join(dir, 'tickets.secret'),
    '--route',
    'tickets:read GET /tickets/*',
  );
  expect(upstream.code, upstream.stderr).toBe(0);
}

/** The token is accepted at the node: introspection active, and the proxy forwards a call with it. */
async function expectAccepted(
  node: Node,
  client: Client & { agentId: string },
  token: string,
  upstream: RecordingUpstream,
): Promise<void> {
  const seen = await introspect(node, client, token);
  expect(seen.status).toBe(200);
  expect(seen.body).toMatchObject({
    active: true,
    iss: SHARED_ISSUER,
    sub: client.agentId,
    client_id: client.clientId,
    scope: 'tickets:read',
    token_type: 'Bearer',
  });
  const before = upstream.requests.length;
  const call = await proxyGet(node, 'tickets', '/tickets/42', token);
  expect(call.status).toBe(200);
  expect(call.body).toEqual({ ok: true, path: '/api/tickets/42' });
  expect(upstream.requests).toHaveLength(before + 1);
  const forwarded = upstream.requests[before]!;
  expect(forwarded.method).toBe('GET');
  expect(forwarded.headers['x-api-key']).toBe(UPSTREAM_SECRET);
  expect(forwarded.headers.authorization).toBeUndefined();
}

/** Whether the node refuses the token both at introspection and at the proxy. */
async function refusedAt(node: Node, client: Client, token: string): Promise<boolean> {
  const [seen, call] = await Promise.all([
    introspect(node, client, token),
    proxyGet(node, 'tickets', '/tickets/42', token),
  ]);
  return seen.body.active === false && call.status === 401;
}

/** The exact refusal of a revoked token: RFC 7662 `{active:false}`, and the proxy's 401 `invalid_token`. */
async function expectRevokedAt(
  node: Node,
  client: Client,
  token: string,
  upstream: RecordingUpstream,
): Promise<void> {
  const seen = await introspect(node, client, token);
  expect(seen).toMatchObject({ status: 200, body: { active: false } });
  expect(seen.body).toEqual({ active: false });
  const before = upstream.requests.length;
  const call = await proxyGet(node, 'tickets', '/tickets/42', token);
  expect(call.status).toBe(401);
  expect(call.body).toEqual({
    error: 'invalid_token',
    error_description: 'access token has been revoked',
  });
  expect(call.headers.get('www-authenticate')).toMatch(/^Bearer (realm="keyward", )?error="invalid_token"/);
  expect(call.headers.get('cache-control')).toBe('no-store');
  expect(upstream.requests).toHaveLength(before);
}

describe('the broker on PostgreSQL with two keyward serve processes', () => {
  let db: Db | undefined;
  let dirA = '';
  let dirB = '';
  let a: Node | undefined;
  let b: Node | undefined;
  let upstream: RecordingUpstream | undefined;

  beforeAll(async () => {
    requireBuild();
    db = await createTestDatabase();
    const masterKey = newMasterKey();
    dirA = dataDirWithMasterKey(masterKey);
    dirB = dataDirWithMasterKey(masterKey);
    upstream = await startUpstream();
    await setUpBroker(db, dirA, upstream.baseUrl);
    a = await startNode(db.url, dirA);
    b = await startNode(db.url, dirB);
  }, 120_000);

  afterAll(async () => {
    await a?.serve.stop('SIGKILL');
    await b?.serve.stop('SIGKILL');
    await upstream?.close();
    await db?.drop();
    removeDir(dirA);
    removeDir(dirB);
  });

  it('a token revoked at A (RFC 7009, then revoke --agent) is refused at B within a second', async () => {
    const client = await registerAgent(db!.url, dirA, 'pg-agent', 'revoked-bot');

    // 1. The agent revokes its own token at A.
    const first = await getToken(a!, client, 'tickets:read', TICKETS);
    await expectAccepted(b!, client, first, upstream!);
    const revoked = await postForm(`${a!.url}/oauth/revoke`, client, { token: first });
    const answered = performance.now();
    expect(revoked).toMatchObject({ status: 200, body: {} });
    // The process that wrote the revocation enforces it at once.
    expect(await refusedAt(a!, client, first)).toBe(true);
    const refused = await pollUntil(() => refusedAt(b!, client, first), {
      everyMs: 50,
      timeoutMs: 10_000,
      what: 'B refusing the token revoked at A',
    });
    expect(refused - answered).toBeLessThan(REVOCATION_LIMIT_MS);
    await expectRevokedAt(b!, client, first, upstream!);
    await expectRevokedAt(a!, client, first, upstream!);

    // 2. An administrator revokes everything of the agent with the CLI: tokens issued by A and by B.
    const fromA = await getToken(a!, client, 'tickets:read', TICKETS);
    const fromB = await getToken(b!, client, 'tickets:read', TICKETS);
    await expectAccepted(b!, client, fromA, upstream!);
    await expectAccepted(a!, client, fromB, upstream!);
    const admin = await cli(db!.url, dirA, 'revoke', '--agent', client.clientId, '--reason', 'e2e');
    const exited = performance.now();
    expect(admin).toEqual({ code: 0, stdout: `revoked: agent ${client.clientId}\n`, stderr: '' });
    const bothRefused = await pollUntil(
      async () => (await refusedAt(b!, client, fromA)) && (await refusedAt(a!, client, fromB)),
      { everyMs: 50, timeoutMs: 10_000, what: 'both processes refusing the agent revoked by the CLI' },
    );
    expect(bothRefused - exited).toBeLessThan(REVOCATION_LIMIT_MS);
    await expectRevokedAt(b!, client, fromA, upstream!);
    await expectRevokedAt(a!, client, fromB, upstream!);
  }, 120_000);

  it('a request that needs approval is pending at A, polled at B, approved, denied or expired by the CLI', async () => {
    const client = await registerAgent(db!.url, dirA, 'pg-agent', 'approval-bot');
    const ask = (node: Node, scope: string, resource: string) =>
      postForm(`${node.url}/oauth/token`, client, { grant_type: 'client_credentials', scope, resource });
    const poll = (node: Node, id: string) =>
      postForm(`${node.url}/oauth/token`, client, { grant_type: CIBA, auth_req_id: id });

    // 1. Asked at A: pending, with the id to poll for and the interval.
    const asked = await ask(a!, 'invoices:refund', 'https://billing.example');
    expect(asked.status).toBe(400);
    expect(asked.headers.get('cache-control')).toBe('no-store');
    const id = String(asked.body.auth_req_id);
    expect(id).toMatch(/^apr_/);
    expect(asked.body).toEqual({
      error: 'authorization_pending',
      error_description: `a person must approve invoices:refund; poll with grant_type=${CIBA} and this auth_req_id every 5 seconds`,
      auth_req_id: id,
      interval: 5,
    });

    const listed = await cliJson<{ items: Approval[]; total: number }>(db!.url, dirA, 'approvals', 'list');
    expect(listed.items.find((i) => i.id === id)).toMatchObject({
      id,
      agentId: client.agentId,
      scopes: ['invoices:refund'],
      resource: 'https://billing.example',
      status: 'pending',
      decidedBy: null,
      tokenJti: null,
    });

    // 2. Polled at B sooner than 5 s after the request at A: slow_down, the pace being shared by the
    // processes (RFC 8628 §3.5); polled again at once: the interval grows by another 5 seconds.
    const tooSoon = await poll(b!, id);
    expect(tooSoon).toMatchObject({ status: 400, body: { error: 'slow_down', interval: 10 } });
    const tooFast = await poll(a!, id);
    expect(tooFast).toMatchObject({ status: 400, body: { error: 'slow_down', interval: 15 } });

    // 3. Approved with the CLI: the next poll at B gets the token, carrying the approval.
    const approved = await cli(
      db!.url,
      dirA,
      'approvals',
      'approve',
      id,
      '--as',
      'farid@example.com',
      '--reason',
      'ticket 42',
    );
    expect(approved).toEqual({
      code: 0,
      stdout: `approved ${id} (invoices:refund) as farid@example.com\n`,
      stderr: '',
    });
    const granted = await poll(b!, id);
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    expect(granted.body).toMatchObject({ token_type: 'Bearer', scope: 'invoices:refund', expires_in: 300 });
    const claims = jwtClaims(String(granted.body.access_token));
    expect(claims).toMatchObject({
      iss: SHARED_ISSUER,
      sub: client.agentId,
      aud: 'https://billing.example',
      client_id: client.clientId,
      scope: 'invoices:refund',
      approval: { id, approver: 'farid@example.com' },
    });
    expect((await introspect(a!, client, String(granted.body.access_token))).body).toMatchObject({
      active: true,
    });

    // 4. One approval, one token: polling again, at either process, is refused.
    for (const node of [b!, a!]) {
      const again = await poll(node, id);
      expect(again).toMatchObject({
        status: 400,
        body: { error: 'invalid_grant', error_description: 'this approval was already used for a token' },
      });
    }
    const used = await cliJson<{ items: Approval[] }>(
      db!.url,
      dirA,
      'approvals',
      'list',
      '--status',
      'approved',
    );
    expect(used.items.find((i) => i.id === id)).toMatchObject({
      status: 'approved',
      decidedBy: 'farid@example.com',
      reason: 'ticket 42',
      tokenJti: claims.jti,
    });

    // 5. A second request, denied with the CLI: access_denied at B.
    const second = await ask(a!, 'invoices:refund', 'https://billing.example');
    const deniedId = String(second.body.auth_req_id);
    expect(second.body.error).toBe('authorization_pending');
    const denied = await cli(db!.url, dirA, 'approvals', 'deny', deniedId, '--as', 'farid@example.com');
    expect(denied).toEqual({
      code: 0,
      stdout: `denied ${deniedId} (invoices:refund) as farid@example.com\n`,
      stderr: '',
    });
    expect(await poll(b!, deniedId)).toMatchObject({
      status: 400,
      body: { error: 'access_denied', error_description: 'a person denied the request' },
    });

    // 6. A third request nobody decides (approvalTimeout 2s): expired_token at B once the deadline passed.
    const third = await ask(a!, 'deploy:prod', 'https://deploy.example');
    const expiringId = String(third.body.auth_req_id);
    expect(third.body.error).toBe('authorization_pending');
    let last: Record<string, unknown> = {};
    await pollUntil(
      async () => {
        const r = await poll(b!, expiringId);
        expect(r.status).toBe(400);
        last = r.body;
        return r.body.error !== 'authorization_pending' && r.body.error !== 'slow_down';
      },
      { everyMs: 250, timeoutMs: 15_000, what: 'the approval expiring' },
    );
    expect(last).toEqual({
      error: 'expired_token',
      error_description: 'nobody approved the request before its deadline; ask again',
    });
    const expired = await cliJson<{ items: Approval[] }>(
      db!.url,
      dirA,
      'approvals',
      'list',
      '--status',
      'expired',
    );
    const record = expired.items.find((i) => i.id === expiringId);
    expect(record).toMatchObject({ status: 'expired', scopes: ['deploy:prod'], tokenJti: null });
    expect(Date.parse(record!.expiresAt) - Date.parse(record!.requestedAt)).toBe(2000);
    // Too late to decide it now.
    const late = await cli(db!.url, dirA, 'approvals', 'approve', expiringId);
    expect(late).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `keyward: approval ${expiringId} is expired: only a pending request can be decided\n` +
        '  at status: is expired, not pending\n',
    });
  }, 120_000);
});

/** A row of the events table (src/store/migrations.ts). */
interface EventRow {
  seq: string;
  id: string;
  time: string;
  type: string;
  actor: string;
  subject: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

/** What `keyward audit verify --json` prints. */
type Verification =
  | { ok: true; checked: number; lastSeq: number; lastHash: string }
  | { ok: false; checked: number; problem: { seq: number; kind: string; message: string } };

describe('the event log of broker events on PostgreSQL', () => {
  let db: Db | undefined;
  let dir = '';
  let node: Node | undefined;
  let sql: pg.Client | undefined;

  beforeAll(async () => {
    requireBuild();
    db = await createTestDatabase();
    dir = dataDirWithMasterKey(newMasterKey());
    // The upstream is registered but never called here.
    await setUpBroker(db, dir, 'http://127.0.0.1:9/api');
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await node?.serve.stop('SIGKILL');
    await db?.drop();
    removeDir(dir);
  });

  const verify = () => cli(db!.url, dir, 'audit', 'verify');
  const verifyJson = async (): Promise<Verification> => {
    const r = await cli(db!.url, dir, 'audit', 'verify', '--json');
    expect([0, 1]).toContain(r.code);
    return JSON.parse(r.stdout) as Verification;
  };
  const insert = (c: pg.Client, r: EventRow, seq: string = r.seq) =>
    c.query(
      'INSERT INTO events (seq, id, time, type, actor, subject, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [seq, r.id, r.time, r.type, r.actor, r.subject, r.data, r.prev_hash, r.hash],
    );
  /** Runs `change` in a transaction, checks what verify reports, and puts the log back as it was. */
  const tampered = async (
    change: (c: pg.Client) => Promise<unknown>,
    restore: (c: pg.Client) => Promise<unknown>,
    expected: { seq: number; kind: string; message: string; checked: number },
    intact: Verification,
  ): Promise<void> => {
    await sql!.query('BEGIN');
    await change(sql!);
    await sql!.query('COMMIT');
    const text = await verify();
    expect(text).toEqual({
      code: 1,
      stdout:
        `broken: record seq ${expected.seq} (${expected.kind}): ${expected.message}\n` +
        `${expected.checked} record${expected.checked === 1 ? '' : 's'} checked intact before it; the event log was changed outside Keyward\n`,
      stderr: '',
    });
    expect(await verifyJson()).toEqual({
      ok: false,
      checked: expected.checked,
      problem: { seq: expected.seq, kind: expected.kind, message: expected.message },
    });
    await sql!.query('BEGIN');
    await restore(sql!);
    await sql!.query('COMMIT');
    expect(await verifyJson()).toEqual(intact);
  };

  it('audit verify passes after issuances and revocations, and names a changed, deleted or swapped record', async () => {
    node = await startNode(db!.url, dir);
    const client = await registerAgent(db!.url, dir, 'pg-agent', 'audited-bot');
    const first = await getToken(node, client, 'tickets:read', TICKETS);
    await getToken(node, client, 'tickets:read', TICKETS);
    expect((await postForm(`${node.url}/oauth/revoke`, client, { token: first })).status).toBe(200);
    const refused = await postForm(`${node.url}/oauth/token`, client, {
      grant_type: 'client_credentials',
      scope: 'tickets:write',
      resource: TICKETS,
    });
    expect(refused.body.error).toBe('invalid_scope');
    expect((await cli(db!.url, dir, 'revoke', '--agent', client.clientId)).code).toBe(0);
    expect(await node.serve.stop('SIGTERM')).toBe(0);
    node = undefined;

    const ok = await verify();
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(
      /^ok: \d+ records, chain intact \(last hash [0-9a-f]{64}\)\nanchor: \d+:[0-9a-f]{64} /,
    );
    const intact = await verifyJson();
    expect(intact.ok).toBe(true);

    sql = new pg.Client({ connectionString: db!.url });
    await sql.connect();
    const rows = (await sql.query<EventRow>('SELECT * FROM events ORDER BY seq')).rows;
    expect(intact).toMatchObject({ checked: rows.length, lastSeq: Number(rows.at(-1)!.seq) });
    const types = rows.map((r) => r.type);
    expect(types.filter((t) => t === 'broker.token.issued')).toHaveLength(2);
    expect(types.filter((t) => t === 'broker.revocation.added')).toHaveLength(2);
    expect(types).toContain('broker.token.denied');
    const issued = rows.find((r) => r.type === 'broker.token.issued')!;
    const revocation = rows.find((r) => r.type === 'broker.revocation.added')!;
    const seqOf = (r: EventRow) => Number(r.seq);
    expect(seqOf(revocation)).toBeLessThan(rows.length);

    // 1. One issuance's data edited: that record is named as changed.
    const edited = issued.data.replace('"tickets:read"', '"tickets:admin"');
    expect(edited).not.toBe(issued.data);
    await tampered(
      (c) => c.query('UPDATE events SET data = $1 WHERE seq = $2', [edited, issued.seq]),
      (c) => c.query('UPDATE events SET data = $1 WHERE seq = $2', [issued.data, issued.seq]),
      {
        seq: seqOf(issued),
        kind: 'changed',
        message: `record ${issued.seq} does not match its hash: its content or hash was edited`,
        checked: seqOf(issued) - 1,
      },
      intact,
    );

    // 2. A revocation record deleted: the gap is named as missing.
    const r = seqOf(revocation);
    await tampered(
      (c) => c.query('DELETE FROM events WHERE seq = $1', [revocation.seq]),
      (c) => insert(c, revocation),
      {
        seq: r,
        kind: 'missing',
        message: `record ${r} is missing: record ${r + 1} follows record ${r - 1}`,
        checked: r - 1,
      },
      intact,
    );

    // 3. The issuance and the record after it swapped: named as reordered.
    const s = seqOf(issued);
    const next = rows.find((x) => seqOf(x) === s + 1)!;
    const both = [issued.seq, next.seq];
    await tampered(
      async (c) => {
        await c.query('DELETE FROM events WHERE seq = ANY($1)', [both]);
        await insert(c, next, issued.seq);
        await insert(c, issued, next.seq);
      },
      async (c) => {
        await c.query('DELETE FROM events WHERE seq = ANY($1)', [both]);
        await insert(c, issued);
        await insert(c, next);
      },
      {
        seq: s,
        kind: 'reordered',
        message: `record ${s} was written after the record now at seq ${s + 1}, not after record ${s - 1}: records were swapped or moved`,
        checked: s - 1,
      },
      intact,
    );
  }, 180_000);
});
