import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Revocation } from '../core/broker-types.js';
import { systemClock } from '../core/time.js';
import { assertPostgresReachable } from '../store/store-conformance.js';
import { createRevocationCache, type RevocableClaims, type RevocationStore } from './broker-revocations.js';
import {
  GITHUB,
  ISSUER,
  makeBroker,
  movingClock,
  okBody,
  payloadOf,
  PG_URL,
  PLAIN_POLICY,
  PLANNER_POLICY,
  postgresStore,
  sqliteStore,
  SUPPORT_POLICY,
  T0,
  T0_SECONDS,
  tokenRequest,
  type MovingClock,
} from './broker-service-test-support.js';
import type { BrokerService } from './broker-service.js';
import type { Store } from '../store/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function revocation(seq: number, over: Partial<Revocation>): Revocation {
  return {
    seq,
    kind: 'jti',
    value: 'x',
    issuedBefore: null,
    expiresAt: '2026-03-02T11:00:00.000Z',
    reason: null,
    actor: 'test',
    createdAt: T0,
    ...over,
  };
}

function fakeStore(list: Revocation[]): RevocationStore & { fail: boolean; reads: number } {
  const s = {
    fail: false,
    reads: 0,
    listRevocationsSince: async (seq: number, limit: number) => {
      s.reads++;
      if (s.fail) throw new Error('connection refused');
      return list.filter((r) => r.seq > seq).slice(0, limit);
    },
    pruneRevocations: async () => 0,
  };
  return s;
}

const claims = (over: Partial<RevocableClaims> = {}): RevocableClaims => ({
  jti: 'j1',
  sub: 'agt_a',
  iat: T0_SECONDS,
  ...over,
});

