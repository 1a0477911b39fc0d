import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey } from 'node:crypto';
import { exportSPKI } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import { ValidationError } from '../core/errors.js';
import { fixedClock } from '../core/time.js';
import { createFederatedTokenVerifier, GITHUB_ACTIONS_ISSUER } from './federated-token.js';
import type { FederatedIssuerConfig, FederatedVerification } from './federated-token.js';
import { generateTestKey, signTestJwt, startJwksServer, unsecuredJwt } from './broker-crypto-test-support.js';
import type { TestJwksServer, TestKey } from './broker-crypto-test-support.js';

const NOW = 1_767_225_600;
const clock = fixedClock(new Date(NOW * 1000));
const AUDIENCE = 'https://keyward.test';
const K8S_ISSUER = 'https://kubernetes.default.svc.cluster.local';

let github: TestKey;
let githubNext: TestKey;
let k8s: TestKey;
let server: TestJwksServer;

beforeAll(async () => {
  github = await generateTestKey('RS256', 'gh-1');
  githubNext = await generateTestKey('RS256', 'gh-2');
  k8s = await generateTestKey('ES256', 'k8s-1');
  server = await startJwksServer({ keys: [github.publicJwk] });
});
afterAll(async () => {
  await server.close();
});

/** Claims shaped like a GitHub Actions OIDC token. */
function githubClaims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: GITHUB_ACTIONS_ISSUER,
    aud: AUDIENCE,
    sub: 'repo:acme/deploy-bot:ref:refs/heads/main',
    repository: 'acme/deploy-bot',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    run_attempt: '1',
    iat: NOW - 30,
    nbf: NOW - 30,
    exp: NOW + 270,
    ...overrides,
  };
}

function githubToken(
  overrides: JWTPayload = {},
  key = github,
  header: Record<string, unknown> = {},
): Promise<string> {
  return signTestJwt(
    { alg: 'RS256', typ: 'JWT', kid: key.publicJwk.kid, ...header },
    githubClaims(overrides),
    key.privateKey,
  );
}

function githubConfig(overrides: Partial<FederatedIssuerConfig> = {}): FederatedIssuerConfig {
  return {
    issuer: GITHUB_ACTIONS_ISSUER,
    audience: AUDIENCE,
    jwks: server.url,
    boundClaims: { sub: 'repo:acme/*:ref:refs/heads/main', repository_owner: 'acme' },
    ...overrides,
  };
}

function reasonOf(r: FederatedVerification): string {
  return r.ok ? 'ok' : r.reason;
}

