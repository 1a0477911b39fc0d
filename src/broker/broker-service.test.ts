import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { generateTestKey, type TestKey } from './broker-crypto-test-support.js';
import {
  BILLING,
  CI_ISSUER,
  GITHUB,
  ISSUER,
  makeBroker,
  movingClock,
  okBody,
  payloadOf,
  PLAIN_POLICY,
  sqliteStore,
  SUPPORT_POLICY,
  T0,
  T0_SECONDS,
  tokenRequest,
  type MovingClock,
} from './broker-service-test-support.js';
import { brokerConfigSchema, normalizeIssuer, type BrokerService } from './broker-service.js';
import type { Store } from '../store/index.js';
import { readAll, startTestUpstream } from './proxy/proxy-test-support.js';

let agentKey: TestKey;
let ciKey: TestKey;
beforeAll(async () => {
  agentKey = await generateTestKey('EdDSA', 'agent-key-1');
  ciKey = await generateTestKey('RS256', 'ci-key-1');
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(): Promise<{ store: Store; broker: BrokerService; clock: MovingClock }> {
  const ts = await sqliteStore();
  const clock = movingClock();
  const broker = makeBroker(ts.store, clock);
  cleanups.push(async () => {
    await broker.close();
    await ts.dispose();
  });
  return { store: ts.store, broker, clock };
}

async function errorOf(p: Promise<unknown>): Promise<ValidationError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return err as ValidationError;
}

describe('agent types', () => {
  it('applies a policy file: created, unchanged on re-apply, a new version when it changes', async () => {
    const { broker, store } = await setup();
    const first = await broker.applyAgentType({ fileName: 'support.yaml', text: SUPPORT_POLICY }, 'cli');
    expect(first).toMatchObject({
      created: true,
      changed: true,
      agentType: {
        name: 'support-agent',
        owner: 'farid@example.com',
        policySource: 'support.yaml',
        policyVersion: 1,
      },
    });
    expect(first.policy.tokens.defaultTtlSeconds).toBe(300);
    expect(first.agentType.policy).toMatchObject({
      agentType: 'support-agent',
      tokens: { maxTtl: '15m', defaultTtl: '5m' },
    });
    const again = await broker.applyAgentType({ fileName: 'support.yaml', text: SUPPORT_POLICY }, 'cli');
    expect(again).toMatchObject({ created: false, changed: false, agentType: { policyVersion: 1 } });
    const edited = await broker.applyAgentType(
      { fileName: 'support.yaml', text: SUPPORT_POLICY.replace('defaultTtl: 5m', 'defaultTtl: 10m') },
      'cli',
    );
    expect(edited).toMatchObject({ created: false, changed: true, agentType: { policyVersion: 2 } });
    expect((await broker.getPolicy('support-agent')).tokens.defaultTtlSeconds).toBe(600);
    expect((await broker.getAgentType(first.agentType.id))!.name).toBe('support-agent');
    expect((await broker.listAgentTypes()).items.map((t) => t.name)).toEqual(['support-agent']);
    const applied = (await store.readEvents(0, 100)).filter((e) => e.type === 'broker.agent-type.applied');
    expect(applied.map((e) => [e.actor, e.data.policyVersion])).toEqual([
      ['cli', 1],
      ['cli', 2],
    ]);
  });

  it('reports policy errors with file, line and field; checks the expected name; accepts API values', async () => {
    const { broker } = await setup();
    const bad = await errorOf(
      broker.applyAgentType(
        {
          fileName: 'support.yaml',
          text: SUPPORT_POLICY.replace('scopes: [repo:read, issues:write]', 'scope: [repo:read]'),
        },
        'cli',
      ),
    );
    expect(bad.message).toBe('support.yaml:8: allow[0].scopes: is required (and 1 more problem)');
    expect(bad.details).toEqual([
      { path: 'support.yaml:8: allow[0].scopes', message: 'is required' },
      { path: 'support.yaml:9: allow[0].scope', message: 'unknown field; did you mean scopes?' },
    ]);
    const named = await errorOf(
      broker.applyAgentType(
        { fileName: 'support.yaml', text: SUPPORT_POLICY, expectedAgentType: 'billing-agent' },
        'cli',
      ),
    );
    expect(named.message).toBe(
      "support.yaml:2: agentType: is 'support-agent' but the policy is being applied to agent type 'billing-agent'; the names must match",
    );
    const fromApi = await broker.applyAgentType(
      {
        value: {
          agentType: 'api-agent',
          owner: 'a@example.com',
          allow: [{ resource: GITHUB, scopes: ['repo:read'] }],
        },
      },
      'api:admin',
    );
    expect(fromApi.agentType).toMatchObject({ name: 'api-agent', policySource: 'api' });
    const apiError = await errorOf(
      broker.applyAgentType({ value: { agentType: 'x', owner: 'o', allow: [{}] } }, 'api:admin'),
    );
    expect(apiError.details[0]).toEqual({ path: 'policy.allow[0].resource', message: 'is required' });
  });
});

describe('agents', () => {
  it('registers an agent and shows its client secret once; the store keeps only a hash', async () => {
    const { broker, store } = await setup();
    await broker.applyAgentType({ fileName: 'plain.yaml', text: PLAIN_POLICY }, 'cli');
    const reg = await broker.registerAgent('plain-agent', { name: 'bot-1', withSecret: true }, 'cli');
    expect(reg.clientId).toMatch(/^kwc_[0-9a-v]{16}$/);
    expect(reg.clientSecret).toMatch(/^kwcs_[A-Za-z0-9_-]{43}$/);
    expect(reg.clientSecretFingerprint!.preview).toBe(`kwcs…${reg.clientSecret!.slice(-4)}`);
    expect(reg.agent).toMatchObject({
      name: 'bot-1',
      status: 'active',
      auth: { hasSecret: true, jwks: null, federated: [] },
    });
    expect(JSON.stringify(reg.agent)).not.toContain('scrypt');
    const stored = (await store.getAgent(reg.agent.id))!;
    expect(stored.auth.secretHash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(JSON.stringify(await store.readEvents(0, 100))).not.toContain(reg.clientSecret!);
    expect(await broker.getAgent(reg.clientId)).toEqual(reg.agent);
    expect(JSON.stringify(await broker.listAgents({ agentType: 'plain-agent' }))).not.toContain('scrypt');
    expect(
      (await broker.listAgents({ agentType: 'plain-agent', status: 'active' })).items.map((a) => a.name),
    ).toEqual(['bot-1']);

    // A new secret replaces the old one at once.
    const reset = await broker.resetClientSecret(reg.agent.id, 'cli');
    expect(reset.clientSecret).not.toBe(reg.clientSecret);
    const ask = (secret: string) =>
      broker.token(
        tokenRequest(
          { grant_type: 'client_credentials', scope: 'repo:read', resource: GITHUB },
          { basicAuth: { clientId: reg.clientId, clientSecret: secret } },
        ),
      );
    expect((await ask(reg.clientSecret!)).status).toBe(401);
    expect((await ask(reset.clientSecret!)).status).toBe(200);
  });

  it('checks registrations: a login method, valid public keys, configured federated issuers', async () => {
    const { broker } = await setup();
    await broker.applyAgentType({ fileName: 'plain.yaml', text: PLAIN_POLICY }, 'cli');
    await expect(
      broker.registerAgent('no-such-type', { name: 'x', withSecret: true }, 'cli'),
    ).rejects.toMatchObject({
      code: 'KW_NOT_FOUND',
    });
    expect(
      (await errorOf(broker.registerAgent('plain-agent', { name: 'x', withSecret: false }, 'cli'))).message,
    ).toBe(
      'the agent needs a way to log in: a client secret, a JWKS (private_key_jwt) or a federated binding',
    );
    expect(
      (await errorOf(broker.registerAgent('plain-agent', { name: ' ', withSecret: true }, 'cli'))).message,
    ).toBe('name must be 1 to 100 characters without control characters');
    const privateKey = await errorOf(
      broker.registerAgent(
        'plain-agent',
        { name: 'x', jwks: { keys: [{ ...agentKey.publicJwk, d: 'secret' }] }, withSecret: false },
        'cli',
      ),
    );
    expect(privateKey.details).toEqual([
      {
        path: 'jwks.keys[0]',
        message: 'holds private or symmetric key material; register the public key only',
      },
    ]);
    const federated = await errorOf(
      broker.registerAgent(
        'plain-agent',
        { name: 'x', federated: [{ issuer: CI_ISSUER, claims: { sub: 'repo:a/b' } }], withSecret: false },
        'cli',
      ),
    );
    expect(federated.message).toBe(
      `federated[0].issuer: no federated issuer ${CI_ISSUER} is configured; save it first`,
    );
    await broker.saveFederatedIssuer(
      { issuer: CI_ISSUER, jwks: { keys: [ciKey.publicJwk] }, audience: ISSUER },
      'cli',
    );
    const empty = await errorOf(
      broker.registerAgent(
        'plain-agent',
        { name: 'x', federated: [{ issuer: CI_ISSUER, claims: {} }], withSecret: false },
        'cli',
      ),
    );
    expect(empty.details[0]!.path).toBe('federated[0].claims');
    const wildcard = await errorOf(
      broker.registerAgent(
        'plain-agent',
        { name: 'x', federated: [{ issuer: CI_ISSUER, claims: { sub: '*' } }], withSecret: false },
        'cli',
      ),
    );
    expect(wildcard.details[0]).toEqual({
      path: 'federated[0].claims.sub',
      message: 'must be a non-empty pattern that is not just *',
    });
    const ok = await broker.registerAgent(
      'plain-agent',
      {
        name: 'ci',
        federated: [{ issuer: CI_ISSUER, claims: { sub: 'repo:acme/*' } }],
        jwks: { keys: [agentKey.publicJwk] },
        withSecret: false,
      },
      'cli',
    );
    expect(ok.agent.auth).toMatchObject({
      hasSecret: false,
      federated: [{ issuer: CI_ISSUER, claims: { sub: 'repo:acme/*' } }],
    });
    expect(ok.agent.auth.jwks!.keys[0]).toMatchObject({ kid: 'agent-key-1', kty: 'OKP' });
    await expect(
      broker.registerAgent('plain-agent', { name: 'ci', withSecret: true }, 'cli'),
    ).rejects.toMatchObject({
      code: 'KW_CONFLICT',
    });
  });

  it('disabling an agent refuses its logins and revokes the tokens it holds; enabling lets it log in again', async () => {
    const { broker, clock } = await setup();
    await broker.applyAgentType({ fileName: 'plain.yaml', text: PLAIN_POLICY }, 'cli');
    const reg = await broker.registerAgent('plain-agent', { name: 'bot', withSecret: true }, 'cli');
    const ask = () =>
      broker.token(
        tokenRequest(
          { grant_type: 'client_credentials', scope: 'repo:read', resource: GITHUB },
          { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
        ),
      );
    const token = okBody(await ask()).access_token;
    clock.advance(1);
    expect(await broker.disableAgent(reg.clientId, 'admin', { reason: 'compromised' })).toMatchObject({
      status: 'disabled',
    });
    expect(await broker.introspect(token)).toEqual({ active: false });
    expect((await ask()).status).toBe(401);
    await broker.enableAgent(reg.agent.id, 'admin');
    clock.advance(1);
    expect((await ask()).status).toBe(200);
    expect(await broker.introspect(token)).toEqual({ active: false });
  });

  it('a token issued in the same second as a revocation of its agent, but after it, is not born revoked', async () => {
    const ts = await sqliteStore();
    // 300 ms into a second: iat has whole seconds, revocation cutoffs have milliseconds. The clock stands still
    // until the revocation is made (so a slow machine cannot carry set-up past the second), then runs in real
    // time for the broker to wait out the second.
    const base = Date.parse(T0) + 300;
    let started: number | null = null;
    const clock = { now: () => new Date(base + (started === null ? 0 : Date.now() - started)) };
    const broker = makeBroker(ts.store, clock);
    cleanups.push(async () => {
      await broker.close();
      await ts.dispose();
    });
    await broker.applyAgentType({ fileName: 'plain.yaml', text: PLAIN_POLICY }, 'cli');
    const reg = await broker.registerAgent('plain-agent', { name: 'bot', withSecret: true }, 'cli');
    const ask = () =>
      broker.token(
        tokenRequest(
          { grant_type: 'client_credentials', scope: 'repo:read', resource: GITHUB },
          { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
        ),
      );
    const before = okBody(await ask()).access_token;
    await broker.revoke({ kind: 'agent', value: reg.agent.id }, 'admin');
    started = Date.now();
    const after = okBody(await ask()).access_token;
    expect(await broker.introspect(before)).toEqual({ active: false });
    expect(await broker.introspect(after)).toMatchObject({ active: true });
    // It waited for the next second rather than carry the revoked second's iat.
    expect(payloadOf(after).iat).toBe(T0_SECONDS + 1);
    expect(clock.now().getTime()).toBeGreaterThanOrEqual(Date.parse(T0) + 1000);
  });
});

describe('federated issuers', () => {
  it('saves an issuer with inline keys or a URL, never both, never private keys', async () => {
    const { broker } = await setup();
    const saved = await broker.saveFederatedIssuer(
      { issuer: CI_ISSUER, jwks: { keys: [ciKey.publicJwk] }, audience: ISSUER },
      'cli',
    );
    expect(saved).toMatchObject({
      created: true,
      federatedIssuer: { issuer: CI_ISSUER, jwksUri: null, audience: ISSUER },
    });
    expect(
      (
        await broker.saveFederatedIssuer(
          {
            issuer: 'https://token.actions.githubusercontent.com',
            jwksUri: 'https://token.actions.githubusercontent.com/.well-known/jwks',
            audience: ISSUER,
          },
          'cli',
        )
      ).created,
    ).toBe(true);
    expect((await broker.listFederatedIssuers()).map((i) => i.issuer)).toEqual([
      CI_ISSUER,
      'https://token.actions.githubusercontent.com',
    ]);
    expect(
      (await errorOf(broker.saveFederatedIssuer({ issuer: 'https://x.test', audience: ISSUER }, 'cli')))
        .message,
    ).toBe("give the issuer's keys either as jwksUri or as jwks, not both or neither");
    expect(
      (
        await errorOf(
          broker.saveFederatedIssuer(
            { issuer: 'https://x.test', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, audience: ISSUER },
            'cli',
          ),
        )
      ).message,
    ).toBe('jwks.keys[0] must be a public key');
    const http = await errorOf(
      broker.saveFederatedIssuer(
        { issuer: 'https://x.test', jwksUri: 'http://keys.example/jwks', audience: ISSUER },
        'cli',
      ),
    );
    expect(http.details).toEqual([
      { path: 'jwks', message: 'the JWKS URL must use https (http only on a loopback address)' },
    ]);
  });
});

describe('introspection (RFC 7662)', () => {
  it('describes an active token and answers inactive for anything else', async () => {
    const { broker, clock } = await setup();
    await broker.applyAgentType({ fileName: 'support.yaml', text: SUPPORT_POLICY }, 'cli');
    const reg = await broker.registerAgent('support-agent', { name: 'bot', withSecret: true }, 'cli');
    const token = okBody(
      await broker.token(
        tokenRequest(
          {
            grant_type: 'client_credentials',
            scope: 'repo:read',
            resource: GITHUB,
            task: 'T-1',
            purpose: 'triage',
          },
          { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
        ),
      ),
    ).access_token;
    const c = payloadOf(token);
    expect(await broker.introspect(token)).toEqual({
      active: true,
      iss: ISSUER,
      sub: reg.agent.id,
      aud: GITHUB,
      scope: 'repo:read',
      client_id: reg.clientId,
      exp: c.exp,
      iat: c.iat,
      nbf: c.iat,
      jti: c.jti,
      token_type: 'Bearer',
      task: 'T-1',
      purpose: 'triage',
    });
    for (const bad of ['', 'garbage', token.slice(0, -2), `${token.split('.')[0]}.e30.`]) {
      expect(await broker.introspect(bad)).toEqual({ active: false });
    }
    const other = makeBroker((await sqliteStore()).store, clock, { issuer: 'https://other.test' });
    cleanups.push(() => other.close());
    expect(await other.introspect(token)).toEqual({ active: false });
    clock.advance(300);
    expect(await broker.introspect(token)).toEqual({ active: false });
  });

  it('verifyToken checks the audience when given', async () => {
    const { broker } = await setup();
    await broker.applyAgentType({ fileName: 'plain.yaml', text: PLAIN_POLICY }, 'cli');
    const reg = await broker.registerAgent('plain-agent', { name: 'bot', withSecret: true }, 'cli');
    const token = okBody(
      await broker.token(
        tokenRequest(
          { grant_type: 'client_credentials', scope: 'repo:read', resource: GITHUB },
          { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
        ),
      ),
    ).access_token;
    expect(
      await broker.verifyToken(token, { method: 'GET', url: `${BILLING}/x`, audience: BILLING }),
    ).toMatchObject({
      ok: false,
      reason: 'wrong-audience',
      wwwAuthenticate:
        'Bearer error="invalid_token", error_description="access token is meant for another audience"',
    });
    const ok = await broker.verifyToken(token, { method: 'GET', url: `${GITHUB}/x`, audience: GITHUB });
    expect(ok).toMatchObject({ ok: true, scopes: ['repo:read'], jkt: null });
    expect(ok.ok && ok.agentTypeId).toMatch(/^aty_/);
    expect(
      await broker.verifyToken(token, { method: 'GET', url: `${GITHUB}/x`, scheme: 'DPoP' }),
    ).toMatchObject({
      ok: false,
      reason: 'not-dpop-bound',
    });
  });
});

describe('explain', () => {
  it('names the rule that allows or denies each scope, for an agent or an agent type', async () => {
    const { broker } = await setup();
    await broker.applyAgentType({ fileName: 'support.yaml', text: SUPPORT_POLICY }, 'cli');
    const reg = await broker.registerAgent('support-agent', { name: 'bot', withSecret: true }, 'cli');
    const e = await broker.explain({
      agent: reg.clientId,
      scope: 'invoices:read invoices:refund admin:write',
      resource: BILLING,
      sourceIp: '10.1.2.3',
    });
    expect(e.decision).toMatchObject({
      effect: 'allow',
      scopes: ['invoices:read', 'invoices:refund'],
      needsApproval: ['invoices:refund'],
    });
    expect(e.agentType).toMatchObject({
      name: 'support-agent',
      policyVersion: 1,
      policySource: 'support.yaml',
    });
    expect(e.agent!.clientId).toBe(reg.clientId);
    expect(e.text).toBe(
      [
        'Agent type support-agent (support.yaml)',
        'Resource:  https://billing.internal.example',
        'Requested: invoices:read invoices:refund admin:write',
        '',
        'Scopes:',
        "  invoices:read    allow  allow[1] (line 10): resource matches 'https://billing.internal.example' and scope matches 'invoices:read'",
        "  invoices:refund  allow  allow[1] (line 10): resource matches 'https://billing.internal.example' and scope matches 'invoices:refund'",
        "                   note   allow[1].approval (line 12): needs a person's approval (timeout 10m)",
        '  admin:write      deny   allow (line 7): no allow rule for this resource lists admin:write',
        "                   deny   deny[0] (line 15): resource matches '*' and scope matches 'admin:*'; deny rules win over allow rules",
        '',
        'Checks:',
        '  allow  conditions.sourceCidrs (line 18): source address 10.1.2.3 is in 10.0.0.0/8',
        '  note   request.scope: dropped admin:write; the token carries only the allowed scopes',
        '  note   tokens.defaultTtl (line 6): no lifetime requested; defaultTtl 5m',
        '',
        "Result: allow invoices:read invoices:refund for 5m; needs a person's approval for invoices:refund",
      ].join('\n'),
    );
    const byType = await broker.explain({
      agentType: 'support-agent',
      scope: 'repo:read',
      resource: GITHUB,
      sourceIp: '192.0.2.9',
      at: T0,
    });
    expect(byType.decision).toMatchObject({ effect: 'deny', error: 'unauthorized_client' });
    expect(byType.agent).toBeNull();
    await expect(broker.explain({ scope: 'x', resource: GITHUB })).rejects.toMatchObject({
      code: 'KW_VALIDATION',
    });
    await expect(broker.explain({ agentType: 'nope', scope: 'x', resource: GITHUB })).rejects.toMatchObject({
      code: 'KW_NOT_FOUND',
    });
  });
});

describe('explain names the line of each rule in the text the policy was applied from', () => {
  const JSON_TEXT = [
    '{',
    '  "agentType": "api-agent",',
    '  "owner": "a@example.com",',
    '  "allow": [',
    `    { "resource": "${GITHUB}", "scopes": ["repo:read"] }`,
    '  ],',
    '  "deny": [{ "resource": "*", "scopes": ["repo:admin"] }]',
    '}',
  ].join('\n');
  const scopesOf = (e: { reasons: Array<{ rule: string; line: number | null; scope?: string }> }) =>
    e.reasons.filter((r) => r.scope !== undefined).map((r) => [r.scope, r.rule, r.line]);

  it('an API body keeps its JSON text: lines of that text, source api', async () => {
    const { broker } = await setup();
    const value = JSON.parse(JSON_TEXT) as unknown;
    await broker.applyAgentType({ value, source: 'api', text: JSON_TEXT }, 'api:admin');
    const e = await broker.explain({
      agentType: 'api-agent',
      scope: 'repo:read repo:admin',
      resource: GITHUB,
    });
    expect(scopesOf(e)).toEqual([
      ['repo:read', 'allow[0]', 5],
      ['repo:admin', 'allow', 4],
      ['repo:admin', 'deny[0]', 7],
    ]);
    expect(e.text.split('\n').slice(0, 1)).toEqual(['Agent type api-agent (api)']);
    expect(e.text).toContain(
      "  repo:read   allow  allow[0] (line 5): resource matches 'https://api.github.com'",
    );
  });

  it('a changed comment moves the lines without a new policy version', async () => {
    const { broker } = await setup();
    await broker.applyAgentType({ fileName: 'support.yaml', text: SUPPORT_POLICY }, 'cli');
    const moved = await broker.applyAgentType(
      { fileName: 'support.yaml', text: `# owned by the support team\n${SUPPORT_POLICY}` },
      'cli',
    );
    expect(moved).toMatchObject({ changed: true, agentType: { policyVersion: 1 } });
    const e = await broker.explain({ agentType: 'support-agent', scope: 'invoices:read', resource: BILLING });
    expect(scopesOf(e)).toEqual([['invoices:read', 'allow[1]', 11]]);
  });

  it('without a stored text, or one that no longer reads as the stored policy, rules are named without lines', async () => {
    const { broker, store } = await setup();
    await broker.applyAgentType({ value: JSON.parse(JSON_TEXT) as unknown }, 'api:admin');
    const noText = await broker.explain({ agentType: 'api-agent', scope: 'repo:read', resource: GITHUB });
    expect(scopesOf(noText)).toEqual([['repo:read', 'allow[0]', null]]);
    expect(noText.reasons.every((r) => r.line === null)).toBe(true);

    const stored = (await store.getAgentType('api-agent'))!;
    await store.upsertAgentType(
      {
        name: stored.name,
        owner: stored.owner,
        policy: stored.policy,
        policySource: 'api',
        policyText: JSON_TEXT.replace('repo:read', 'repo:write'),
      },
      { time: '2026-03-01T10:00:00.000Z', actor: 'test' },
    );
    const stale = await broker.explain({ agentType: 'api-agent', scope: 'repo:read', resource: GITHUB });
    expect(scopesOf(stale)).toEqual([['repo:read', 'allow[0]', null]]);
    const broken = { ...stored, policyText: '{ not json' };
    await store.upsertAgentType(
      {
        name: broken.name,
        owner: broken.owner,
        policy: broken.policy,
        policySource: 'api',
        policyText: broken.policyText,
      },
      { time: '2026-03-01T10:00:01.000Z', actor: 'test' },
    );
    const unreadable = await broker.explain({ agentType: 'api-agent', scope: 'repo:read', resource: GITHUB });
    expect(scopesOf(unreadable)).toEqual([['repo:read', 'allow[0]', null]]);
  });
});

describe('discovery metadata', () => {
  it('RFC 8414 authorization server metadata', async () => {
    const { broker } = await setup();
    const m = broker.authorizationServerMetadata();
    expect(m).toMatchObject({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth/token`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      introspection_endpoint: `${ISSUER}/oauth/introspect`,
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      grant_types_supported: [
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:token-exchange',
        'urn:openid:params:grant-type:ciba',
      ],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
      dpop_signing_alg_values_supported: expect.arrayContaining(['EdDSA', 'ES256', 'RS256']),
    });
    expect(m.token_endpoint_auth_signing_alg_values_supported).not.toContain('none');
    expect(broker.endpoints.token).toBe(`${ISSUER}/oauth/token`);
  });

  it('RFC 9728 protected resource metadata for resources the policies or upstreams name', async () => {
    const { broker, store } = await setup();
    await broker.applyAgentType({ fileName: 'support.yaml', text: SUPPORT_POLICY }, 'cli');
    expect(await broker.protectedResourceMetadata(BILLING)).toEqual({
      resource: BILLING,
      authorization_servers: [ISSUER],
      scopes_supported: ['invoices:read', 'invoices:refund'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: [
        'EdDSA',
        'Ed25519',
        'ES256',
        'ES384',
        'ES512',
        'PS256',
        'PS384',
        'PS512',
        'RS256',
        'RS384',
        'RS512',
      ],
      dpop_bound_access_tokens_required: false,
    });
    expect(await broker.protectedResourceMetadata('https://unknown.example')).toBeNull();
    await store.saveUpstream(
      {
        name: 'github',
        baseUrl: 'https://api.github.com',
        auth: { kind: 'bearer' },
        sealedSecret: 'kw1.x.y.z',
        secretFingerprint: 'f'.repeat(64),
        secretPreview: 'ghp_…abcd',
        routes: [],
      },
      { time: T0, actor: 'cli' },
    );
    expect(await broker.protectedResourceMetadata(`${ISSUER}/proxy/github`)).toMatchObject({
      resource: `${ISSUER}/proxy/github`,
      authorization_servers: [ISSUER],
    });
    expect(await broker.protectedResourceMetadata('keyward:upstream:github')).toMatchObject({
      resource: 'keyward:upstream:github',
    });
    expect(await broker.protectedResourceMetadata(`${ISSUER}/proxy/gitlab`)).toBeNull();
    expect(await broker.protectedResourceMetadata('keyward:upstream:')).toBeNull();
  });
});

describe('configuration', () => {
  it('has documented defaults and checks the issuer and lifetimes', () => {
    expect(brokerConfigSchema.parse({})).toEqual({
      defaultTokenTtlSeconds: 900,
      maxTokenTtlSeconds: 3600,
      keyRotationDays: 30,
      revocationPollIntervalMs: 250,
      dpopIatWindowSeconds: 60,
      dpopNonce: false,
      approvalPollIntervalSeconds: 5,
    });
    expect(brokerConfigSchema.safeParse({ issuer: 'ftp://x' }).success).toBe(false);
    expect(brokerConfigSchema.safeParse({ issuer: 'https://k.example/?a=1' }).success).toBe(false);
    expect(brokerConfigSchema.safeParse({ defaultTokenTtlSeconds: 7200 }).success).toBe(false);
    expect(normalizeIssuer('https://K.example/')).toBe('https://k.example');
    expect(normalizeIssuer('https://k.example/tenant/')).toBe('https://k.example/tenant');
    expect(normalizeIssuer('https://user:pw@k.example')).toBeNull();
  });

  it('start() creates the signing key and close() stops the timers', async () => {
    const { broker, store } = await setup();
    const started = await broker.start();
    expect((await store.listSigningKeys()).map((k) => k.kid)).toEqual([started.signingKid]);
    expect((await broker.start()).signingKid).toBe(started.signingKid);
    await broker.close();
    await broker.close();
  });
});

describe('credential proxy wiring', () => {
  it('an agent calls an upstream through the proxy with its token; the upstream sees only the vaulted credential', async () => {
    const { broker, store } = await setup();
    const upstream = await startTestUpstream();
    cleanups.push(() => upstream.close());
    await broker.applyAgentType(
      {
        value: {
          agentType: 'tickets-agent',
          owner: 'ops@example.com',
          allow: [{ resource: 'keyward:upstream:tickets', scopes: ['tickets:read'] }],
        },
      },
      'cli',
    );
    const saved = await broker.saveUpstream(
      {
        name: 'tickets',
        baseUrl: upstream.url,
        auth: { kind: 'bearer' },
        secret: 'tk_live_0123456789abcdef',
        routes: [{ scope: 'tickets:read', methods: ['GET'], paths: ['/tickets/*'] }],
      },
      'cli',
    );
    expect(saved.upstream).toMatchObject({ name: 'tickets', secretPreview: 'tk_l…cdef' });
    expect(
      JSON.stringify([saved, await broker.listUpstreams(), await broker.getUpstream('tickets')]),
    ).not.toContain('tk_live_0123456789abcdef');
    const reg = await broker.registerAgent('tickets-agent', { name: 'triage', withSecret: true }, 'cli');
    const token = okBody(
      await broker.token(
        tokenRequest(
          { grant_type: 'client_credentials', scope: 'tickets:read', resource: 'keyward:upstream:tickets' },
          { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
        ),
      ),
    ).access_token;
    const proxy = broker.createProxy({ proxyUrl: `${ISSUER}/proxy` });
    cleanups.push(() => proxy.close());
    const call = () =>
      proxy.handle({
        method: 'GET',
        upstreamName: 'tickets',
        path: '/tickets/42',
        query: '',
        headers: { authorization: `Bearer ${token}` },
        body: null,
      });
    const res = await call();
    expect(res.status).toBe(200);
    expect((await readAll(res.body)).toString()).toBe('{"ok":true}');
    expect(upstream.requests[0]!.headers.authorization).toBe('Bearer tk_live_0123456789abcdef');
    const log = await store.readEvents(0, 1000);
    const [recorded] = log.filter((e) => e.type === 'proxy.call');
    expect(recorded!.data).toMatchObject({ jti: payloadOf(token).jti, status: 200 });
    // The completion names its start record, written before the call was forwarded, by its seq.
    const start = log.find((e) => e.seq === recorded!.data.startSeq)!;
    expect([start.type, start.data.jti, start.data.path, start.seq < recorded!.seq]).toEqual([
      'proxy.call.started',
      payloadOf(token).jti,
      '/tickets/42',
      true,
    ]);

    await broker.revoke({ kind: 'jti', value: payloadOf(token).jti as string }, 'admin');
    const refused = await call();
    expect(refused.status).toBe(401);
    expect(JSON.parse((await readAll(refused.body)).toString())).toEqual({
      error: 'invalid_token',
      error_description: 'access token has been revoked',
    });
    expect(upstream.requests).toHaveLength(1);
  });

  it('an MCP client finds the broker from the proxy’s 401 (RFC 9728) and may name the upstream by its URL', async () => {
    const { broker } = await setup();
    const upstream = await startTestUpstream();
    cleanups.push(() => upstream.close());
    await broker.applyAgentType(
      {
        value: {
          agentType: 'tickets-agent',
          owner: 'ops@example.com',
          allow: [{ resource: 'keyward:upstream:tickets', scopes: ['tickets:read'] }],
        },
      },
      'cli',
    );
    await broker.saveUpstream(
      {
        name: 'tickets',
        baseUrl: upstream.url,
        auth: { kind: 'bearer' },
        secret: 'tk_live_0123456789abcdef',
        routes: [{ scope: 'tickets:read', methods: ['GET'], paths: ['/tickets/*'] }],
      },
      'cli',
    );
    const proxy = broker.createProxy({ proxyUrl: `${ISSUER}/proxy` });
    cleanups.push(() => proxy.close());
    const call = (headers: Record<string, string>) =>
      proxy.handle({
        method: 'GET',
        upstreamName: 'tickets',
        path: '/tickets/1',
        query: '',
        headers,
        body: null,
      });

    // 1. No token: the challenge points at the upstream's metadata, which names the broker.
    const metadataUrl = `${ISSUER}/.well-known/oauth-protected-resource/proxy/tickets`;
    expect((await call({})).headers['www-authenticate']).toBe(
      `Bearer realm="keyward", resource_metadata="${metadataUrl}", DPoP realm="keyward", resource_metadata="${metadataUrl}"`,
    );
    const bad = await call({ authorization: 'Bearer abc.def.ghi' });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(
      new RegExp(
        `^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="${metadataUrl}"$`,
      ),
    );
    const metadata = await broker.protectedResourceMetadata(`${ISSUER}/proxy/tickets`);
    expect(metadata).toMatchObject({
      resource: `${ISSUER}/proxy/tickets`,
      authorization_servers: [ISSUER],
      scopes_supported: ['tickets:read'],
    });

    // 2. The client asks for a token for the resource by its URL (RFC 8707), as the MCP specification says.
    const reg = await broker.registerAgent('tickets-agent', { name: 'mcp', withSecret: true }, 'cli');
    const res = await broker.token(
      tokenRequest(
        { grant_type: 'client_credentials', scope: 'tickets:read', resource: `${ISSUER}/proxy/tickets` },
        { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
      ),
    );
    const token = okBody(res).access_token;
    expect(payloadOf(token).aud).toBe('keyward:upstream:tickets');
    expect((await call({ authorization: `Bearer ${token}` })).status).toBe(200);
    // A URL of something that is not an upstream name stays what it is, and no policy allows it.
    const other = await broker.token(
      tokenRequest(
        { grant_type: 'client_credentials', scope: 'tickets:read', resource: `${ISSUER}/proxy/tickets/x` },
        { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
      ),
    );
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ error: 'invalid_target' });
  });
});
