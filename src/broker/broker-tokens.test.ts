import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey } from 'node:crypto';
import { exportSPKI } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { ValidationError } from '../core/errors.js';
import { fixedClock } from '../core/time.js';
import { buildJwks, generateSigningKey } from './broker-crypto-keys.js';
import type { SigningKey } from './broker-crypto-keys.js';
import {
  actChainDepth,
  createAccessTokenKeySet,
  createRemoteAccessTokenVerifier,
  mintAccessToken,
  verifyAccessToken,
} from './broker-tokens.js';
import type { AccessTokenVerification, MintAccessTokenInput } from './broker-tokens.js';
import {
  b64json,
  generateTestKey,
  headerOf,
  payloadOf,
  signTestJwt,
  startJwksServer,
  unsecuredJwt,
  withPayload,
} from './broker-crypto-test-support.js';
import type { TestJwksServer } from './broker-crypto-test-support.js';

const ISSUER = 'https://keyward.test';
const RESOURCE = 'https://api.example.test';
const T0 = '2026-03-01T12:00:00.000Z';
const T0_SECONDS = Date.parse(T0) / 1000;
const clock = fixedClock(T0);
const at = (offsetSeconds: number) => fixedClock(new Date(Date.parse(T0) + offsetSeconds * 1000));

let key: SigningKey;
let otherKey: SigningKey;
let jwks: JSONWebKeySet;

beforeAll(async () => {
  key = await generateSigningKey();
  otherKey = await generateSigningKey();
  jwks = buildJwks(
    [{ kid: key.kid, publicJwk: key.publicJwk, activatesAt: T0, expiresAt: null }],
    new Date(T0),
  );
});

function input(overrides: Partial<MintAccessTokenInput> = {}): MintAccessTokenInput {
  return {
    key,
    issuer: ISSUER,
    subject: 'agt_1',
    audience: RESOURCE,
    scope: ['tickets:read', 'tickets:write'],
    ttlSeconds: 900,
    clientId: 'agt_1',
    ...overrides,
  };
}

function reasonOf(result: AccessTokenVerification): string {
  return result.ok ? 'ok' : result.reason;
}

const verify = (token: string, options: Partial<Parameters<typeof verifyAccessToken>[1]> = {}) =>
  verifyAccessToken(token, { jwks, issuer: ISSUER, audience: RESOURCE, clock, ...options });

