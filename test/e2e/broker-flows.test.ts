/**
 * The broker's OAuth flows end to end: a real `keyward serve --port 0` child process (SQLite in a temporary data
 * dir) set up with the built CLI, the client side played by oauth4webapi, tokens checked by a resource server
 * that uses jose's createRemoteJWKSet against the served JWKS, and the proxy in front of a local upstream.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  SignJWT,
  type JWTPayload,
} from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callResource,
  generateTestKey,
  recordingFetch,
  startRecordingUpstream,
  startResourceServer,
  writeJwksFile,
  type LocalServer,
  type RecordedRequest,
  type TestKey,
} from './broker-flows-support.js';
import { removeDir, requireBuild, runJson, startServe, tempDir, type ServeProcess } from './e2e-helpers.js';

const REPORTS = 'https://reports.flows.test';
const BILLING = 'https://billing.flows.test';
const CI_ISSUER = 'https://ci.flows.test';
const IDP_ISSUER = 'https://idp.flows.test';
const FEDERATION_AUDIENCE = 'keyward-flows';
const TICKETS_AUDIENCE = 'keyward:upstream:tickets';
const TICKETS_SECRET = 'tk_live_flows_0123456789abcdef';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
const TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

/** The policies, one agent type each (JSON is read by the same YAML 1.2 parser). */
function policies(issuer: string): Record<string, object> {
  return {
    'reports-agent': {
      agentType: 'reports-agent',
      owner: 'reports@example.com',
      tokens: { maxTtl: '10m', defaultTtl: '5m' },
      allow: [
        { resource: REPORTS, scopes: ['reports:read', 'reports:write'] },
        { resource: BILLING, scopes: ['invoices:read'] },
      ],
    },
    'ci-agent': {
      agentType: 'ci-agent',
      owner: 'ci@example.com',
      allow: [{ resource: REPORTS, scopes: ['reports:read'] }],
    },
    planner: {
      agentType: 'planner',
      owner: 'planning@example.com',
      allow: [{ resource: REPORTS, scopes: ['reports:read', 'reports:write'] }],
      exchange: { allowed: true, maxChainDepth: 1, subjectIssuers: [IDP_ISSUER] },
    },
    support: {
      agentType: 'support',
      owner: 'support@example.com',
      allow: [{ resource: REPORTS, scopes: ['reports:read', 'reports:comment'] }],
      exchange: { allowed: true, maxChainDepth: 2, subjectIssuers: [issuer] },
    },
    auditor: {
      agentType: 'auditor',
      owner: 'audit@example.com',
      allow: [{ resource: REPORTS, scopes: ['reports:read'] }],
      exchange: { allowed: true, maxChainDepth: 2, subjectIssuers: [issuer] },
    },
    'tickets-agent': {
      agentType: 'tickets-agent',
      owner: 'ops@example.com',
      tokens: { requireDpop: true },
      allow: [{ resource: TICKETS_AUDIENCE, scopes: ['tickets:read'] }],
    },
  };
}

/** `agents register --json`. */
interface Registered {
  agent: { id: string };
  clientId: string;
  clientSecret?: string;
}

/** The body of an OAuth error answer. */
interface OAuthError {
  error: string;
  error_description: string;
}

let dir: string;
let serve: ServeProcess | undefined;
let upstream: (LocalServer & { requests: RecordedRequest[] }) | undefined;
let resourceServer: LocalServer | undefined;
let issuer: string;
let as: oauth.AuthorizationServer;
const keys: Record<'agent' | 'ci' | 'ciImpostor' | 'idp', TestKey> = {} as Record<
  'agent' | 'ci' | 'ciImpostor' | 'idp',
  TestKey
>;
const agents: Record<string, Registered> = {};

const kw = <T>(...args: string[]): Promise<T> =>
  runJson<T>(['--data-dir', dir, ...args], { USER: 'e2e', TICKETS_KEY: TICKETS_SECRET });

