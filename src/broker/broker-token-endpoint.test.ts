import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../core/types.js';
import type { Store } from '../store/index.js';
import { computeJkt } from './dpop.js';
import type { TestKey } from './broker-crypto-test-support.js';
import {
  assertionFor,
  BILLING,
  CI_ISSUER,
  claimsOf,
  generateTestKey,
  GITHUB,
  IDP,
  ISSUER,
  issuerToken,
  makeBroker,
  movingClock,
  okBody,
  payloadOf,
  PLAIN_POLICY,
  PLANNER_POLICY,
  postgresStore,
  sqliteStore,
  STRICT_POLICY,
  SUPPORT_POLICY,
  T0,
  tokenProof,
  tokenRequest,
  type MovingClock,
  type TestStore,
} from './broker-service-test-support.js';
import type { BrokerConfig, BrokerService } from './broker-service.js';
import type { TokenEndpointRequest, TokenEndpointResponse } from './broker-token-endpoint.js';

const CC = 'client_credentials';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const CIBA = 'urn:openid:params:grant-type:ciba';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

let agentKey: TestKey;
let ciKey: TestKey;
let idpKey: TestKey;
let dpopKey: TestKey;
let otherDpopKey: TestKey;

beforeAll(async () => {
  agentKey = await generateTestKey('EdDSA', 'agent-key-1');
  ciKey = await generateTestKey('RS256', 'ci-key-1');
  idpKey = await generateTestKey('ES256', 'idp-key-1');
  dpopKey = await generateTestKey('ES256');
  otherDpopKey = await generateTestKey('EdDSA');
});

interface Setup {
  store: Store;
  clock: MovingClock;
  broker: BrokerService;
  /** Registers an agent with a client secret; returns what token requests need. */
  agent(type: string, name?: string): Promise<{ id: string; clientId: string; secret: string }>;
  basic(a: { clientId: string; secret: string }): Pick<TokenEndpointRequest, 'basicAuth'>;
  events(type: string): Promise<EventRecord[]>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(
  make: () => Promise<TestStore> = sqliteStore,
  config: Partial<BrokerConfig> = {},
): Promise<Setup> {
  const ts = await make();
  const clock = movingClock();
  const broker = makeBroker(ts.store, clock, config);
  cleanups.push(async () => {
    await broker.close();
    await ts.dispose();
  });
  for (const [fileName, text] of [
    ['support.yaml', SUPPORT_POLICY],
    ['planner.yaml', PLANNER_POLICY],
    ['strict.yaml', STRICT_POLICY],
    ['plain.yaml', PLAIN_POLICY],
  ] as const) {
    await broker.applyAgentType({ fileName, text }, 'test');
  }
  await broker.saveFederatedIssuer(
    { issuer: CI_ISSUER, jwks: { keys: [ciKey.publicJwk] }, audience: ISSUER },
    'test',
  );
  await broker.saveFederatedIssuer(
    { issuer: IDP, jwks: { keys: [idpKey.publicJwk] }, audience: ISSUER },
    'test',
  );
  return {
    store: ts.store,
    clock,
    broker,
    async agent(type, name = 'bot') {
      const r = await broker.registerAgent(type, { name, withSecret: true }, 'test');
      return { id: r.agent.id, clientId: r.clientId, secret: r.clientSecret! };
    },
    basic: (a) => ({ basicAuth: { clientId: a.clientId, clientSecret: a.secret } }),
    events: async (type) => (await ts.store.readEvents(0, 10_000)).filter((e) => e.type === type),
  };
}

function expectError(res: TokenEndpointResponse, status: number, error: string, description: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ error, error_description: description });
  expect((res.body as { access_token?: string }).access_token).toBeUndefined();
}

const STORES: Array<[string, () => Promise<TestStore>]> = [
  ['sqlite', sqliteStore],
  ['postgres', () => postgresStore()],
];