describe('mintAccessToken', () => {
  it('signs an RFC 9068 token: at+jwt, EdDSA, kid, and exactly the standard claims', async () => {
    const minted = await mintAccessToken(input({ task: 'triage-42', purpose: 'close stale tickets' }), clock);
    expect(headerOf(minted.token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid });
    expect(payloadOf(minted.token)).toEqual({
      iss: ISSUER,
      sub: 'agt_1',
      aud: RESOURCE,
      exp: T0_SECONDS + 900,
      iat: T0_SECONDS,
      nbf: T0_SECONDS,
      jti: minted.jti,
      client_id: 'agt_1',
      scope: 'tickets:read tickets:write',
      task: 'triage-42',
      purpose: 'close stale tickets',
    });
    expect(minted.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(minted.issuedAt).toBe(T0);
    expect(minted.expiresAt).toBe('2026-03-01T12:15:00.000Z');
    expect(minted.claims).toEqual(payloadOf(minted.token));
  });

  it('carries the act chain, DPoP binding, approval, several audiences and extra claims', async () => {
    const act = { sub: 'agt_child', client_id: 'agt_child', act: { sub: 'agt_parent', iss: ISSUER } };
    const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
    const minted = await mintAccessToken(
      input({
        subject: 'user:alice@example.com',
        audience: [RESOURCE, 'https://other.example.test'],
        act,
        cnfJkt: jkt,
        approval: { id: 'apr_1', approver: 'bob@example.com' },
        extra: { tenant: 'acme' },
      }),
      clock,
    );
    const claims = payloadOf(minted.token);
    expect(claims.aud).toEqual([RESOURCE, 'https://other.example.test']);
    expect(claims.act).toEqual(act);
    expect(claims.cnf).toEqual({ jkt });
    expect(claims.approval).toEqual({ id: 'apr_1', approver: 'bob@example.com' });
    expect(claims.tenant).toBe('acme');
    expect(actChainDepth(minted.claims.act)).toBe(2);
  });

  it('writes the claims in a fixed order, extra claims first, and keeps an extra __proto__ a plain claim', async () => {
    const extra = JSON.parse('{"tenant":"acme","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const minted = await mintAccessToken(
      input({
        task: 't-1',
        purpose: 'p',
        act: { sub: 'agt_parent' },
        cnfJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
        approval: { id: 'apr_1', approver: 'bob@example.com' },
        extra,
      }),
      clock,
    );
    const json = Buffer.from(minted.token.split('.')[1]!, 'base64url').toString('utf8');
    expect(Object.keys(JSON.parse(json) as object)).toEqual([
      'tenant',
      '__proto__',
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'nbf',
      'jti',
      'client_id',
      'scope',
      'task',
      'purpose',
      'act',
      'cnf',
      'approval',
    ]);
    expect(Object.getPrototypeOf(minted.claims)).toBe(Object.prototype);
    expect((minted.claims as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives every token a different jti and drops duplicate scopes; no scope claim when none is granted', async () => {
    const a = await mintAccessToken(input({ scope: ['a', 'a', 'b'] }), clock);
    const b = await mintAccessToken(input({ scope: [] }), clock);
    expect(a.jti).not.toBe(b.jti);
    expect(payloadOf(a.token).scope).toBe('a b');
    expect(payloadOf(b.token)).not.toHaveProperty('scope');
  });

  it('refuses input that would make a wrong token', async () => {
    const cases: Array<[Partial<MintAccessTokenInput>, string]> = [
      [{ extra: { sub: 'someone-else' } }, 'extra claim "sub" would replace a standard claim'],
      [{ extra: { cnf: { jkt: 'x' } } }, 'extra claim "cnf" would replace a standard claim'],
      [{ scope: ['has space'] }, 'scope "has space" is not a valid scope token'],
      [{ scope: ['quote"'] }, 'is not a valid scope token'],
      [{ ttlSeconds: 0 }, 'ttlSeconds must be a positive whole number'],
      [{ ttlSeconds: 1.5 }, 'ttlSeconds must be a positive whole number'],
      [{ audience: [] }, 'audience must name at least one resource'],
      [{ subject: '' }, 'subject must be a non-empty string'],
      [{ act: { sub: '' } }, 'act must be a chain of objects with a "sub"'],
      [{ cnfJkt: 'short' }, 'cnfJkt must be a base64url SHA-256 JWK thumbprint'],
    ];
    for (const [overrides, message] of cases) {
      const err = await mintAccessToken(input(overrides), clock).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toContain(message);
    }
  });
});

describe('verifyAccessToken', () => {
  it('accepts a fresh token and returns its claims, scopes and kid', async () => {
    const minted = await mintAccessToken(input({ task: 't-1' }), clock);
    const result = await verify(minted.token);
    expect(result).toEqual({
      ok: true,
      claims: minted.claims,
      scopes: ['tickets:read', 'tickets:write'],
      kid: key.kid,
    });
  });

  it('accepts with a prepared key set, without an audience, and with aud as an array', async () => {
    const keySet = createAccessTokenKeySet(jwks);
    const minted = await mintAccessToken(input({ audience: ['https://x.test', RESOURCE] }), clock);
    expect(reasonOf(await verify(minted.token, { jwks: keySet }))).toBe('ok');
    expect(reasonOf(await verifyAccessToken(minted.token, { jwks: keySet, issuer: ISSUER, clock }))).toBe(
      'ok',
    );
  });

  it('malformed: not a JWT, broken parts, too long, no kid, missing claims', async () => {
    const minted = await mintAccessToken(input(), clock);
    const [h, p, s] = minted.token.split('.');
    const noClientId = await signTestJwt(
      { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid },
      { ...payloadOf(minted.token), client_id: undefined },
      key.privateKey,
    );
    const noKid = await signTestJwt({ alg: 'EdDSA', typ: 'at+jwt' }, payloadOf(minted.token), key.privateKey);
    const cases = [
      '',
      'not-a-jwt',
      `${h}.${p}`,
      `${h}.${p}.${s}.extra`,
      `!!!.${p}.${s}`,
      `${b64json('a string header')}.${p}.${s}`,
      `${h}.!!!.${s}`,
      `${h}.${p}.${'A'.repeat(20_000)}`,
      noClientId,
      noKid,
    ];
    for (const token of cases) expect(reasonOf(await verify(token)), token.slice(0, 40)).toBe('malformed');
    expect(reasonOf(await verifyAccessToken(undefined as unknown as string, { jwks, issuer: ISSUER }))).toBe(
      'malformed',
    );
  });

  it('bad-signature: a changed payload, or a token signed by another key under a known kid', async () => {
    const minted = await mintAccessToken(input({ scope: ['tickets:read'] }), clock);
    const widened = withPayload(minted.token, { ...payloadOf(minted.token), scope: 'tickets:read admin' });
    expect(reasonOf(await verify(widened))).toBe('bad-signature');
    const forged = await mintAccessToken(
      input({ key: { kid: key.kid, privateKey: otherKey.privateKey } }),
      clock,
    );
    expect(reasonOf(await verify(forged.token))).toBe('bad-signature');
  });

  it('bad-signature is reported before any claim problem (an expired forged token says bad-signature)', async () => {
    const forged = await mintAccessToken(
      input({ key: { kid: key.kid, privateKey: otherKey.privateKey } }),
      clock,
    );
    expect(reasonOf(await verify(forged.token, { clock: at(3600) }))).toBe('bad-signature');
  });

  it('alg-not-allowed: alg none', async () => {
    const minted = await mintAccessToken(input(), clock);
    const none = unsecuredJwt(payloadOf(minted.token), { typ: 'at+jwt', kid: key.kid });
    const result = await verify(none);
    expect(result).toMatchObject({ ok: false, reason: 'alg-not-allowed' });
    expect((result as { message: string }).message).toBe(
      'access token: algorithm "none" is not allowed (allowed: EdDSA)',
    );
  });

  it('alg-not-allowed: HS256 signed with the public key as the HMAC secret (raw bytes, JWK JSON and PEM)', async () => {
    const claims = payloadOf((await mintAccessToken(input(), clock)).token);
    const header = { alg: 'HS256', typ: 'at+jwt', kid: key.kid };
    const pem = await exportSPKI(createPublicKey({ key: { ...key.publicJwk }, format: 'jwk' }));
    const secrets = [
      Buffer.from(key.publicJwk.x, 'base64url'),
      Buffer.from(JSON.stringify(key.publicJwk)),
      Buffer.from(pem),
    ];
    for (const secret of secrets) {
      const token = await signTestJwt(header, claims, new Uint8Array(secret));
      expect(reasonOf(await verify(token))).toBe('alg-not-allowed');
    }
  });

  it('alg-not-allowed: RS256, even with a key that is in the JWKS', async () => {
    const rsa = await generateTestKey('RS256', key.kid);
    const claims = payloadOf((await mintAccessToken(input(), clock)).token);
    const token = await signTestJwt({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, claims, rsa.privateKey);
    expect(reasonOf(await verify(token, { jwks: { keys: [...jwks.keys, rsa.publicJwk] } }))).toBe(
      'alg-not-allowed',
    );
  });

  it('expired: after exp plus the 5 s leeway, and not within it', async () => {
    const minted = await mintAccessToken(input({ ttlSeconds: 60 }), clock);
    expect(reasonOf(await verify(minted.token, { clock: at(64) }))).toBe('ok');
    expect(reasonOf(await verify(minted.token, { clock: at(65) }))).toBe('expired');
    expect(reasonOf(await verify(minted.token, { clock: at(3600) }))).toBe('expired');
  });

  it('not-yet-valid: iat (and nbf) more than 5 s in the future', async () => {
    const minted = await mintAccessToken(input(), at(60));
    expect(reasonOf(await verify(minted.token))).toBe('not-yet-valid');
    expect(reasonOf(await verify((await mintAccessToken(input(), at(5))).token))).toBe('ok');
    // iat in the future without nbf: still refused.
    const claims = { ...payloadOf(minted.token), nbf: undefined };
    const token = await signTestJwt({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, claims, key.privateKey);
    expect(reasonOf(await verify(token))).toBe('not-yet-valid');
  });

  it('wrong-issuer, wrong-audience', async () => {
    const minted = await mintAccessToken(input(), clock);
    expect(reasonOf(await verify(minted.token, { issuer: 'https://evil.test' }))).toBe('wrong-issuer');
    expect(reasonOf(await verify(minted.token, { audience: 'https://other-api.test' }))).toBe(
      'wrong-audience',
    );
  });

  it('wrong-type: a JWT signed by the broker key but typed JWT, dpop+jwt or untyped', async () => {
    const claims = payloadOf((await mintAccessToken(input(), clock)).token);
    for (const typ of ['JWT', 'dpop+jwt', undefined]) {
      const token = await signTestJwt({ alg: 'EdDSA', typ, kid: key.kid }, claims, key.privateKey);
      expect(reasonOf(await verify(token))).toBe('wrong-type');
    }
    const appTyped = await signTestJwt(
      { alg: 'EdDSA', typ: 'application/AT+JWT', kid: key.kid },
      claims,
      key.privateKey,
    );
    expect(reasonOf(await verify(appTyped))).toBe('ok');
  });

  it('unknown-key: a kid not in the key set', async () => {
    const minted = await mintAccessToken(input({ key: otherKey }), clock);
    expect(reasonOf(await verify(minted.token))).toBe('unknown-key');
  });

  it('revoked: asked last, with the verified claims', async () => {
    const minted = await mintAccessToken(input({ task: 'task-9' }), clock);
    const seen: string[] = [];
    const result = await verify(minted.token, {
      isRevoked: async (c) => {
        seen.push(`${c.jti}:${c.task}`);
        return c.task === 'task-9';
      },
    });
    expect(reasonOf(result)).toBe('revoked');
    expect(seen).toEqual([`${minted.jti}:task-9`]);
    // Not asked for a token that fails earlier.
    await verify(minted.token, { clock: at(3600), isRevoked: () => (seen.push('asked'), true) });
    expect(seen).toHaveLength(1);
  });

  it('never puts the token into a failure message', async () => {
    const minted = await mintAccessToken(input(), clock);
    const results = await Promise.all([
      verify(minted.token, { clock: at(3600) }),
      verify(minted.token, { issuer: 'x' }),
      verify(withPayload(minted.token, { a: 1 })),
    ]);
    for (const r of results) {
      expect(r.ok).toBe(false);
      for (const part of minted.token.split('.')) expect(JSON.stringify(r)).not.toContain(part);
    }
  });
});

describe('createRemoteAccessTokenVerifier', () => {
  let server: TestJwksServer;

  beforeAll(async () => {
    server = await startJwksServer(jwks);
  });
  afterAll(async () => {
    await server.close();
  });

  it('verifies with the fetched JWKS and caches it', async () => {
    const verifyRemote = createRemoteAccessTokenVerifier({
      jwksUrl: server.url,
      issuer: ISSUER,
      audience: RESOURCE,
      clock,
    });
    const minted = await mintAccessToken(input(), clock);
    const before = server.fetches();
    expect(reasonOf(await verifyRemote(minted.token))).toBe('ok');
    expect(reasonOf(await verifyRemote(minted.token))).toBe('ok');
    expect(server.fetches() - before).toBe(1);
    expect(reasonOf(await verifyRemote(minted.token, { isRevoked: () => true }))).toBe('revoked');
  });

  it('refetches once on an unknown kid, so a rotated key is picked up', async () => {
    const verifyRemote = createRemoteAccessTokenVerifier({
      jwksUrl: server.url,
      issuer: ISSUER,
      audience: RESOURCE,
      clock,
      cooldownMs: 0,
    });
    expect(reasonOf(await verifyRemote((await mintAccessToken(input(), clock)).token))).toBe('ok');
    const rotated = await generateSigningKey();
    server.setJwks(
      buildJwks(
        [
          { kid: key.kid, publicJwk: key.publicJwk, activatesAt: T0, expiresAt: null },
          { kid: rotated.kid, publicJwk: rotated.publicJwk, activatesAt: T0, expiresAt: null },
        ],
        new Date(T0),
      ),
    );
    const before = server.fetches();
    const token = (await mintAccessToken(input({ key: rotated }), clock)).token;
    expect(reasonOf(await verifyRemote(token))).toBe('ok');
    expect(server.fetches() - before).toBe(1);
    // A kid the issuer does not publish stays unknown after the refetch.
    expect(reasonOf(await verifyRemote((await mintAccessToken(input({ key: otherKey }), clock)).token))).toBe(
      'unknown-key',
    );
    server.setJwks(jwks);
  });

  it('key-set-unavailable when the JWKS cannot be fetched', async () => {
    const down = await startJwksServer(jwks);
    const url = down.url;
    await down.close();
    const verifyRemote = createRemoteAccessTokenVerifier({
      jwksUrl: url,
      issuer: ISSUER,
      audience: RESOURCE,
      clock,
      timeoutMs: 1000,
    });
    expect(reasonOf(await verifyRemote((await mintAccessToken(input(), clock)).token))).toBe(
      'key-set-unavailable',
    );
  });
});
