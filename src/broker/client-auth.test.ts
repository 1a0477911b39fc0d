import { beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey } from 'node:crypto';
import { exportJWK, exportSPKI } from 'jose';
import * as oauth from 'oauth4webapi';
import { KeywardError, ValidationError } from '../core/errors.js';
import { fixedClock } from '../core/time.js';
import {
  CLIENT_ASSERTION_TYPE,
  clientSecretNeedsRehash,
  generateClientSecret,
  hashClientSecret,
  peekClientAssertion,
  validateClientJwks,
  verifyClientAssertion,
  verifyClientSecret,
} from './client-auth.js';
import type { ClientAssertionVerification, VerifyClientAssertionOptions } from './client-auth.js';
import {
  createClientAssertion,
  createMemoryReplayCache,
  generateTestKey,
  signTestJwt,
  unsecuredJwt,
} from './broker-crypto-test-support.js';
import type { ClientAssertionInput, TestKey } from './broker-crypto-test-support.js';

const ISSUER = 'https://keyward.test';
const TOKEN_ENDPOINT = 'https://keyward.test/oauth/token';
const CLIENT = 'agt_client1';
const NOW = 1_767_225_600;
const clock = fixedClock(new Date(NOW * 1000));

describe('client secrets', () => {
  let secret: string;
  let hash: string;

  beforeAll(async () => {
    secret = generateClientSecret();
    hash = await hashClientSecret(secret);
  });

  it('generates kwcs_ + 32 random bytes in base64url', () => {
    expect(secret).toMatch(/^kwcs_[A-Za-z0-9_-]{43}$/);
    expect(generateClientSecret()).not.toBe(secret);
  });

  it('hashes into a PHC scrypt string that never contains the secret', () => {
    expect(hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(hash).not.toContain(secret.slice(5));
    expect(clientSecretNeedsRehash(hash)).toBe(false);
  });

  it('verifies the right secret and refuses others', async () => {
    expect(await verifyClientSecret(secret, hash)).toBe(true);
    expect(await verifyClientSecret(`${secret}x`, hash)).toBe(false);
    expect(await verifyClientSecret(generateClientSecret(), hash)).toBe(false);
    expect(await verifyClientSecret('', hash)).toBe(false);
    expect(await verifyClientSecret('x'.repeat(5000), hash)).toBe(false);
  });

  it('answers false for an unknown client, after doing the same work', async () => {
    expect(await verifyClientSecret(secret, null)).toBe(false);
  });

  it('salts: the same secret hashes differently twice', async () => {
    const again = await hashClientSecret(secret);
    expect(again).not.toBe(hash);
    expect(await verifyClientSecret(secret, again)).toBe(true);
  });

  it('throws on a corrupt stored hash, and flags weaker parameters for rehashing', async () => {
    for (const bad of ['', 'plaintext', '$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43)]) {
      const err = await verifyClientSecret(secret, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeywardError);
      expect((err as KeywardError).message).toBe(
        'the stored client secret hash is not a supported scrypt PHC string',
      );
    }
    expect(clientSecretNeedsRehash('$scrypt$ln=14,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43))).toBe(
      true,
    );
  });
});

describe('private_key_jwt client assertions', () => {
  let ed: TestKey;
  let es: TestKey;
  let rs: TestKey;
  let ps: TestKey;
  let jwks: { keys: object[] };

  beforeAll(async () => {
    ed = await generateTestKey('EdDSA', 'ed-1');
    es = await generateTestKey('ES256', 'es-1');
    rs = await generateTestKey('RS256', 'rs-1');
    ps = await generateTestKey('PS256', 'ps-1');
    jwks = { keys: [ed.publicJwk, es.publicJwk, rs.publicJwk, { ...ps.publicJwk, alg: 'PS256' }] };
  });

  function assertion(overrides: Partial<ClientAssertionInput> = {}): Promise<string> {
    return createClientAssertion({
      key: ed,
      clientId: CLIENT,
      audience: TOKEN_ENDPOINT,
      now: NOW,
      ...overrides,
    });
  }

  function check(token: string, overrides: Partial<VerifyClientAssertionOptions> = {}) {
    return verifyClientAssertion(token, {
      clientId: CLIENT,
      jwks: jwks as VerifyClientAssertionOptions['jwks'],
      tokenEndpoint: TOKEN_ENDPOINT,
      issuer: ISSUER,
      checkReplay: createMemoryReplayCache().check,
      clock,
      ...overrides,
    });
  }

  async function reasonOf(result: Promise<ClientAssertionVerification>): Promise<string> {
    const r = await result;
    if (!r.ok) expect(r.error).toBe('invalid_client');
    return r.ok ? 'ok' : r.reason;
  }

  it('accepts EdDSA, Ed25519, ES256, RS256 and PS256 assertions, aud = token endpoint or issuer', async () => {
    const result = await check(await assertion({ claims: { jti: 'j-1' } }));
    expect(result).toEqual({
      ok: true,
      clientId: CLIENT,
      jti: 'j-1',
      expiresAt: new Date((NOW + 66) * 1000),
    });
    for (const key of [es, rs, ps]) expect(await reasonOf(check(await assertion({ key })))).toBe('ok');
    expect(await reasonOf(check(await assertion({ header: { alg: 'Ed25519' } })))).toBe('ok');
    expect(await reasonOf(check(await assertion({ audience: ISSUER })))).toBe('ok');
    expect(await reasonOf(check(await assertion({ audience: ['https://x.test', TOKEN_ENDPOINT] })))).toBe(
      'ok',
    );
    expect(await reasonOf(check(await assertion({ header: { typ: 'JWT' } })))).toBe('ok');
  });

  it('accepts a key found without kid when only one key fits the alg', async () => {
    expect(await reasonOf(check(await assertion({ key: es, header: { kid: undefined } })))).toBe('ok');
  });

  it('accepts the assertion oauth4webapi builds', async () => {
    const body = new URLSearchParams();
    const auth = oauth.PrivateKeyJwt({ key: ed.privateKey, kid: 'ed-1' });
    await auth(
      { issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT },
      { client_id: CLIENT },
      body,
      new Headers(),
    );
    expect(body.get('client_assertion_type')).toBe(CLIENT_ASSERTION_TYPE);
    const result = await verifyClientAssertion(body.get('client_assertion'), {
      clientId: CLIENT,
      jwks: jwks as VerifyClientAssertionOptions['jwks'],
      tokenEndpoint: TOKEN_ENDPOINT,
      issuer: ISSUER,
      checkReplay: createMemoryReplayCache().check,
    });
    expect(result.ok).toBe(true);
  });

  it('finds an Ed25519 key registered as alg EdDSA for an assertion signed as Ed25519 (oauth4webapi), and the reverse', async () => {
    const asEdDsa = { keys: [{ ...ed.publicJwk, alg: 'EdDSA' }] };
    const asEd25519 = { keys: [{ ...ed.publicJwk, alg: 'Ed25519' }] };
    const withKeys = (keys: object) => ({ jwks: keys as VerifyClientAssertionOptions['jwks'] });
    expect(await reasonOf(check(await assertion({ header: { alg: 'Ed25519' } }), withKeys(asEdDsa)))).toBe(
      'ok',
    );
    expect(await reasonOf(check(await assertion({ header: { alg: 'EdDSA' } }), withKeys(asEd25519)))).toBe(
      'ok',
    );
    const body = new URLSearchParams();
    await oauth.PrivateKeyJwt({ key: ed.privateKey, kid: 'ed-1' })(
      { issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT },
      { client_id: CLIENT },
      body,
      new Headers(),
    );
    const realTime = { ...withKeys(asEdDsa), clock: { now: () => new Date() } };
    expect(await reasonOf(check(body.get('client_assertion')!, realTime))).toBe('ok');
    // Only the two names of Ed25519 are aliases: an ES256 key registered for RS256 is still not found.
    const esAsRs = { keys: [{ ...es.publicJwk, alg: 'RS256' }] };
    expect(await reasonOf(check(await assertion({ key: es }), withKeys(esAsRs)))).toBe('unknown-key');
  });

  it('peekClientAssertion reads the claimed client id before the keys are known', async () => {
    expect(peekClientAssertion(await assertion())).toEqual({ ok: true, clientId: CLIENT });
    expect(peekClientAssertion('nope')).toMatchObject({
      ok: false,
      error: 'invalid_client',
      reason: 'malformed',
    });
    expect(peekClientAssertion(await assertion({ claims: { iss: undefined } }))).toMatchObject({
      ok: false,
      reason: 'missing-claim',
    });
  });

  it('wrong-issuer and wrong-subject: iss and sub must both be the client id', async () => {
    expect(await reasonOf(check(await assertion({ claims: { iss: 'agt_other' } })))).toBe('wrong-issuer');
    expect(await reasonOf(check(await assertion({ claims: { sub: 'agt_other' } })))).toBe('wrong-subject');
    // An assertion of another client, checked as this client.
    expect(await reasonOf(check(await assertion({ clientId: 'agt_other' })))).toBe('wrong-issuer');
  });

  it('wrong-audience: neither the token endpoint nor the issuer', async () => {
    expect(await reasonOf(check(await assertion({ audience: 'https://evil.test/token' })))).toBe(
      'wrong-audience',
    );
    expect(await reasonOf(check(await assertion({ audience: `${TOKEN_ENDPOINT}/x` })))).toBe(
      'wrong-audience',
    );
  });

  it('missing-claim: exp and jti are required', async () => {
    expect(await reasonOf(check(await assertion({ claims: { exp: undefined } })))).toBe('missing-claim');
    expect(await reasonOf(check(await assertion({ claims: { jti: undefined } })))).toBe('missing-claim');
    expect(await reasonOf(check(await assertion({ claims: { aud: undefined } })))).toBe('missing-claim');
  });

  it('expired, lifetime-too-long, iat-in-future, not-yet-valid', async () => {
    expect(await reasonOf(check(await assertion({ now: NOW - 120 })))).toBe('expired');
    expect(await reasonOf(check(await assertion({ lifetimeSeconds: 300 })))).toBe('ok');
    expect(await reasonOf(check(await assertion({ lifetimeSeconds: 3600 })))).toBe('lifetime-too-long');
    expect(await reasonOf(check(await assertion({ claims: { iat: NOW + 60 } })))).toBe('iat-in-future');
    expect(await reasonOf(check(await assertion({ claims: { nbf: NOW + 60 } })))).toBe('not-yet-valid');
  });

  it('replayed: the same assertion twice; jti scoped by client', async () => {
    const cache = createMemoryReplayCache();
    const a = await assertion({ claims: { jti: 'same' } });
    expect(await reasonOf(check(a, { checkReplay: cache.check }))).toBe('ok');
    expect(await reasonOf(check(a, { checkReplay: cache.check }))).toBe('replayed');
    expect([...cache.entries.keys()]).toEqual([`client-assertion:${CLIENT}:same`]);
  });

  it('unknown-key: a kid not registered, or a key type the client did not register', async () => {
    const stranger = await generateTestKey('EdDSA', 'stranger');
    expect(await reasonOf(check(await assertion({ key: stranger })))).toBe('unknown-key');
    expect(await reasonOf(check(await assertion({ key: es }), { jwks: { keys: [ed.publicJwk] } }))).toBe(
      'unknown-key',
    );
  });

  it('bad-signature: signed by another key under a registered kid', async () => {
    const stranger = await generateTestKey('EdDSA', 'ed-1');
    expect(await reasonOf(check(await assertion({ key: stranger })))).toBe('bad-signature');
  });

  it('alg-not-allowed: none, HS256 (also with the public key as secret), RS512', async () => {
    const claims = { iss: CLIENT, sub: CLIENT, aud: TOKEN_ENDPOINT, exp: NOW + 60, jti: 'x' };
    expect(await reasonOf(check(unsecuredJwt(claims)))).toBe('alg-not-allowed');
    const pem = await exportSPKI(createPublicKey({ key: rs.publicJwk as never, format: 'jwk' }));
    const hs = await signTestJwt({ alg: 'HS256', kid: 'rs-1' }, claims, new Uint8Array(Buffer.from(pem)));
    expect(await reasonOf(check(hs))).toBe('alg-not-allowed');
    const rs512Key = await generateTestKey('RS512', 'rs-1');
    const rs512 = await signTestJwt({ alg: 'RS512', kid: 'rs-1' }, claims, rs512Key.privateKey);
    expect(await reasonOf(check(rs512))).toBe('alg-not-allowed');
  });

  it('wrong-type: an access token or DPoP proof presented as an assertion', async () => {
    expect(await reasonOf(check(await assertion({ header: { typ: 'at+jwt' } })))).toBe('wrong-type');
    expect(await reasonOf(check(await assertion({ header: { typ: 'dpop+jwt' } })))).toBe('wrong-type');
    expect(await reasonOf(check(await assertion({ header: { typ: 'client-authentication+jwt' } })))).toBe(
      'ok',
    );
  });

  it('malformed: not a JWT', async () => {
    for (const token of ['', 'x', 'a.b.c', '{}']) expect(await reasonOf(check(token))).toBe('malformed');
  });
});

describe('validateClientJwks', () => {
  it('keeps the public members of accepted keys', async () => {
    const ed = await generateTestKey('EdDSA', 'a');
    const es = await generateTestKey('ES256', 'b');
    const jwks = await validateClientJwks({
      keys: [{ ...ed.publicJwk, use: 'sig', x5c: ['…'] }, es.publicJwk],
    });
    expect(jwks).toEqual({ keys: [{ ...ed.publicJwk, use: 'sig' }, es.publicJwk] });
  });

  it('names every problem: private keys, symmetric keys, bad types, duplicate kids', async () => {
    const ed = await generateTestKey('EdDSA', 'a');
    const privateJwk = { ...(await exportJWK(ed.privateKey)), kid: 'p' };
    const err = await validateClientJwks(
      {
        keys: [
          privateJwk,
          { kty: 'oct', k: 'c2VjcmV0' },
          { kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA', kid: 'c' },
          ed.publicJwk,
          ed.publicJwk,
          'x',
        ],
      },
      'agent.jwks',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details).toEqual([
      {
        path: 'agent.jwks.keys[0]',
        message: 'holds private or symmetric key material; register the public key only',
      },
      {
        path: 'agent.jwks.keys[1]',
        message: 'holds private or symmetric key material; register the public key only',
      },
      { path: 'agent.jwks.keys[2]', message: 'not a valid EC public key for ES256' },
      { path: 'agent.jwks.keys[4].kid', message: 'kid "a" is used twice' },
      { path: 'agent.jwks.keys[5]', message: 'not an object' },
    ]);
    expect(JSON.stringify(err)).not.toContain(privateJwk.d);
    await expect(validateClientJwks({ keys: [] })).rejects.toThrow('the key set cannot be registered');
    await expect(validateClientJwks([])).rejects.toThrow('expected a JSON Web Key Set');
  });
});