describe.each(STORES)('token endpoint on %s', (_name, make) => {
  it('client_credentials with client_secret_basic issues a scoped, audience-bound token and logs it first', async () => {
    const t = await setup(make);
    const a = await t.agent('support-agent');
    const res = await t.broker.token(
      tokenRequest(
        { grant_type: CC, scope: 'repo:read admin:write', resource: GITHUB, task: 'T-42', purpose: 'triage' },
        t.basic(a),
      ),
    );
    const body = okBody(res);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'repo:read' });
    expect(res.headers).toEqual(NO_STORE);
    const claims = payloadOf(body.access_token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      sub: a.id,
      aud: GITHUB,
      client_id: a.clientId,
      scope: 'repo:read',
      task: 'T-42',
      purpose: 'triage',
      iat: Date.parse(T0) / 1000,
      exp: Date.parse(T0) / 1000 + 300,
    });
    expect(claims.agent_type_id).toMatch(/^aty_/);
    const [issued] = await t.events('broker.token.issued');
    expect(issued!.data).toMatchObject({
      jti: claims.jti,
      agentId: a.id,
      clientId: a.clientId,
      grantType: CC,
      authMethod: 'client_secret_basic',
      scopes: ['repo:read'],
      resource: GITHUB,
      task: 'T-42',
      purpose: 'triage',
      exp: '2026-03-02T10:05:00.000Z',
      dpopJkt: null,
      sourceIp: '10.0.0.7',
    });
    // No token value, secret or hash anywhere in the log.
    const log = JSON.stringify(await t.store.readEvents(0, 10_000));
    expect(log).not.toContain(body.access_token.split('.')[2]);
    expect(log).not.toContain(a.secret);
    expect(log).not.toContain('$scrypt$');
    expect((await t.broker.getAgent(a.id))!.lastUsedAt).toBe(T0);
  });

  it('approval flow: pending, slow_down, approve, token with the approval claim, used once', async () => {
    const t = await setup(make);
    const a = await t.agent('support-agent');
    const ask = tokenRequest(
      { grant_type: CC, scope: 'invoices:read invoices:refund', resource: BILLING, task: 'T-7' },
      t.basic(a),
    );
    const pending = await t.broker.token(ask);
    expect(pending.status).toBe(400);
    expect(pending.body).toMatchObject({
      error: 'authorization_pending',
      error_description:
        'a person must approve invoices:refund; poll with grant_type=urn:openid:params:grant-type:ciba and this auth_req_id every 5 seconds',
      interval: 5,
    });
    const id = (pending.body as { auth_req_id: string }).auth_req_id;
    expect(id).toMatch(/^apr_/);
    const poll = () => t.broker.token(tokenRequest({ grant_type: CIBA, auth_req_id: id }, t.basic(a)));

    t.clock.advance(1);
    const fast = await poll();
    expectError(fast, 400, 'slow_down', 'polling too fast; wait 10 seconds between requests');
    expect(fast.body).toMatchObject({ interval: 10 });
    t.clock.advance(10);
    expectError(
      await poll(),
      400,
      'authorization_pending',
      'a person has not decided yet; keep polling every 10 seconds',
    );

    const approval = await t.broker.decideApproval(
      id,
      'approve',
      'farid@example.com',
      'refund for ticket T-7',
    );
    expect(approval.status).toBe('approved');
    t.clock.advance(10);
    const granted = await poll();
    const body = okBody(granted);
    expect(body.scope).toBe('invoices:read invoices:refund');
    const claims = payloadOf(body.access_token);
    expect(claims).toMatchObject({
      sub: a.id,
      aud: BILLING,
      task: 'T-7',
      approval: { id, approver: 'farid@example.com' },
    });
    expect((await t.broker.getApproval(id))!.tokenJti).toBe(claims.jti);
    const [issued] = await t.events('broker.token.issued');
    expect(issued!.data).toMatchObject({ grantType: CIBA, approvalId: id, approver: 'farid@example.com' });

    t.clock.advance(10);
    expectError(await poll(), 400, 'invalid_grant', 'this approval was already used for a token');
    const types = (await t.store.readEvents(0, 10_000))
      .map((e) => e.type)
      .filter((x) => x.startsWith('broker.approval'));
    expect(types).toEqual(['broker.approval.requested', 'broker.approval.decided', 'broker.approval.used']);
  });

  it('fails closed: when the audit log cannot be written no token is issued (500)', async () => {
    const t = await setup(make);
    const a = await t.agent('support-agent');
    await t.broker.ensureSigningKeys();
    const failing = new Proxy(t.store, {
      get(target, prop, receiver) {
        if (prop === 'appendEvents') return () => Promise.reject(new Error('disk full'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const errors: unknown[] = [];
    const broker = makeBroker(failing, t.clock, {}, { onError: (e) => errors.push(e) });
    cleanups.push(() => broker.close());
    const before = (await t.store.readEvents(0, 10_000)).length;
    const res = await broker.token(
      tokenRequest({ grant_type: CC, scope: 'repo:read', resource: GITHUB }, t.basic(a)),
    );
    expect(res).toEqual({
      status: 500,
      body: {
        error: 'server_error',
        error_description:
          'the request could not be recorded in the audit log, so no token was issued; try again later',
      },
      headers: NO_STORE,
    });
    expect(JSON.stringify(res)).not.toContain('eyJ');
    expect((errors[0] as Error).message).toBe('disk full');
    expect((await t.store.readEvents(0, 10_000)).length).toBe(before);
    // A refusal that cannot be logged is a 500 too.
    const denied = await broker.token(
      tokenRequest({ grant_type: CC, scope: 'admin:x', resource: GITHUB }, t.basic(a)),
    );
    expect(denied.status).toBe(500);
  });
});

describe('client authentication', () => {
  it('client_secret_post', async () => {
    const t = await setup();
    const a = await t.agent('plain-agent');
    const res = await t.broker.token(
      tokenRequest({
        grant_type: CC,
        scope: 'repo:read',
        resource: GITHUB,
        client_id: a.clientId,
        client_secret: a.secret,
      }),
    );
    expect(okBody(res).scope).toBe('repo:read');
    expect((await t.events('broker.token.issued'))[0]!.data.authMethod).toBe('client_secret_post');
  });

  it('private_key_jwt (RFC 7523), and a replayed assertion is refused', async () => {
    const t = await setup();
    const reg = await t.broker.registerAgent(
      'plain-agent',
      { name: 'jwt-bot', jwks: { keys: [agentKey.publicJwk] }, withSecret: false },
      'test',
    );
    expect(reg.clientSecret).toBeUndefined();
    const assertion = await assertionFor(agentKey, reg.clientId, t.clock);
    const req = tokenRequest({
      grant_type: CC,
      scope: 'repo:read',
      resource: GITHUB,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    });
    expect(claimsOf(await t.broker.token(req))).toMatchObject({ sub: reg.agent.id, client_id: reg.clientId });
    expectError(
      await t.broker.token(req),
      401,
      'invalid_client',
      'client assertion rejected: client assertion was already used (jti seen before)',
    );
    // The issuer is accepted as audience too.
    const toIssuer = await assertionFor(agentKey, reg.clientId, t.clock, ISSUER);
    expect(
      (await t.broker.token({ ...req, params: { ...req.params, client_assertion: toIssuer } })).status,
    ).toBe(200);
  });

  it('federated workload token: no static secret, claims bound to the agent', async () => {
    const t = await setup();
    const reg = await t.broker.registerAgent(
      'plain-agent',
      {
        name: 'ci-bot',
        federated: [
          { issuer: CI_ISSUER, claims: { sub: 'repo:acme/*:ref:refs/heads/main', repository_owner: 'acme' } },
        ],
        withSecret: false,
      },
      'test',
    );
    const request = (token: string, clientId: string | null = reg.clientId) =>
      tokenRequest({
        grant_type: CC,
        scope: 'repo:read',
        resource: GITHUB,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: token,
        ...(clientId === null ? {} : { client_id: clientId }),
      });
    const good = await issuerToken(
      ciKey,
      { sub: 'repo:acme/api:ref:refs/heads/main', repository_owner: 'acme' },
      t.clock,
    );
    expect(claimsOf(await t.broker.token(request(good)))).toMatchObject({ sub: reg.agent.id });
    // A workload token may be presented again while it is valid (platform tokens are reused).
    expect((await t.broker.token(request(good))).status).toBe(200);
    expect((await t.events('broker.token.issued'))[0]!.data.authMethod).toBe('federated');

    const otherRepo = await issuerToken(
      ciKey,
      { sub: 'repo:evil/api:ref:refs/heads/main', repository_owner: 'evil' },
      t.clock,
    );
    expectError(
      await t.broker.token(request(otherRepo)),
      401,
      'invalid_client',
      "workload token rejected: its claims match none of this agent's bindings for the issuer",
    );
    expectError(
      await t.broker.token(request(good, null)),
      401,
      'invalid_client',
      'client_id is required with a federated workload token: it names the agent',
    );
    const wrongAudience = await issuerToken(
      ciKey,
      { sub: 'repo:acme/api:ref:refs/heads/main', repository_owner: 'acme' },
      t.clock,
      CI_ISSUER,
      'https://other.test',
    );
    expectError(
      await t.broker.token(request(wrongAudience)),
      401,
      'invalid_client',
      'workload token rejected: workload token is meant for another audience',
    );
    t.clock.advance(3600);
    expectError(
      await t.broker.token(request(good)),
      401,
      'invalid_client',
      'workload token rejected: workload token has expired',
    );
  });

  it('refuses bad client authentication with the RFC 6749 section 5.2 codes', async () => {
    const t = await setup();
    const a = await t.agent('plain-agent');
    const base = { grant_type: CC, scope: 'repo:read', resource: GITHUB };

    const none = await t.broker.token(tokenRequest(base));
    expectError(
      none,
      401,
      'invalid_client',
      'client authentication is required: use client_secret_basic, client_secret_post, private_key_jwt or a federated workload token',
    );
    expect(none.headers['www-authenticate']).toBeUndefined();

    const wrongBasic = await t.broker.token(
      tokenRequest(base, { basicAuth: { clientId: a.clientId, clientSecret: 'kwcs_wrong' } }),
    );
    expectError(wrongBasic, 401, 'invalid_client', 'client authentication failed');
    expect(wrongBasic.headers['www-authenticate']).toBe('Basic realm="keyward", charset="UTF-8"');

    const unknownPost = await t.broker.token(
      tokenRequest({ ...base, client_id: 'kwc_doesnotexist00', client_secret: a.secret }),
    );
    expectError(unknownPost, 401, 'invalid_client', 'client authentication failed');
    expect(unknownPost.headers['www-authenticate']).toBeUndefined();

    expectError(
      await t.broker.token(tokenRequest({ ...base, client_secret: a.secret }, t.basic(a))),
      400,
      'invalid_request',
      'the client used more than one authentication method; use exactly one (RFC 6749 section 2.3)',
    );
    expectError(
      await t.broker.token(tokenRequest({ ...base, client_secret: a.secret })),
      400,
      'invalid_request',
      'client_secret was sent without client_id',
    );
    expectError(
      await t.broker.token(tokenRequest({ ...base, client_id: 'kwc_someoneelse00' }, t.basic(a))),
      400,
      'invalid_request',
      'client_id differs from the client authenticated with HTTP Basic',
    );
    expectError(
      await t.broker.token(tokenRequest({ ...base, client_assertion: 'x.y.z' })),
      400,
      'invalid_request',
      'client_assertion and client_assertion_type must be sent together',
    );
    expectError(
      await t.broker.token(
        tokenRequest({ ...base, client_assertion: 'x.y.z', client_assertion_type: 'urn:x' }),
      ),
      401,
      'invalid_client',
      'client_assertion_type is not supported; use urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expectError(
      await t.broker.token(
        tokenRequest({ ...base, client_assertion: 'not-a-jwt', client_assertion_type: ASSERTION_TYPE }),
      ),
      401,
      'invalid_client',
      'client assertion rejected: client assertion is not a JWT in compact form (three base64url parts separated by dots)',
    );

    await t.broker.disableAgent(a.id, 'test');
    expectError(
      await t.broker.token(tokenRequest(base, t.basic(a))),
      401,
      'invalid_client',
      'this client is disabled',
    );

    const denied = await t.events('broker.token.denied');
    expect(denied.map((e) => e.data.reason)).toEqual([
      'no-authentication',
      'bad-secret',
      'unknown-client',
      'several-methods',
      'no-client-id',
      'client-id-mismatch',
      'incomplete-assertion',
      'assertion-type',
      'assertion-malformed',
      'agent-disabled',
    ]);
    expect(denied[1]!.data).toMatchObject({
      clientId: a.clientId,
      grantType: CC,
      error: 'invalid_client',
      description: 'client authentication failed',
    });
    expect(JSON.stringify(denied)).not.toContain(a.secret);
  });
});

describe('request errors', () => {
  it('answers each refusal with its exact RFC error code and description, and logs it', async () => {
    const t = await setup();
    const a = await t.agent('support-agent');
    const strict = await t.agent('strict-agent');
    const ask = (params: Record<string, string>, extra: Partial<TokenEndpointRequest> = {}, who = a) =>
      t.broker.token(tokenRequest(params, { ...t.basic(who), ...extra }));

    expectError(await ask({}), 400, 'invalid_request', 'the grant_type parameter is missing');
    expectError(
      await ask({ grant_type: 'password' }),
      400,
      'unsupported_grant_type',
      "grant type 'password' is not supported; use client_credentials, urn:ietf:params:oauth:grant-type:token-exchange, urn:openid:params:grant-type:ciba",
    );
    expectError(
      await ask({ grant_type: CC }, { method: 'GET' }),
      400,
      'invalid_request',
      'the token endpoint accepts POST requests only',
    );
    expectError(
      await ask({ grant_type: CC, resource: GITHUB }),
      400,
      'invalid_scope',
      'no scope requested; this broker grants no default scope, so name the scopes the task needs',
    );
    expectError(
      await ask({ grant_type: CC, resource: GITHUB, scope: 'admin:write' }),
      400,
      'invalid_scope',
      "none of the requested scopes (admin:write) may be issued for resource 'https://api.github.com'",
    );
    expectError(
      await ask({ grant_type: CC, scope: 'repo:read' }),
      400,
      'invalid_target',
      'no resource given; name the API the token is for with the resource parameter',
    );
    expectError(
      await ask({ grant_type: CC, scope: 'repo:read', resource: 'https://evil.example' }),
      400,
      'invalid_target',
      "resource 'https://evil.example' is not allowed for this agent type",
    );
    expectError(
      await ask({ grant_type: CC, scope: 'repo:read', resource: GITHUB }, { sourceIp: '192.0.2.1' }),
      400,
      'unauthorized_client',
      'source address 192.0.2.1 is outside the networks this agent type may request tokens from',
    );
    expectError(
      await ask({ grant_type: CC, scope: 'repo:read', resource: GITHUB }, {}, strict),
      400,
      'invalid_request',
      'this agent type requires DPoP-bound tokens; send a DPoP proof with the request (RFC 9449)',
    );
    expectError(
      await ask(
        { grant_type: CC, scope: 'repo:read', resource: GITHUB, task: 'T-1' },
        { dpopProof: await tokenProof(dpopKey, t.clock) },
        strict,
      ),
      400,
      'invalid_request',
      'the purpose claim is missing; this agent type requires task and purpose with every token request',
    );
    expectError(
      await ask({ grant_type: CIBA }),
      400,
      'invalid_request',
      'the auth_req_id parameter is missing',
    );
    expectError(
      await ask({ grant_type: CIBA, auth_req_id: 'apr_nothere' }),
      400,
      'invalid_grant',
      'auth_req_id is unknown or was issued to another client',
    );
    const denied = await t.events('broker.token.denied');
    expect(denied).toHaveLength(12);
    expect(denied[7]!.data).toMatchObject({
      agentId: a.id,
      error: 'unauthorized_client',
      reason: 'policy',
      sourceIp: '192.0.2.1',
    });
  });
});

describe('DPoP (RFC 9449)', () => {
  it('binds the token to the proof key (cnf.jkt), token_type DPoP; a replayed proof is refused', async () => {
    const t = await setup();
    const a = await t.agent('strict-agent');
    const proof = await tokenProof(dpopKey, t.clock);
    const req = tokenRequest(
      { grant_type: CC, scope: 'repo:read', resource: GITHUB, task: 'T-1', purpose: 'read code' },
      { ...t.basic(a), dpopProof: proof },
    );
    const res = await t.broker.token(req);
    const body = okBody(res);
    expect(body.token_type).toBe('DPoP');
    const jkt = await computeJkt(dpopKey.publicJwk);
    expect(payloadOf(body.access_token).cnf).toEqual({ jkt });
    expect((await t.events('broker.token.issued'))[0]!.data.dpopJkt).toBe(jkt);

    expectError(
      await t.broker.token(req),
      400,
      'invalid_dpop_proof',
      'DPoP proof was already used (jti seen before)',
    );
    expectError(
      await t.broker.token({
        ...req,
        dpopProof: await tokenProof(dpopKey, t.clock, { htu: 'https://other.test/oauth/token' }),
      }),
      400,
      'invalid_dpop_proof',
      'DPoP proof was made for another URI (expected https://keyward.test/oauth/token)',
    );
    const old = await tokenProof(dpopKey, t.clock);
    t.clock.advance(61);
    expectError(
      await t.broker.token({ ...req, dpopProof: old }),
      400,
      'invalid_dpop_proof',
      'DPoP proof is older than 60 s (iat)',
    );

    // At a resource: the proof must be made with the bound key, for this request, once.
    const url = `${GITHUB}/repos/acme/api`;
    const rsProof = (key: TestKey, jti?: string) =>
      import('./broker-crypto-test-support.js').then((m) =>
        m.createDpopProof({
          key,
          htm: 'GET',
          htu: url,
          iat: t.clock.seconds(),
          accessToken: body.access_token,
          ...(jti ? { jti } : {}),
        }),
      );
    t.clock.set(T0);
    const p1 = await rsProof(dpopKey, 'rs-1');
    const ok = await t.broker.verifyToken(body.access_token, {
      dpopProof: p1,
      method: 'GET',
      url,
      scheme: 'DPoP',
    });
    expect(ok).toMatchObject({ ok: true, jkt, scopes: ['repo:read'] });
    expect(
      await t.broker.verifyToken(body.access_token, { dpopProof: p1, method: 'GET', url, scheme: 'DPoP' }),
    ).toMatchObject({
      ok: false,
      error: 'invalid_dpop_proof',
      reason: 'dpop-replayed',
    });
    expect(
      await t.broker.verifyToken(body.access_token, {
        dpopProof: await rsProof(otherDpopKey),
        method: 'GET',
        url,
        scheme: 'DPoP',
      }),
    ).toMatchObject({
      ok: false,
      error: 'invalid_dpop_proof',
      reason: 'dpop-key-mismatch',
      message: 'the DPoP proof was made with another key than the one the token is bound to',
    });
    const asBearer = await t.broker.verifyToken(body.access_token, { method: 'GET', url, scheme: 'Bearer' });
    expect(asBearer).toMatchObject({
      ok: false,
      status: 401,
      error: 'invalid_token',
      reason: 'dpop-required',
    });
    expect(asBearer.ok ? '' : asBearer.wwwAuthenticate).toBe(
      'DPoP algs="EdDSA ES256 ES384 ES512 PS256 RS256", error="invalid_token", error_description="the token is DPoP-bound; send it with the DPoP scheme and a DPoP proof"',
    );
    expect(await t.broker.verifyToken(body.access_token, { method: 'GET', url })).toMatchObject({
      ok: false,
      reason: 'dpop-required',
    });
  });

  it('a proof is honoured when the policy does not require one', async () => {
    const t = await setup();
    const a = await t.agent('plain-agent');
    const res = await t.broker.token(
      tokenRequest(
        { grant_type: CC, scope: 'repo:read', resource: GITHUB },
        { ...t.basic(a), dpopProof: await tokenProof(dpopKey, t.clock) },
      ),
    );
    expect(okBody(res).token_type).toBe('DPoP');
  });

  it('with server nonces on: use_dpop_nonce with a DPoP-Nonce header, then the retry succeeds', async () => {
    const t = await setup(sqliteStore, { dpopNonce: true });
    const a = await t.agent('plain-agent');
    const params = { grant_type: CC, scope: 'repo:read', resource: GITHUB };
    const first = await t.broker.token(
      tokenRequest(params, { ...t.basic(a), dpopProof: await tokenProof(dpopKey, t.clock) }),
    );
    expectError(first, 400, 'use_dpop_nonce', 'DPoP proof: this server requires a nonce (DPoP-Nonce)');
    const nonce = first.headers['dpop-nonce']!;
    expect(nonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    const wrong = await t.broker.token(
      tokenRequest(params, { ...t.basic(a), dpopProof: await tokenProof(dpopKey, t.clock, { nonce: 'x' }) }),
    );
    expectError(
      wrong,
      400,
      'use_dpop_nonce',
      'DPoP proof: the nonce is not the one this server issued; use the latest DPoP-Nonce',
    );
    const retry = await t.broker.token(
      tokenRequest(params, { ...t.basic(a), dpopProof: await tokenProof(dpopKey, t.clock, { nonce }) }),
    );
    expect(okBody(retry).token_type).toBe('DPoP');
    expect(retry.headers['dpop-nonce']).toBe(nonce);
  });
});

describe('token exchange (RFC 8693)', () => {
  async function chain() {
    const t = await setup();
    const planner = await t.agent('planner-agent', 'planner');
    const support = await t.agent('support-agent', 'support');
    const alice = await issuerToken(
      idpKey,
      { sub: 'user:alice', scope: 'repo:read issues:write email' },
      t.clock,
      IDP,
    );
    const exchange = (who: { clientId: string; secret: string }, params: Record<string, string>) =>
      t.broker.token(tokenRequest({ grant_type: EXCHANGE, ...params }, t.basic(who)));
    return { t, planner, support, alice, exchange };
  }

  it('a two-level act chain through two exchanges', async () => {
    const { t, planner, support, alice, exchange } = await chain();
    const first = await exchange(planner, {
      subject_token: alice,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: GITHUB,
      scope: 'repo:read issues:write',
      task: 'T-9',
    });
    const firstBody = okBody(first);
    expect(firstBody).toMatchObject({
      token_type: 'Bearer',
      issued_token_type: ACCESS_TOKEN_TYPE,
      scope: 'repo:read issues:write',
      expires_in: 600,
    });
    const c1 = payloadOf(firstBody.access_token);
    expect(c1).toMatchObject({
      sub: 'user:alice',
      aud: GITHUB,
      client_id: planner.clientId,
      task: 'T-9',
      act: { sub: planner.id, client_id: planner.clientId },
    });
    // The planner's token is capped at the subject token's expiry (600 s left), under the 900 s default.
    expect(c1.exp).toBe(t.clock.seconds() + 600);

    t.clock.advance(60);
    const second = await exchange(support, {
      subject_token: firstBody.access_token,
      subject_token_type: ACCESS_TOKEN_TYPE,
      scope: 'repo:read',
    });
    const c2 = claimsOf(second);
    expect(c2).toMatchObject({
      sub: 'user:alice',
      aud: GITHUB,
      scope: 'repo:read',
      client_id: support.clientId,
      task: 'T-9',
      act: {
        sub: support.id,
        client_id: support.clientId,
        act: { sub: planner.id, client_id: planner.clientId },
      },
    });
    expect(c2.exp).toBe(t.clock.seconds() + 300);
    const exchanged = await t.events('broker.token.exchanged');
    expect(exchanged).toHaveLength(2);
    expect(exchanged[1]!.data).toMatchObject({
      jti: c2.jti,
      subjectToken: { iss: ISSUER, sub: 'user:alice', jti: c1.jti },
      actorToken: null,
      actors: [support.id, planner.id],
      actChainDepth: 2,
    });
    expect((await t.events('broker.token.issued'))[1]!.data).toMatchObject({
      grantType: EXCHANGE,
      actChainDepth: 2,
    });
  });

  it('refuses a chain deeper than the policy allows', async () => {
    const { t, planner, support, alice, exchange } = await chain();
    const first = okBody(
      await exchange(planner, {
        subject_token: alice,
        subject_token_type: ACCESS_TOKEN_TYPE,
        resource: GITHUB,
      }),
    );
    const second = okBody(
      await exchange(support, { subject_token: first.access_token, subject_token_type: ACCESS_TOKEN_TYPE }),
    );
    // Another planner (depth 1 allowed) cannot add a third actor; the support agent (depth 2) neither.
    const planner2 = await t.agent('planner-agent', 'planner-2');
    expectError(
      await exchange(planner2, { subject_token: first.access_token, subject_token_type: ACCESS_TOKEN_TYPE }),
      400,
      'invalid_request',
      'the delegation chain would hold 2 actors; agent type planner-agent allows at most 1',
    );
    const support2 = await t.agent('support-agent', 'support-2');
    expectError(
      await exchange(support2, { subject_token: second.access_token, subject_token_type: ACCESS_TOKEN_TYPE }),
      400,
      'invalid_request',
      'the delegation chain would hold 3 actors; agent type support-agent allows at most 2',
    );
  });

  it('refuses bad exchange requests with exact errors', async () => {
    const { t, planner, alice, exchange } = await chain();
    const plain = await t.agent('plain-agent');
    const subject = { subject_token: alice, subject_token_type: ACCESS_TOKEN_TYPE, resource: GITHUB };
    expectError(
      await exchange(plain, subject),
      400,
      'unauthorized_client',
      'agent type plain-agent may not exchange tokens (exchange.allowed is false)',
    );
    expectError(
      await exchange(planner, { subject_token_type: ACCESS_TOKEN_TYPE }),
      400,
      'invalid_request',
      'the subject_token parameter is missing',
    );
    expectError(
      await exchange(planner, { subject_token: alice }),
      400,
      'invalid_request',
      'the subject_token_type parameter is missing',
    );
    expectError(
      await exchange(planner, { ...subject, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }),
      400,
      'invalid_request',
      "subject_token_type 'urn:ietf:params:oauth:token-type:saml2' is not supported; use urn:ietf:params:oauth:token-type:access_token or urn:ietf:params:oauth:token-type:jwt",
    );
    expectError(
      await exchange(planner, { ...subject, actor_token: alice }),
      400,
      'invalid_request',
      'actor_token_type is required with actor_token',
    );
    expectError(
      await exchange(planner, { ...subject, audience: 'github' }),
      400,
      'invalid_target',
      'the audience parameter is not supported; name the API the token is for with resource (RFC 8707)',
    );
    const stranger = await issuerToken(
      idpKey,
      { sub: 'user:bob', scope: 'repo:read' },
      t.clock,
      'https://unknown.test',
    );
    expectError(
      await exchange(planner, { ...subject, subject_token: stranger }),
      400,
      'invalid_request',
      "the subject token's issuer is not trusted by this broker",
    );
    const forged = alice.slice(0, -4) + (alice.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expectError(
      await exchange(planner, { ...subject, subject_token: forged }),
      400,
      'invalid_request',
      'subject token rejected: workload token: the signature does not verify',
    );
    const own = okBody(await exchange(planner, subject)).access_token;
    const support = await t.agent('support-agent', 'support-x');
    expectError(
      await exchange(support, {
        subject_token: own,
        subject_token_type: ACCESS_TOKEN_TYPE,
        resource: BILLING,
      }),
      400,
      'invalid_target',
      "the subject token was not issued for resource 'https://billing.internal.example'; an exchanged token is for the resource of its subject token",
    );
    const noScope = await issuerToken(idpKey, { sub: 'user:carol' }, t.clock, IDP);
    expectError(
      await exchange(planner, { ...subject, subject_token: noScope, scope: 'repo:read' }),
      400,
      'invalid_scope',
      'the subject token carries no scope, so there is nothing to delegate',
    );
    // Within the verifier's 5 s leeway the exchange rules still refuse an expired subject token.
    t.clock.advance(601);
    expectError(await exchange(planner, subject), 400, 'invalid_request', 'the subject token has expired');
    t.clock.advance(10);
    expectError(
      await exchange(planner, subject),
      400,
      'invalid_request',
      'subject token rejected: workload token has expired',
    );
  });

  it('a DPoP-bound subject token is exchanged only with a proof of its key, and the result stays bound', async () => {
    const { t, planner, support, alice } = await chain();
    const bound = okBody(
      await t.broker.token(
        tokenRequest(
          {
            grant_type: EXCHANGE,
            subject_token: alice,
            subject_token_type: ACCESS_TOKEN_TYPE,
            resource: GITHUB,
          },
          { ...t.basic(planner), dpopProof: await tokenProof(dpopKey, t.clock) },
        ),
      ),
    );
    expect(bound.token_type).toBe('DPoP');
    const jkt = await computeJkt(dpopKey.publicJwk);
    const again = (dpopProof?: string) =>
      t.broker.token(
        tokenRequest(
          { grant_type: EXCHANGE, subject_token: bound.access_token, subject_token_type: ACCESS_TOKEN_TYPE },
          { ...t.basic(support), ...(dpopProof === undefined ? {} : { dpopProof }) },
        ),
      );
    expectError(
      await again(),
      400,
      'invalid_grant',
      'the subject token is DPoP-bound; send a DPoP proof made with the key it is bound to',
    );
    const otherKey = await generateTestKey('ES256');
    expectError(
      await again(await tokenProof(otherKey, t.clock)),
      400,
      'invalid_grant',
      'the subject token is bound to another DPoP key than the proof of this request',
    );
    const ok = await again(await tokenProof(dpopKey, t.clock));
    expect(okBody(ok).token_type).toBe('DPoP');
    expect(claimsOf(ok)).toMatchObject({ sub: 'user:alice', cnf: { jkt } });
    const denied = (await t.events('broker.token.denied')).map((e) => e.data.reason);
    expect(denied).toEqual(['subject-token-dpop', 'subject-token-dpop']);
  });

  it('a revoked subject token cannot be exchanged', async () => {
    const { t, planner, support, alice, exchange } = await chain();
    const first = okBody(
      await exchange(planner, {
        subject_token: alice,
        subject_token_type: ACCESS_TOKEN_TYPE,
        resource: GITHUB,
      }),
    );
    await t.broker.revoke(
      { kind: 'jti', value: payloadOf(first.access_token).jti as string, reason: 'leaked' },
      'test',
    );
    expectError(
      await exchange(support, { subject_token: first.access_token, subject_token_type: ACCESS_TOKEN_TYPE }),
      400,
      'invalid_request',
      'subject token rejected: access token has been revoked',
    );
  });
});

describe('approvals', () => {
  async function pending(t: Setup) {
    const a = await t.agent('support-agent');
    const res = await t.broker.token(
      tokenRequest({ grant_type: CC, scope: 'invoices:refund', resource: BILLING }, t.basic(a)),
    );
    const id = (res.body as { auth_req_id: string }).auth_req_id;
    return {
      a,
      id,
      poll: () => t.broker.token(tokenRequest({ grant_type: CIBA, auth_req_id: id }, t.basic(a))),
    };
  }

  it('a denied request answers access_denied', async () => {
    const t = await setup();
    const { id, poll } = await pending(t);
    await t.broker.decideApproval(id, 'deny', 'farid@example.com', 'not for this customer');
    t.clock.advance(5);
    expectError(await poll(), 400, 'access_denied', 'a person denied the request');
  });

  it('no decision before the deadline answers expired_token, and the request can no longer be decided', async () => {
    const t = await setup();
    const { id, poll } = await pending(t);
    t.clock.advance(601);
    expectError(
      await poll(),
      400,
      'expired_token',
      'nobody approved the request before its deadline; ask again',
    );
    expect((await t.broker.getApproval(id))!.status).toBe('expired');
    await expect(t.broker.decideApproval(id, 'approve', 'farid@example.com')).rejects.toMatchObject({
      code: 'KW_CONFLICT',
    });
    expect(await t.events('broker.approval.expired')).toHaveLength(1);
  });

  it('another client cannot poll for the request', async () => {
    const t = await setup();
    const { id } = await pending(t);
    const other = await t.agent('support-agent', 'other');
    await t.broker.decideApproval(id, 'approve', 'farid@example.com');
    expectError(
      await t.broker.token(tokenRequest({ grant_type: CIBA, auth_req_id: id }, t.basic(other))),
      400,
      'invalid_grant',
      'auth_req_id is unknown or was issued to another client',
    );
  });

  it('the timer expires overdue requests; listApprovals shows current statuses', async () => {
    const t = await setup();
    const { id } = await pending(t);
    expect((await t.broker.listApprovals({ status: 'pending' })).items.map((x) => x.id)).toEqual([id]);
    t.clock.advance(600);
    expect((await t.broker.expireApprovals()).map((x) => x.id)).toEqual([id]);
    expect((await t.broker.listApprovals({ status: 'pending' })).total).toBe(0);
  });

  it('decideApproval checks its input', async () => {
    const t = await setup();
    const { id } = await pending(t);
    await expect(t.broker.decideApproval('apr_none', 'approve', 'x')).rejects.toMatchObject({
      code: 'KW_NOT_FOUND',
    });
    await expect(t.broker.decideApproval(id, 'maybe' as 'approve', 'x')).rejects.toMatchObject({
      code: 'KW_VALIDATION',
    });
    await expect(t.broker.decideApproval(id, 'approve', ' ')).rejects.toMatchObject({
      code: 'KW_VALIDATION',
    });
  });
});

describe('hostile input', () => {
  it('is answered with an RFC error, never a crash', async () => {
    const t = await setup();
    const a = await t.agent('support-agent');
    const { unsecuredJwt, signTestJwt, b64json } = await import('./broker-crypto-test-support.js');
    const noneToken = unsecuredJwt(
      { iss: ISSUER, sub: 'user:x', aud: GITHUB, exp: t.clock.seconds() + 60, scope: 'repo:read' },
      { typ: 'at+jwt', kid: 'k' },
    );
    const hs = await signTestJwt(
      { alg: 'HS256', typ: 'at+jwt', kid: 'k' },
      { iss: ISSUER, sub: 'user:x', aud: GITHUB, exp: t.clock.seconds() + 60 },
      new TextEncoder().encode('public-key-bytes-used-as-a-secret'),
    );
    const exchange = (subject: string) =>
      t.broker.token(
        tokenRequest(
          {
            grant_type: EXCHANGE,
            subject_token: subject,
            subject_token_type: ACCESS_TOKEN_TYPE,
            resource: GITHUB,
          },
          t.basic(a),
        ),
      );
    expectError(
      await exchange(noneToken),
      400,
      'invalid_request',
      "subject token rejected: access token: algorithm 'none' is not allowed (allowed: EdDSA)",
    );
    expectError(
      await exchange(hs),
      400,
      'invalid_request',
      "subject token rejected: access token: algorithm 'HS256' is not allowed (allowed: EdDSA)",
    );
    expectError(
      await exchange('x'.repeat(20_000)),
      400,
      'invalid_request',
      'the subject token is not a readable JWT',
    );
    expectError(
      await exchange(`${b64json({ alg: 'EdDSA' })}.${b64json({ iss: ISSUER })}.sig`),
      400,
      'invalid_request',
      "subject token rejected: access token: the 'typ' header must be 'at+jwt'",
    );
    const weird: Array<Record<string, string>> = [
      { grant_type: CC, scope: '\u0000\u0001', resource: GITHUB },
      { grant_type: CC, scope: 'a'.repeat(100_000), resource: 'x'.repeat(5000) },
      { grant_type: CC, scope: 'repo:read', resource: 'https://api.github.com#frag' },
      { grant_type: 'x'.repeat(10_000) },
      { grant_type: CIBA, auth_req_id: '../../etc/passwd' },
    ];
    for (const params of weird) {
      const res = await t.broker.token(tokenRequest(params, t.basic(a)));
      expect(res.status).toBe(400);
      expect(res.body).toHaveProperty('error');
      expect(JSON.stringify(res.body)).toMatch(/^[\x20-\x7e]*$/);
    }
    const dpop = await t.broker.token(
      tokenRequest(
        { grant_type: CC, scope: 'repo:read', resource: GITHUB },
        { ...t.basic(a), dpopProof: noneToken },
      ),
    );
    expectError(
      dpop,
      400,
      'invalid_dpop_proof',
      "DPoP proof: algorithm 'none' is not allowed (allowed: EdDSA, Ed25519, ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512)",
    );
  });

  it('a store failure is answered 500 server_error and reported', async () => {
    const t = await setup();
    const a = await t.agent('plain-agent');
    const broken = new Proxy(t.store, {
      get(target, prop, receiver) {
        if (prop === 'getAgentByClientId') return () => Promise.reject(new Error('connection reset'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const errors: unknown[] = [];
    const broker = makeBroker(broken, t.clock, {}, { onError: (e) => errors.push(e) });
    cleanups.push(() => broker.close());
    const res = await broker.token(
      tokenRequest({ grant_type: CC, scope: 'repo:read', resource: GITHUB }, t.basic(a)),
    );
    expect(res).toEqual({
      status: 500,
      body: {
        error: 'server_error',
        error_description: 'the broker could not process the request; try again later',
      },
      headers: NO_STORE,
    });
    expect((errors[0] as Error).message).toBe('connection reset');
  });
});
