import { beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import { fixedClock } from '../core/time.js';
import { accessTokenHash, computeJkt, normalizeHtu, verifyDpopProof } from './dpop.js';
import type { DpopVerification, VerifyDpopOptions } from './dpop.js';
import {
  b64json,
  createDpopProof,
  createMemoryReplayCache,
  generateTestKey,
  signTestJwt,
  unsecuredJwt,
  withPayload,
} from './broker-crypto-test-support.js';
import type { DpopProofInput, TestKey } from './broker-crypto-test-support.js';

const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const clock = fixedClock(new Date(NOW * 1000));
const HTU = 'https://keyward.test/oauth/token';
const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZ3RfMSJ9.c2lnbmF0dXJl';

let ed: TestKey;
let es: TestKey;

beforeAll(async () => {
  ed = await generateTestKey('EdDSA');
  es = await generateTestKey('ES256');
});

function proof(overrides: Partial<DpopProofInput> = {}): Promise<string> {
  return createDpopProof({ key: ed, htm: 'POST', htu: HTU, iat: NOW, ...overrides });
}

function check(p: string, overrides: Partial<VerifyDpopOptions> = {}): Promise<DpopVerification> {
  return verifyDpopProof(p, {
    htm: 'POST',
    htu: HTU,
    clock,
    checkReplay: createMemoryReplayCache().check,
    ...overrides,
  });
}

async function reasonOf(result: Promise<DpopVerification>): Promise<string> {
  const r = await result;
  return r.ok ? 'ok' : r.reason;
}

describe('computeJkt', () => {
  it('is the RFC 7638 §3.1 thumbprint', async () => {
    const jwk = {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs' +
        'tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91' +
        'CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(await computeJkt(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('normalizeHtu', () => {
  it('compares without query and fragment, with scheme, host, port and percent-encoding normalised', () => {
    const same = [
      'https://keyward.test/oauth/token',
      'HTTPS://KEYWARD.test/oauth/token',
      'https://keyward.test:443/oauth/token',
      'https://keyward.test/oauth/token?x=1',
      'https://keyward.test/oauth/token#frag',
      'https://keyward.test/oauth/./x/../token',
      'https://keyward.test/%6Fauth/token',
    ];
    for (const u of same) expect(normalizeHtu(u), u).toBe('https://keyward.test/oauth/token');
    expect(normalizeHtu('https://keyward.test')).toBe('https://keyward.test/');
    expect(normalizeHtu('http://keyward.test:80/a%2fb')).toBe('http://keyward.test/a%2Fb');
    expect(normalizeHtu('https://keyward.test:8443/oauth/token')).toBe(
      'https://keyward.test:8443/oauth/token',
    );
    expect(normalizeHtu('ftp://keyward.test/x')).toBeNull();
    expect(normalizeHtu('/oauth/token')).toBeNull();
  });
});

describe('verifyDpopProof', () => {
  it('accepts a valid proof and returns the key thumbprint, jti, iat and public key', async () => {
    const p = await proof({ jti: 'jti-1' });
    const result = await check(p);
    expect(result).toEqual({
      ok: true,
      jkt: await computeJkt(ed.publicJwk),
      jti: 'jti-1',
      iat: NOW,
      jwk: { kty: 'OKP', crv: 'Ed25519', x: ed.publicJwk.x },
    });
  });

  it('accepts ES256 and RS256 proofs, and the Ed25519 algorithm name', async () => {
    expect(await reasonOf(check(await proof({ key: es })))).toBe('ok');
    expect(await reasonOf(check(await proof({ key: await generateTestKey('RS256') })))).toBe('ok');
    expect(await reasonOf(check(await proof({ key: await generateTestKey('Ed25519') })))).toBe('ok');
  });

  it('accepts the request URI with a query string and another spelling of the host', async () => {
    const p = await proof();
    expect(await reasonOf(check(p, { htu: 'https://KEYWARD.test:443/oauth/token?grant=x' }))).toBe('ok');
    expect(await reasonOf(check(p, { htu: new URL(HTU) }))).toBe('ok');
  });

  it('malformed: not a JWT', async () => {
    for (const p of ['', 'abc', 'a.b', `${b64json({ typ: 'dpop+jwt' })}.x.y`, 'a.b.c.d']) {
      const r = await check(p);
      expect(r).toMatchObject({ ok: false, error: 'invalid_dpop_proof', reason: 'malformed' });
    }
    expect(
      await reasonOf(verifyDpopProof(undefined, { htm: 'POST', htu: HTU, checkReplay: async () => true })),
    ).toBe('malformed');
  });

  it('wrong-type: typ must be dpop+jwt', async () => {
    expect(await reasonOf(check(await proof({ header: { typ: 'JWT' } })))).toBe('wrong-type');
    expect(await reasonOf(check(await proof({ header: { typ: undefined } })))).toBe('wrong-type');
    expect(await reasonOf(check(await proof({ header: { typ: 'at+jwt' } })))).toBe('wrong-type');
    expect(await reasonOf(check(await proof({ header: { typ: 'application/dpop+jwt' } })))).toBe('ok');
  });

  it('alg-not-allowed: none, and HS256 signed with the public key', async () => {
    const none = unsecuredJwt(
      { jti: 'x', htm: 'POST', htu: HTU, iat: NOW },
      { typ: 'dpop+jwt', jwk: ed.publicJwk },
    );
    expect(await reasonOf(check(none))).toBe('alg-not-allowed');
    const hs = await signTestJwt(
      { alg: 'HS256', typ: 'dpop+jwt', jwk: ed.publicJwk as never },
      { jti: 'x', htm: 'POST', htu: HTU, iat: NOW },
      new Uint8Array(Buffer.from(ed.publicJwk.x!, 'base64url')),
    );
    expect(await reasonOf(check(hs))).toBe('alg-not-allowed');
    // A verifier may narrow the list further.
    expect(await reasonOf(check(await proof({ key: es }), { algorithms: ['EdDSA'] }))).toBe(
      'alg-not-allowed',
    );
  });

  it('missing-jwk: no jwk header, or not an object', async () => {
    expect(await reasonOf(check(await proof({ header: { jwk: undefined } })))).toBe('missing-jwk');
    expect(await reasonOf(check(await proof({ header: { jwk: 'key' } })))).toBe('missing-jwk');
  });

  it('private-key-in-jwk: the private key, or a symmetric key, in the jwk header', async () => {
    const privateJwk = await exportJWK(ed.privateKey);
    const r = await check(await proof({ header: { jwk: privateJwk } }));
    expect(r).toMatchObject({ ok: false, error: 'invalid_dpop_proof', reason: 'private-key-in-jwk' });
    expect(JSON.stringify(r)).not.toContain(privateJwk.d);
    expect(await reasonOf(check(await proof({ header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } })))).toBe(
      'private-key-in-jwk',
    );
  });

  it('invalid-jwk: a key of another type than the alg, or a key with use enc', async () => {
    expect(await reasonOf(check(await proof({ header: { jwk: es.publicJwk } })))).toBe('invalid-jwk');
    expect(await reasonOf(check(await proof({ header: { jwk: { ...ed.publicJwk, use: 'enc' } } })))).toBe(
      'invalid-jwk',
    );
    expect(await reasonOf(check(await proof({ header: { jwk: { kty: 'OKP', crv: 'Ed25519' } } })))).toBe(
      'invalid-jwk',
    );
  });

  it('bad-signature: signed by another key than the one in the header, or changed after signing', async () => {
    const other = await generateTestKey('EdDSA');
    expect(await reasonOf(check(await proof({ header: { jwk: other.publicJwk } })))).toBe('bad-signature');
    const p = await proof();
    const changed = withPayload(p, { jti: 'x', htm: 'GET', htu: HTU, iat: NOW });
    expect(await reasonOf(check(changed, { htm: 'GET' }))).toBe('bad-signature');
  });

  it('missing-claim: jti, htm, htu or iat', async () => {
    for (const claim of ['jti', 'htm', 'htu', 'iat']) {
      const r = await check(await proof({ claims: { [claim]: undefined } }));
      expect(r).toMatchObject({
        ok: false,
        reason: 'missing-claim',
        message: `DPoP proof has no "${claim}" claim`,
      });
    }
    expect(await reasonOf(check(await proof({ claims: { iat: 'yesterday' } })))).toBe('malformed');
    expect(await reasonOf(check(await proof({ jti: 'x'.repeat(257) })))).toBe('malformed');
  });

  it('htm-mismatch: another method (case-sensitive)', async () => {
    expect(await reasonOf(check(await proof({ htm: 'GET' })))).toBe('htm-mismatch');
    expect(await reasonOf(check(await proof({ htm: 'post' })))).toBe('htm-mismatch');
  });

  it('htu-mismatch: another path, host, port or scheme, or not a URL', async () => {
    for (const htu of [
      'https://keyward.test/oauth/token2',
      'https://evil.test/oauth/token',
      'https://keyward.test:8443/oauth/token',
      'http://keyward.test/oauth/token',
      '/oauth/token',
    ]) {
      expect(await reasonOf(check(await proof({ htu }))), htu).toBe('htu-mismatch');
    }
  });

  it('iat-too-old and iat-in-future: outside [now - 60 s, now + 5 s]', async () => {
    expect(await reasonOf(check(await proof({ iat: NOW - 60 })))).toBe('ok');
    expect(await reasonOf(check(await proof({ iat: NOW - 61 })))).toBe('iat-too-old');
    expect(await reasonOf(check(await proof({ iat: NOW + 5 })))).toBe('ok');
    expect(await reasonOf(check(await proof({ iat: NOW + 6 })))).toBe('iat-in-future');
    expect(await reasonOf(check(await proof({ iat: NOW - 100 }), { maxAgeSeconds: 120 }))).toBe('ok');
  });

  it('ath: required with an access token and must be its hash', async () => {
    expect(accessTokenHash('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(await reasonOf(check(await proof({ accessToken: TOKEN }), { accessToken: TOKEN }))).toBe('ok');
    expect(await reasonOf(check(await proof(), { accessToken: TOKEN }))).toBe('missing-claim');
    expect(await reasonOf(check(await proof({ accessToken: `${TOKEN}x` }), { accessToken: TOKEN }))).toBe(
      'ath-mismatch',
    );
  });

  it('use_dpop_nonce: nonce required and missing, or not the current one', async () => {
    const missing = await check(await proof(), { nonce: 'n-1' });
    expect(missing).toMatchObject({ ok: false, error: 'use_dpop_nonce', reason: 'nonce-required' });
    const wrong = await check(await proof({ nonce: 'n-0' }), { nonce: 'n-1' });
    expect(wrong).toMatchObject({ ok: false, error: 'use_dpop_nonce', reason: 'nonce-mismatch' });
    expect(await reasonOf(check(await proof({ nonce: 'n-1' }), { nonce: 'n-1' }))).toBe('ok');
    expect(await reasonOf(check(await proof({ nonce: 'n-0' }), { nonce: ['n-1', 'n-0'] }))).toBe('ok');
  });

  it('replayed: the same proof twice; the replay entry is scoped by key and kept until iat + max age', async () => {
    const cache = createMemoryReplayCache();
    const p = await proof({ jti: 'once' });
    expect(await reasonOf(check(p, { checkReplay: cache.check }))).toBe('ok');
    const second = await check(p, { checkReplay: cache.check });
    expect(second).toMatchObject({ ok: false, error: 'invalid_dpop_proof', reason: 'replayed' });
    const jkt = await computeJkt(ed.publicJwk);
    expect([...cache.entries]).toEqual([[`dpop:${jkt}:once`, new Date((NOW + 61) * 1000)]]);
    // The same jti from another key is another proof.
    expect(await reasonOf(check(await proof({ key: es, jti: 'once' }), { checkReplay: cache.check }))).toBe(
      'ok',
    );
  });

  it('records nothing for a proof that fails another check', async () => {
    const cache = createMemoryReplayCache();
    await check(await proof({ htm: 'GET' }), { checkReplay: cache.check });
    await check(await proof({ iat: NOW - 3600 }), { checkReplay: cache.check });
    expect(cache.entries.size).toBe(0);
  });

  it('accepts the proofs oauth4webapi sends to a resource (with ath)', async () => {
    const keyPair = await generateKeyPair('ES256');
    const handle = oauth.DPoP({}, keyPair);
    let sent: Headers | undefined;
    const url = new URL('https://api.example.test/tickets?page=2');
    await oauth.protectedResourceRequest(TOKEN, 'GET', url, undefined, undefined, {
      DPoP: handle,
      [oauth.customFetch]: async (_url: string, init: RequestInit) => {
        sent = new Headers(init.headers);
        return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
      },
    });
    expect(sent?.get('authorization')).toBe(`DPoP ${TOKEN}`);
    const result = await verifyDpopProof(sent!.get('dpop'), {
      htm: 'GET',
      htu: url,
      accessToken: TOKEN,
      checkReplay: createMemoryReplayCache().check,
    });
    expect(result).toMatchObject({ ok: true, jkt: await handle.calculateThumbprint() });
  });
});