/** Applies the policies and registers the agents, issuers and the upstream with the built CLI. */
async function setUpBroker(): Promise<void> {
  for (const [name, policy] of Object.entries(policies(issuer))) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(policy, null, 2));
    await kw('agent-types', 'apply', file);
  }
  const ciJwks = writeJwksFile(dir, 'ci-jwks.json', [keys.ci]);
  await kw('issuers', 'add', CI_ISSUER, '--jwks', ciJwks, '--audience', FEDERATION_AUDIENCE);
  const idpJwks = writeJwksFile(dir, 'idp-jwks.json', [keys.idp]);
  await kw('issuers', 'add', IDP_ISSUER, '--jwks', idpJwks, '--audience', FEDERATION_AUDIENCE);

  const agentJwks = writeJwksFile(dir, 'agent-jwks.json', [keys.agent]);
  const register = (type: string, name: string, ...extra: string[]) =>
    kw<Registered>('agents', 'register', type, '--name', name, ...extra);
  agents.keyBot = await register('reports-agent', 'key-bot', '--jwks', agentJwks, '--no-secret');
  agents.secretBot = await register('reports-agent', 'secret-bot');
  agents.ciBot = await register(
    'ci-agent',
    'ci-bot',
    '--federated',
    CI_ISSUER,
    '--claim',
    'repository=acme/*',
    '--no-secret',
  );
  agents.planner = await register('planner', 'planner-bot');
  agents.support = await register('support', 'support-bot');
  agents.auditor = await register('auditor', 'auditor-bot');
  agents.tickets = await register('tickets-agent', 'tickets-bot');

  await kw(
    'upstreams',
    'add',
    'tickets',
    '--base-url',
    upstream!.url,
    '--auth',
    'header',
    '--header',
    'X-Api-Key',
    '--secret-env',
    'TICKETS_KEY',
    '--route',
    'tickets:read GET /tickets/*',
  );
}

beforeAll(async () => {
  requireBuild();
  dir = tempDir('kw-flows-');
  const [agentKey, ciKey, impostorKey, idpKey] = await Promise.all([
    generateTestKey('agent-key-1'),
    generateTestKey('ci-key-1'),
    generateTestKey('ci-key-1'), // the same kid as the CI issuer's key, another key pair
    generateTestKey('idp-key-1'),
  ]);
  Object.assign(keys, { agent: agentKey, ci: ciKey, ciImpostor: impostorKey, idp: idpKey });
  upstream = await startRecordingUpstream();
  serve = await startServe(['--data-dir', dir, '--port', '0']);
  issuer = serve.url;
  as = {
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
  };
  resourceServer = await startResourceServer({ issuer, audience: REPORTS });
  await setUpBroker();
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  await upstream?.close();
  await resourceServer?.close();
  removeDir(dir);
});

/** The broker's JWKS as a resource would fetch it. */
const brokerJwks = () => createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));

/** Verifies a broker access token as a resource for `audience` would. */
async function verifyAccessToken(token: string, audience: string): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(token, brokerJwks(), {
    issuer,
    audience,
    typ: 'at+jwt',
  });
  expect(protectedHeader.alg).toMatch(/^(EdDSA|Ed25519)$/);
  return payload;
}

/** An oauth4webapi ClientAuth that sends a workload token as the client assertion, with client_id. */
function workloadTokenAuth(workloadToken: string): oauth.ClientAuth {
  return (_as, client, body) => {
    body.set('client_id', client.client_id);
    body.set('client_assertion_type', JWT_BEARER);
    body.set('client_assertion', workloadToken);
  };
}

/** A JWT signed as a trusted issuer would sign it (a CI workload token or a user's IdP token). */
function signIssuerToken(
  key: TestKey,
  iss: string,
  claims: JWTPayload,
  expiresAt: number = Math.floor(Date.now() / 1000) + 300,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(iss)
    .setAudience(FEDERATION_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(key.pair.privateKey);
}

/** POSTs a form body to the token endpoint as it is. */
async function postToken(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(as.token_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as OAuthError };
}

/** A client_credentials grant with client_secret_basic through oauth4webapi. */
async function clientCredentials(agent: Registered, scope: string, resource: string) {
  const client: oauth.Client = { client_id: agent.clientId };
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretBasic(agent.clientSecret!),
    new URLSearchParams({ scope, resource }),
    INSECURE,
  );
  return oauth.processClientCredentialsResponse(as, client, response);
}

/** An RFC 8693 exchange through oauth4webapi's generic token endpoint request, by an agent with a secret. */
async function exchange(agent: Registered, params: Record<string, string>): Promise<Response> {
  return oauth.genericTokenEndpointRequest(
    as,
    { client_id: agent.clientId },
    oauth.ClientSecretBasic(agent.clientSecret!),
    TOKEN_EXCHANGE,
    new URLSearchParams(params),
    INSECURE,
  );
}