describe('federated workload tokens (GitHub Actions shape, JWKS by URL)', () => {
  it('accepts a token from the issuer, for the audience, matching the bound claims', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig(), { clock });
    const result = await verifier.verify(await githubToken());
    expect(result).toEqual({
      ok: true,
      issuer: GITHUB_ACTIONS_ISSUER,
      subject: 'repo:acme/deploy-bot:ref:refs/heads/main',
      claims: githubClaims(),
    });
  });

  it('fetches the JWKS once and caches it; refetches for a new kid after the issuer rotates', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig(), { clock, cooldownMs: 0 });
    const before = server.fetches();
    expect(reasonOf(await verifier.verify(await githubToken()))).toBe('ok');
    expect(reasonOf(await verifier.verify(await githubToken()))).toBe('ok');
    expect(server.fetches() - before).toBe(1);
    server.setJwks({ keys: [github.publicJwk, githubNext.publicJwk] });
    try {
      expect(reasonOf(await verifier.verify(await githubToken({}, githubNext)))).toBe('ok');
      expect(server.fetches() - before).toBe(2);
    } finally {
      server.setJwks({ keys: [github.publicJwk] });
    }
  });

  it('claim-mismatch: another branch, another org; names the claim and both values', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig(), { clock });
    const branch = await verifier.verify(
      await githubToken({ sub: 'repo:acme/deploy-bot:ref:refs/heads/dev' }),
    );
    expect(branch).toEqual({
      ok: false,
      reason: 'claim-mismatch',
      claim: 'sub',
      message:
        'workload token: "sub" is "repo:acme/deploy-bot:ref:refs/heads/dev", expected "repo:acme/*:ref:refs/heads/main"',
    });
    const org = await verifier.verify(
      await githubToken({ sub: 'repo:evil/acme:ref:refs/heads/main', repository_owner: 'evil' }),
    );
    expect(reasonOf(org)).toBe('claim-mismatch');
    // A prefix trick: the pattern must match the whole value.
    const trick = await verifier.verify(await githubToken({ sub: 'repo:acme/x:ref:refs/heads/main-evil' }));
    expect(reasonOf(trick)).toBe('claim-mismatch');
  });

  it('missing-claim: a bound claim the token does not carry; exp and sub are required', async () => {
    const verifier = createFederatedTokenVerifier(
      githubConfig({ boundClaims: { environment: 'production' } }),
      {
        clock,
      },
    );
    expect(await verifier.verify(await githubToken())).toMatchObject({
      ok: false,
      reason: 'missing-claim',
      claim: 'environment',
    });
    const plain = createFederatedTokenVerifier(githubConfig({ boundClaims: {} }), { clock });
    expect(reasonOf(await plain.verify(await githubToken({ exp: undefined })))).toBe('missing-claim');
    expect(reasonOf(await plain.verify(await githubToken({ sub: undefined })))).toBe('missing-claim');
  });

  it('wrong-issuer, wrong-audience', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig(), { clock });
    expect(reasonOf(await verifier.verify(await githubToken({ iss: 'https://evil.test' })))).toBe(
      'wrong-issuer',
    );
    expect(reasonOf(await verifier.verify(await githubToken({ aud: 'https://other.test' })))).toBe(
      'wrong-audience',
    );
    expect(
      reasonOf(await verifier.verify(await githubToken({ aud: ['https://other.test', AUDIENCE] }))),
    ).toBe('ok');
  });

  it('expired, not-yet-valid (nbf or iat in the future), too-old', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig({ maxTokenAgeSeconds: 600 }), { clock });
    expect(reasonOf(await verifier.verify(await githubToken({ exp: NOW - 10 })))).toBe('expired');
    expect(reasonOf(await verifier.verify(await githubToken({ nbf: NOW + 60 })))).toBe('not-yet-valid');
    expect(reasonOf(await verifier.verify(await githubToken({ iat: NOW + 60, nbf: undefined })))).toBe(
      'not-yet-valid',
    );
    expect(reasonOf(await verifier.verify(await githubToken({ iat: NOW - 3600, nbf: undefined })))).toBe(
      'too-old',
    );
  });

  it('unknown-key and bad-signature', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig(), { clock });
    const stranger = await generateTestKey('RS256', 'gh-unknown');
    expect(reasonOf(await verifier.verify(await githubToken({}, stranger)))).toBe('unknown-key');
    const impostor = await generateTestKey('RS256', 'gh-1');
    expect(reasonOf(await verifier.verify(await githubToken({}, impostor)))).toBe('bad-signature');
  });

  it('alg-not-allowed: none, and HS256 with the issuer public key as the secret', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig(), { clock });
    expect(reasonOf(await verifier.verify(unsecuredJwt(githubClaims())))).toBe('alg-not-allowed');
    const pem = await exportSPKI(createPublicKey({ key: github.publicJwk as never, format: 'jwk' }));
    const hs = await signTestJwt(
      { alg: 'HS256', kid: 'gh-1' },
      githubClaims(),
      new Uint8Array(Buffer.from(pem)),
    );
    expect(reasonOf(await verifier.verify(hs))).toBe('alg-not-allowed');
  });

  it('wrong-type: an explicitly typed JWT of another kind', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig(), { clock });
    expect(reasonOf(await verifier.verify(await githubToken({}, github, { typ: 'at+jwt' })))).toBe(
      'wrong-type',
    );
    expect(reasonOf(await verifier.verify(await githubToken({}, github, { typ: undefined })))).toBe('ok');
  });

  it('malformed: not a JWT', async () => {
    const verifier = createFederatedTokenVerifier(githubConfig(), { clock });
    for (const token of ['', 'abc', 'a.b.c', `${'a'.repeat(17_000)}.b.c`]) {
      expect(reasonOf(await verifier.verify(token))).toBe('malformed');
    }
  });

  it('key-set-unavailable: the JWKS URL does not answer', async () => {
    const down = await startJwksServer({ keys: [] });
    await down.close();
    const verifier = createFederatedTokenVerifier(githubConfig({ jwks: down.url }), {
      clock,
      timeoutMs: 1000,
    });
    expect(reasonOf(await verifier.verify(await githubToken()))).toBe('key-set-unavailable');
  });
});