describe('revocation cache', () => {
  it('matches by jti, agent (also inside the act chain), agent type, task and issue time', async () => {
    const list = [
      revocation(1, { kind: 'jti', value: 'j-revoked' }),
      revocation(2, { kind: 'agent', value: 'agt_bad', issuedBefore: T0 }),
      revocation(3, { kind: 'agent-type', value: 'aty_bad', issuedBefore: T0 }),
      revocation(4, { kind: 'task', value: 'T-13', issuedBefore: T0 }),
    ];
    const cache = createRevocationCache({
      store: fakeStore(list),
      clock: movingClock(T0),
      pollIntervalMs: 250,
    });
    const before = T0_SECONDS - 1;
    expect(await cache.check(claims())).toEqual({ revoked: false });
    expect(await cache.check(claims({ jti: 'j-revoked' }))).toEqual({
      revoked: true,
      kind: 'jti',
      value: 'j-revoked',
    });
    expect(await cache.check(claims({ sub: 'agt_bad', iat: before }))).toMatchObject({
      revoked: true,
      kind: 'agent',
    });
    // Issued after the revocation: not covered (revoking an agent's tokens does not block new ones; disable it for that).
    expect(await cache.check(claims({ sub: 'agt_bad', iat: T0_SECONDS + 1 }))).toEqual({ revoked: false });
    expect(
      await cache.check(
        claims({ sub: 'user:alice', iat: before, act: { sub: 'agt_ok', act: { sub: 'agt_bad' } } }),
      ),
    ).toMatchObject({ revoked: true, kind: 'agent', value: 'agt_bad' });
    expect(await cache.check(claims({ agent_type_id: 'aty_bad', iat: before }))).toMatchObject({
      kind: 'agent-type',
    });
    expect(await cache.check(claims({ task: 'T-13', iat: before }))).toMatchObject({ kind: 'task' });
    expect(await cache.check(claims({ task: 'T-14', iat: before }))).toEqual({ revoked: false });
    expect(cache.status()).toMatchObject({ lastSeq: 4, entries: 4 });
  });

  it('issued-before revokes every older token; entries are forgotten after they expire', async () => {
    const clock = movingClock(T0);
    const list = [
      revocation(7, {
        kind: 'issued-before',
        value: '*',
        issuedBefore: T0,
        expiresAt: '2026-03-02T10:30:00.000Z',
      }),
    ];
    const cache = createRevocationCache({ store: fakeStore(list), clock, pollIntervalMs: 250 });
    expect(await cache.check(claims({ iat: T0_SECONDS - 60 }))).toMatchObject({
      revoked: true,
      kind: 'issued-before',
    });
    expect(await cache.check(claims({ iat: T0_SECONDS }))).toEqual({ revoked: false });
    clock.set('2026-03-02T10:30:00.000Z');
    await cache.refresh();
    expect(cache.status().entries).toBe(0);
  });

  it('reads only new entries, and fails closed when the store cannot be read and the copy is too old', async () => {
    const store = fakeStore([revocation(1, { value: 'a' })]);
    const cache = createRevocationCache({ store, clock: movingClock(T0), pollIntervalMs: 10 });
    await cache.refresh();
    await cache.refresh();
    expect(store.reads).toBe(2);
    // Fresh copy: checks use it without reading.
    expect(await cache.check(claims({ jti: 'a' }))).toMatchObject({ revoked: true });
    store.fail = true;
    const errors: unknown[] = [];
    const failing = createRevocationCache({
      store,
      clock: movingClock(T0),
      pollIntervalMs: 10,
      onError: (e) => errors.push(e),
    });
    expect(await failing.check(claims())).toEqual({ revoked: 'unknown' });
    expect((errors[0] as Error).message).toBe('connection refused');
  });

  it('start() polls in the background; stop() ends it', async () => {
    const list: Revocation[] = [];
    const store = fakeStore(list);
    const cache = createRevocationCache({ store, clock: movingClock(T0), pollIntervalMs: 20 });
    cache.start();
    list.push(revocation(1, { value: 'late' }));
    await waitFor(() => cache.status().lastSeq === 1, 1000);
    await cache.stop();
    const reads = store.reads;
    await new Promise((r) => setTimeout(r, 60));
    expect(store.reads).toBe(reads);
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

interface Issuing {
  broker: BrokerService;
  store: Store;
  clock: MovingClock;
  ids: { agentId: string; clientId: string; typeId: string };
  issue(params?: Record<string, string>): Promise<string>;
}

async function issuing(): Promise<Issuing> {
  const ts = await sqliteStore();
  const clock = movingClock();
  const broker = makeBroker(ts.store, clock);
  cleanups.push(async () => {
    await broker.close();
    await ts.dispose();
  });
  const { agentType } = await broker.applyAgentType({ fileName: 'plain.yaml', text: PLAIN_POLICY }, 'test');
  const reg = await broker.registerAgent('plain-agent', { name: 'bot', withSecret: true }, 'test');
  return {
    broker,
    store: ts.store,
    clock,
    ids: { agentId: reg.agent.id, clientId: reg.clientId, typeId: agentType.id },
    issue: async (params = {}) =>
      okBody(
        await broker.token(
          tokenRequest(
            { grant_type: 'client_credentials', scope: 'repo:read', resource: GITHUB, ...params },
            { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
          ),
        ),
      ).access_token,
  };
}

const verify = (broker: BrokerService, token: string) =>
  broker.verifyToken(token, { method: 'GET', url: `${GITHUB}/x` });

describe('revocation through the service', () => {
  it('by jti, agent, agent type, task and time: verifyToken and introspect refuse at once', async () => {
    const t = await issuing();
    const cases: Array<[string, (token: string) => Promise<unknown>]> = [
      [
        'jti',
        (token) =>
          t.broker.revoke({ kind: 'jti', value: payloadOf(token).jti as string, reason: 'leaked' }, 'admin'),
      ],
      ['agent', () => t.broker.revoke({ kind: 'agent', value: t.ids.clientId }, 'admin')],
      ['agent-type', () => t.broker.revoke({ kind: 'agent-type', value: 'plain-agent' }, 'admin')],
      ['task', () => t.broker.revoke({ kind: 'task', value: 'T-1' }, 'admin')],
      [
        'issued-before',
        () => t.broker.revoke({ kind: 'issued-before', value: t.clock.now().toISOString() }, 'admin'),
      ],
    ];
    for (const [kind, revoke] of cases) {
      const token = await t.issue({ task: 'T-1' });
      const other = await t.issue({ task: 'T-2' });
      t.clock.advance(1);
      expect(await verify(t.broker, token)).toMatchObject({ ok: true });
      expect(await t.broker.introspect(token)).toMatchObject({ active: true });
      await revoke(token);
      const refused = await verify(t.broker, token);
      expect(refused, kind).toMatchObject({
        ok: false,
        status: 401,
        error: 'invalid_token',
        reason: 'revoked',
      });
      expect(refused.ok ? '' : refused.wwwAuthenticate).toBe(
        'Bearer error="invalid_token", error_description="access token has been revoked"',
      );
      expect(await t.broker.introspect(token), kind).toEqual({ active: false });
      // A jti or task revocation leaves other tokens alone; tokens issued afterwards are not covered.
      expect((await verify(t.broker, other)).ok, kind).toBe(kind === 'jti' || kind === 'task');
      t.clock.advance(1);
      expect(await verify(t.broker, await t.issue({ task: 'T-1' })), kind).toMatchObject({ ok: true });
    }
    const added = (await t.store.readEvents(0, 1000)).filter((e) => e.type === 'broker.revocation.added');
    expect(added.map((e) => [e.data.kind, e.data.value, e.actor])).toEqual([
      ['jti', expect.any(String), 'admin'],
      ['agent', t.ids.agentId, 'admin'],
      ['agent-type', t.ids.typeId, 'admin'],
      ['task', 'T-1', 'admin'],
      ['issued-before', '*', 'admin'],
    ]);
    // Kept until the last token issued by then (max TTL 1 h, plus 5 s leeway) has expired.
    expect(added[0]!.data).toMatchObject({ reason: 'leaked', expiresAt: '2026-03-02T11:00:06.000Z' });
  });

  it('refuses tokens when the revocation list cannot be read (fail closed)', async () => {
    const t = await issuing();
    const token = await t.issue();
    const down = new Proxy(t.store, {
      get(target, prop, receiver) {
        if (prop === 'listRevocationsSince') return () => Promise.reject(new Error('database is down'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const errors: unknown[] = [];
    const other = makeBroker(down, t.clock, {}, { onError: (e) => errors.push(e) });
    cleanups.push(() => other.close());
    expect(await verify(other, token)).toMatchObject({
      ok: false,
      error: 'invalid_token',
      reason: 'revocation-unavailable',
      message: 'the revocation list could not be read, so the token is refused; try again later',
    });
    expect(await other.introspect(token)).toEqual({ active: false });
    expect((errors[0] as Error).message).toBe('database is down');
  });

  it('checks what to revoke', async () => {
    const t = await issuing();
    await expect(
      t.broker.revoke({ kind: 'agent', value: 'kwc_nosuchagent00' }, 'admin'),
    ).rejects.toMatchObject({
      code: 'KW_NOT_FOUND',
    });
    await expect(
      t.broker.revoke({ kind: 'issued-before', value: 'yesterday' }, 'admin'),
    ).rejects.toMatchObject({
      code: 'KW_VALIDATION',
      message: 'value must be an ISO-8601 time for an issued-before revocation',
    });
    await expect(t.broker.revoke({ kind: 'task', value: ' ' }, 'admin')).rejects.toMatchObject({
      code: 'KW_VALIDATION',
    });
    await expect(t.broker.revoke({ kind: 'nope' as 'jti', value: 'x' }, 'admin')).rejects.toMatchObject({
      code: 'KW_VALIDATION',
    });
  });

  it('revoking an agent also refuses tokens it took part in as an actor', async () => {
    const ts = await sqliteStore();
    const clock = movingClock();
    const broker = makeBroker(ts.store, clock);
    cleanups.push(async () => {
      await broker.close();
      await ts.dispose();
    });
    await broker.applyAgentType({ fileName: 'planner.yaml', text: PLANNER_POLICY }, 'test');
    await broker.applyAgentType({ fileName: 'support.yaml', text: SUPPORT_POLICY }, 'test');
    const planner = await broker.registerAgent('planner-agent', { name: 'p', withSecret: true }, 'test');
    const support = await broker.registerAgent('support-agent', { name: 's', withSecret: true }, 'test');
    const basic = (r: typeof planner) => ({
      basicAuth: { clientId: r.clientId, clientSecret: r.clientSecret! },
    });
    const own = okBody(
      await broker.token(
        tokenRequest(
          { grant_type: 'client_credentials', scope: 'repo:read', resource: GITHUB },
          basic(planner),
        ),
      ),
    ).access_token;
    const delegated = okBody(
      await broker.token(
        tokenRequest(
          {
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: own,
            subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          },
          basic(support),
        ),
      ),
    ).access_token;
    expect(payloadOf(delegated)).toMatchObject({ sub: planner.agent.id, act: { sub: support.agent.id } });
    clock.advance(1);
    await broker.revoke({ kind: 'agent', value: support.agent.id }, 'admin');
    expect(await verify(broker, delegated)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(await verify(broker, own)).toMatchObject({ ok: true });
  });

  it('RFC 7009: a client revokes its own token; unknown tokens answer 200; others are refused', async () => {
    const t = await issuing();
    const token = await t.issue();
    const other = await t.broker.registerAgent('plain-agent', { name: 'other', withSecret: true }, 'test');
    const reg = { clientId: t.ids.clientId };
    const as = (clientId: string, clientSecret: string, params: Record<string, string>) =>
      t.broker.revokeToken({ params, basicAuth: { clientId, clientSecret }, url: `${ISSUER}/oauth/revoke` });

    const refused = await as(other.clientId, other.clientSecret!, { token });
    expect(refused).toMatchObject({
      status: 400,
      body: { error: 'unauthorized_client', error_description: 'the token was not issued to this client' },
    });
    expect(await as(other.clientId, 'kwcs_wrong', { token })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect(await as(other.clientId, other.clientSecret!, {})).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'the token parameter is missing' },
    });
    expect(await as(other.clientId, other.clientSecret!, { token: 'garbage' })).toMatchObject({
      status: 200,
      body: {},
    });
    expect(await t.broker.introspect(token)).toMatchObject({ active: true });

    // The owner revokes (with a fresh secret, sent as client_secret_post).
    const ownSecret = await t.broker.resetClientSecret(reg.clientId, 'test');
    const ok = await t.broker.revokeToken({
      params: {
        token,
        token_type_hint: 'access_token',
        client_id: reg.clientId,
        client_secret: ownSecret.clientSecret!,
      },
      url: `${ISSUER}/oauth/revoke`,
    });
    expect(ok).toEqual({
      status: 200,
      body: {},
      headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
    });
    expect(await t.broker.introspect(token)).toEqual({ active: false });
    const [added] = (await t.store.readEvents(0, 1000)).filter((e) => e.type === 'broker.revocation.added');
    expect(added).toMatchObject({ actor: t.ids.agentId, data: { kind: 'jti', value: payloadOf(token).jti } });
    // Revoking again is a no-op answered 200.
    expect(
      (
        await t.broker.revokeToken({
          params: { token, client_id: reg.clientId, client_secret: ownSecret.clientSecret! },
          url: `${ISSUER}/oauth/revoke`,
        })
      ).status,
    ).toBe(200);
  });
});

describe('revocation across processes (PostgreSQL)', () => {
  beforeAll(() => assertPostgresReachable(PG_URL));

  it('a revocation written by one process is enforced by another within 1 s', async () => {
    const ts = await postgresStore();
    const second = await ts.openSecond!();
    const a = makeBroker(ts.store, systemClock);
    const b = makeBroker(second, systemClock);
    cleanups.push(async () => {
      await a.close();
      await b.close();
      await ts.dispose();
    });
    await a.applyAgentType({ fileName: 'plain.yaml', text: PLAIN_POLICY }, 'test');
    const reg = await a.registerAgent('plain-agent', { name: 'bot', withSecret: true }, 'test');
    const issue = async () =>
      okBody(
        await a.token(
          tokenRequest(
            { grant_type: 'client_credentials', scope: 'repo:read', resource: GITHUB },
            { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
          ),
        ),
      ).access_token;
    const token = await issue();
    const other = await issue();
    await b.start();
    expect(await verify(b, token)).toMatchObject({ ok: true });

    await a.revoke({ kind: 'jti', value: payloadOf(token).jti as string }, 'admin');
    const elapsed = await waitFor(async () => !(await verify(b, token)).ok, 2000);
    expect(elapsed).toBeLessThan(1000);
    expect(await verify(b, token)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(await b.introspect(token)).toEqual({ active: false });
    expect(await verify(b, other)).toMatchObject({ ok: true });

    // Everything of the agent, from the second process this time.
    await new Promise((r) => setTimeout(r, 1100));
    await b.revoke({ kind: 'agent', value: reg.agent.id }, 'admin');
    const elapsedAgent = await waitFor(async () => !(await verify(a, other)).ok, 2000);
    expect(elapsedAgent).toBeLessThan(1000);
  });
});