describe('broker OAuth flows against keyward serve', () => {
  it('private_key_jwt: oauth4webapi PrivateKeyJwt gets a token with the expected claims; a replayed assertion is 401 invalid_client', async () => {
    const client: oauth.Client = { client_id: agents.keyBot!.clientId };
    const recorder = recordingFetch();
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.PrivateKeyJwt({ key: keys.agent.pair.privateKey, kid: keys.agent.kid }),
      new URLSearchParams({ scope: 'reports:read', resource: REPORTS }),
      { ...INSECURE, [oauth.customFetch]: recorder.fetch },
    );
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.token_type).toBe('bearer');
    expect(result.scope).toBe('reports:read');
    expect(result.expires_in).toBe(300);

    // What the library sent is really private_key_jwt, not a secret.
    const sentForm = new URLSearchParams(recorder.sent[0]!.body!);
    expect(sentForm.get('client_assertion_type')).toBe(JWT_BEARER);
    expect(recorder.sent[0]!.headers.authorization).toBeUndefined();

    const claims = await verifyAccessToken(result.access_token, REPORTS);
    expect(claims).toMatchObject({
      iss: issuer,
      sub: agents.keyBot!.agent.id,
      aud: REPORTS,
      scope: 'reports:read',
      client_id: agents.keyBot!.clientId,
    });
    expect(claims.exp! - claims.iat!).toBe(300); // defaultTtl 5m, within maxTtl 10m
    expect(claims.cnf).toBeUndefined();

    // The same assertion (same jti) again: refused, and no token.
    const replay = await postToken(recorder.sent[0]!.body!);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({
      error: 'invalid_client',
      error_description: 'client assertion rejected: client assertion was already used (jti seen before)',
    });
  });

  it('federated JWT: a workload token with matching claims gets a token; repository=evil/x and a token from another key are 401 invalid_client', async () => {
    const client: oauth.Client = { client_id: agents.ciBot!.clientId };
    const request = (workloadToken: string) =>
      oauth.clientCredentialsGrantRequest(
        as,
        client,
        workloadTokenAuth(workloadToken),
        new URLSearchParams({ scope: 'reports:read', resource: REPORTS }),
        INSECURE,
      );
    const workload = (key: TestKey, repository: string) =>
      signIssuerToken(key, CI_ISSUER, { sub: `repo:${repository}:ref:refs/heads/main`, repository });

    const ok = await oauth.processClientCredentialsResponse(
      as,
      client,
      await request(await workload(keys.ci, 'acme/api')),
    );
    const claims = await verifyAccessToken(ok.access_token, REPORTS);
    expect(claims).toMatchObject({
      iss: issuer,
      sub: agents.ciBot!.agent.id,
      client_id: agents.ciBot!.clientId,
      scope: 'reports:read',
    });

    const refusal = async (workloadToken: string) => {
      const res = await request(workloadToken);
      return { status: res.status, body: (await res.json()) as OAuthError };
    };
    expect(await refusal(await workload(keys.ci, 'evil/x'))).toEqual({
      status: 401,
      body: {
        error: 'invalid_client',
        error_description:
          "workload token rejected: its claims match none of this agent's bindings for the issuer",
      },
    });
    // Signed with another key under the CI issuer's kid.
    expect(await refusal(await workload(keys.ciImpostor, 'acme/api'))).toEqual({
      status: 401,
      body: {
        error: 'invalid_client',
        error_description: 'workload token rejected: workload token: the signature does not verify',
      },
    });
  });

  it('token exchange: user → planner → support gives sub = user, act = {support, act: {planner}}, the scope intersection and the user token’s exp; a third actor is refused', async () => {
    const userExp = Math.floor(Date.now() / 1000) + 240; // sooner than any policy lifetime
    const userToken = await signIssuerToken(
      keys.idp,
      IDP_ISSUER,
      { sub: 'user:alice', scope: 'reports:read reports:write profile' },
      userExp,
    );

    const first = await oauth.processGenericTokenEndpointResponse(
      as,
      { client_id: agents.planner!.clientId },
      await exchange(agents.planner!, {
        subject_token: userToken,
        subject_token_type: TYPE_JWT,
        resource: REPORTS,
      }),
    );
    expect(first.issued_token_type).toBe(TYPE_ACCESS_TOKEN);
    const plannerClaims = await verifyAccessToken(first.access_token, REPORTS);
    expect(plannerClaims).toMatchObject({
      sub: 'user:alice',
      scope: 'reports:read reports:write',
      exp: userExp,
      act: { sub: agents.planner!.agent.id, client_id: agents.planner!.clientId },
    });

    // The support agent exchanges the planner's token; the resource is the one it was issued for.
    const second = await oauth.processGenericTokenEndpointResponse(
      as,
      { client_id: agents.support!.clientId },
      await exchange(agents.support!, {
        subject_token: first.access_token,
        subject_token_type: TYPE_ACCESS_TOKEN,
      }),
    );
    expect(second.issued_token_type).toBe(TYPE_ACCESS_TOKEN);
    expect(second.scope).toBe('reports:read');
    const claims = await verifyAccessToken(second.access_token, REPORTS);
    expect(claims.sub).toBe('user:alice');
    expect(claims.iss).toBe(issuer);
    expect(claims.aud).toBe(REPORTS);
    expect(claims.client_id).toBe(agents.support!.clientId);
    expect(claims.scope).toBe('reports:read'); // user {read, write, profile} ∩ planner ∩ support {read, comment}
    expect(claims.exp).toBe(userExp);
    expect(claims.act).toEqual({
      sub: agents.support!.agent.id,
      client_id: agents.support!.clientId,
      act: { sub: agents.planner!.agent.id, client_id: agents.planner!.clientId },
    });

    // A third actor exceeds the auditor type's maxChainDepth of 2.
    const third = await exchange(agents.auditor!, {
      subject_token: second.access_token,
      subject_token_type: TYPE_ACCESS_TOKEN,
    });
    expect(third.status).toBe(400);
    expect(await third.json()).toEqual({
      error: 'invalid_request',
      error_description: 'the delegation chain would hold 3 actors; agent type auditor allows at most 2',
    });
  });

  it('DPoP: oauth4webapi gets a DPoP-bound token; the proxy takes it with a fresh proof and injects the credential; no proof, a replayed proof or a token request without a proof are refused', async () => {
    const agent = agents.tickets!;
    const client: oauth.Client = { client_id: agent.clientId };
    const dpopKey = await generateTestKey('dpop-key');
    const dpop = oauth.DPoP(client, dpopKey.pair);
    const params = new URLSearchParams({ scope: 'tickets:read', resource: TICKETS_AUDIENCE });

    // tokens.requireDpop: a token request without a proof is refused.
    const unproven = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(agent.clientSecret!),
      params,
      INSECURE,
    );
    expect(unproven.status).toBe(400);
    expect(await unproven.json()).toEqual({
      error: 'invalid_request',
      error_description:
        'this agent type requires DPoP-bound tokens; send a DPoP proof with the request (RFC 9449)',
    });

    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(agent.clientSecret!),
      params,
      { ...INSECURE, DPoP: dpop },
    );
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.token_type).toBe('dpop');
    const token = result.access_token;
    expect(decodeJwt(token).cnf).toEqual({ jkt: dpopKey.thumbprint });
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');

    // Through the proxy with a fresh proof (htm, htu, ath) made by oauth4webapi.
    const url = new URL(`${issuer}/proxy/tickets/tickets/42`);
    const recorder = recordingFetch();
    const answer = await oauth.protectedResourceRequest(token, 'GET', url, new Headers(), null, {
      ...INSECURE,
      DPoP: dpop,
      [oauth.customFetch]: recorder.fetch,
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ ticket: '/tickets/42' });
    const sentProof = recorder.sent[0]!.headers.dpop!;
    expect(decodeJwt(sentProof)).toMatchObject({ htm: 'GET', htu: url.href });
    expect(decodeJwt(sentProof).ath).toEqual(expect.any(String));

    expect(upstream!.requests).toHaveLength(1);
    const seen = upstream!.requests[0]!;
    expect(seen.url).toBe('/tickets/42');
    expect(seen.headers['x-api-key']).toBe(TICKETS_SECRET);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.dpop).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain(token);

    const refused = async (headers: Record<string, string>) => {
      const res = await fetch(url, { headers });
      return {
        status: res.status,
        challenge: res.headers.get('www-authenticate'),
        body: (await res.json()) as OAuthError,
      };
    };
    // No proof with the DPoP scheme.
    const noProofMessage = 'the token is DPoP-bound; send a DPoP proof with the request';
    expect(await refused({ authorization: `DPoP ${token}` })).toEqual({
      status: 401,
      challenge: `DPoP error="invalid_token", error_description="${noProofMessage}", resource_metadata="${issuer}/.well-known/oauth-protected-resource/proxy/tickets"`,
      body: { error: 'invalid_token', error_description: noProofMessage },
    });
    // The proof oauth4webapi sent, sent again.
    const replayMessage = 'DPoP proof was already used (jti seen before)';
    expect(await refused({ authorization: `DPoP ${token}`, dpop: sentProof })).toEqual({
      status: 401,
      challenge: `DPoP error="invalid_dpop_proof", error_description="${replayMessage}", resource_metadata="${issuer}/.well-known/oauth-protected-resource/proxy/tickets"`,
      body: { error: 'invalid_dpop_proof', error_description: replayMessage },
    });
    // A bound token downgraded to Bearer.
    const bearerMessage = 'the token is DPoP-bound; send it with the DPoP scheme and a DPoP proof';
    expect(await refused({ authorization: `Bearer ${token}` })).toEqual({
      status: 401,
      challenge: `Bearer error="invalid_token", error_description="${bearerMessage}", resource_metadata="${issuer}/.well-known/oauth-protected-resource/proxy/tickets"`,
      body: { error: 'invalid_token', error_description: bearerMessage },
    });

    expect(upstream!.requests).toHaveLength(1);
  });

  it('resource server: client_credentials tokens (Bearer and DPoP-bound) verify via createRemoteJWKSet; one issued for another resource is refused', async () => {
    const rs = resourceServer!.url;
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const forReports = await clientCredentials(agents.secretBot!, 'reports:read reports:write', REPORTS);
    expect(forReports.token_type).toBe('bearer');
    expect(forReports.scope).toBe('reports:read reports:write');
    expect(await callResource(rs, bearer(forReports.access_token))).toMatchObject({
      status: 200,
      claims: {
        iss: issuer,
        aud: REPORTS,
        sub: agents.secretBot!.agent.id,
        client_id: agents.secretBot!.clientId,
        scope: 'reports:read reports:write',
      },
    });

    const forBilling = await clientCredentials(agents.secretBot!, 'invoices:read', BILLING);
    expect(decodeJwt(forBilling.access_token).aud).toBe(BILLING);
    expect(await callResource(rs, bearer(forBilling.access_token))).toEqual({
      status: 401,
      error: 'invalid_token',
      description: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });

    // A DPoP-bound token at the same resource server: oauth4webapi makes the proof, the server checks it.
    const client: oauth.Client = { client_id: agents.secretBot!.clientId };
    const dpopKey = await generateTestKey('rs-dpop-key');
    const dpop = oauth.DPoP(client, dpopKey.pair);
    const bound = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(agents.secretBot!.clientSecret!),
        new URLSearchParams({ scope: 'reports:read', resource: REPORTS }),
        { ...INSECURE, DPoP: dpop },
      ),
    );
    expect(bound.token_type).toBe('dpop');
    const recorder = recordingFetch();
    const answer = await oauth.protectedResourceRequest(
      bound.access_token,
      'GET',
      new URL(`${rs}/reports/7`),
      new Headers(),
      null,
      { ...INSECURE, DPoP: dpop, [oauth.customFetch]: recorder.fetch },
    );
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { claims: JWTPayload }).claims).toMatchObject({
      sub: agents.secretBot!.agent.id,
      scope: 'reports:read',
      cnf: { jkt: dpopKey.thumbprint },
    });
    // The bound token without its proof, downgraded to Bearer, or with the proof replayed.
    expect(await callResource(rs, bearer(bound.access_token))).toEqual({
      status: 401,
      error: 'invalid_token',
      description: 'the token must be sent with the DPoP scheme',
    });
    expect(
      await callResource(rs, {
        authorization: `DPoP ${bound.access_token}`,
        dpop: recorder.sent[0]!.headers.dpop!,
      }),
    ).toEqual({ status: 401, error: 'invalid_dpop_proof', description: 'bad jti' });
  });
});