describe('federated workload tokens (Kubernetes shape, inline JWKS)', () => {
  const k8sClaims = (overrides: JWTPayload = {}): JWTPayload => ({
    iss: K8S_ISSUER,
    aud: [AUDIENCE],
    sub: 'system:serviceaccount:payments:ledger-agent',
    'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'ledger-agent', uid: 'u-1' } },
    iat: NOW - 10,
    exp: NOW + 3600,
    ...overrides,
  });
  const config = (boundClaims: FederatedIssuerConfig['boundClaims']): FederatedIssuerConfig => ({
    issuer: K8S_ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [k8s.publicJwk] } as JSONWebKeySet,
    boundClaims,
  });
  const token = (overrides: JWTPayload = {}) =>
    signTestJwt({ alg: 'ES256', kid: 'k8s-1' }, k8sClaims(overrides), k8s.privateKey);

  it('matches nested claims by JSON Pointer and lists of patterns', async () => {
    const verifier = createFederatedTokenVerifier(
      config({
        '/kubernetes.io/namespace': ['staging', 'payments'],
        '/kubernetes.io/serviceaccount/name': 'ledger-*',
        sub: 'system:serviceaccount:payments:*',
      }),
      { clock },
    );
    expect(reasonOf(await verifier.verify(await token()))).toBe('ok');
    const other = await token({
      'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'ledger-agent' } },
    });
    expect(await verifier.verify(other)).toMatchObject({
      ok: false,
      reason: 'claim-mismatch',
      claim: '/kubernetes.io/namespace',
    });
  });

  it('claim-mismatch for a bound claim that is an object, not a single value', async () => {
    const verifier = createFederatedTokenVerifier(config({ 'kubernetes.io': '*' }), { clock });
    expect(reasonOf(await verifier.verify(await token()))).toBe('claim-mismatch');
  });
});

describe('federated issuer configuration', () => {
  it('refuses a plain-http JWKS URL outside loopback, empty audiences, empty patterns, HMAC algorithms', () => {
    let err: unknown;
    try {
      createFederatedTokenVerifier({
        issuer: GITHUB_ACTIONS_ISSUER,
        audience: [],
        jwks: 'http://token.actions.githubusercontent.com/.well-known/jwks',
        boundClaims: { sub: '' },
        algorithms: ['HS256'],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_CONFIG');
    expect((err as ValidationError).details).toEqual([
      { path: 'audience', message: 'one or more non-empty strings required' },
      { path: 'boundClaims.sub', message: 'patterns must be non-empty strings' },
      { path: 'algorithms', message: '"HS256" is not an accepted asymmetric signature algorithm' },
      { path: 'jwks', message: 'the JWKS URL must use https (http only on a loopback address)' },
    ]);
  });

  it('accepts https URLs and http on 127.0.0.1', () => {
    expect(() =>
      createFederatedTokenVerifier(
        githubConfig({ jwks: 'https://token.actions.githubusercontent.com/.well-known/jwks' }),
      ),
    ).not.toThrow();
    expect(() => createFederatedTokenVerifier(githubConfig())).not.toThrow();
  });
});
