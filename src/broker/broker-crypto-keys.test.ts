import { describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK, jwtVerify, SignJWT } from 'jose';
import { KeywardError, ValidationError } from '../core/errors.js';
import { createSecretBox, SecretBoxError } from '../core/secret-box.js';
import {
  buildJwks,
  generateSigningKey,
  openSigningKey,
  planKeyRotation,
  sealSigningKey,
} from './broker-crypto-keys.js';
import type { SigningKeySchedule } from './broker-crypto-keys.js';

const master = Buffer.alloc(32, 3);
const box = createSecretBox(master, 'signing-keys');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (t: number) => new Date(t).toISOString();

describe('signing keys', () => {
  it('generates Ed25519 keys whose kid is the RFC 7638 thumbprint and whose public JWK has no private part', async () => {
    const key = await generateSigningKey();
    expect(key.publicJwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: key.publicJwk.x,
      kid: key.kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(key.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: key.publicJwk.x }));
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await generateSigningKey()).kid).not.toBe(key.kid);
  });

  it('seals the private key and opens it again into a working, non-extractable key', async () => {
    const key = await generateSigningKey();
    const sealed = await sealSigningKey(box, key);
    const d = (await exportJWK(key.privateKey)).d!;
    expect(sealed.startsWith('kw1.')).toBe(true);
    expect(sealed).not.toContain(d);
    const opened = await openSigningKey(box, key.kid, sealed);
    expect(opened.kid).toBe(key.kid);
    expect(opened.publicJwk).toEqual(key.publicJwk);
    expect(opened.privateKey.extractable).toBe(false);
    const token = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: 'EdDSA' }).sign(opened.privateKey);
    const { payload } = await jwtVerify(token, key.publicJwk as never);
    expect(payload).toEqual({ a: 1 });
  });

  it('refuses a sealed key moved to another kid, and a vault box', async () => {
    const a = await generateSigningKey();
    const b = await generateSigningKey();
    const sealed = await sealSigningKey(box, a);
    const err = await openSigningKey(box, b.kid, sealed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretBoxError);
    expect((err as SecretBoxError).reason).toBe('authentication-failed');
    await expect(sealSigningKey(createSecretBox(master, 'vault'), a)).rejects.toThrow(
      "signing keys are sealed with the 'signing-keys' secret box, not 'vault'",
    );
  });

  it('refuses sealed content that is not the key its kid names', async () => {
    const a = await generateSigningKey();
    const b = await generateSigningKey();
    // Someone with the master key seals b's private key under a's kid.
    const swapped = box.seal(JSON.stringify(await exportJWK(b.privateKey)), a.kid);
    const err = await openSigningKey(box, a.kid, swapped).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeywardError);
    expect((err as KeywardError).message).toBe(
      `signing key ${a.kid}: the sealed key has a different thumbprint`,
    );
    await expect(openSigningKey(box, a.kid, box.seal('not json', a.kid))).rejects.toThrow(
      'the sealed content is not a JSON Web Key',
    );
    await expect(openSigningKey(box, a.kid, box.seal('{"kty":"RSA"}', a.kid))).rejects.toThrow(
      'the sealed content is not an Ed25519 private key',
    );
  });
});

function record(
  kid: string,
  activatesAt: number,
  retiresAt: number | null = null,
  expiresAt: number | null = null,
) {
  return {
    kid,
    createdAt: iso(Math.min(activatesAt, T0)),
    activatesAt: iso(activatesAt),
    retiresAt: retiresAt === null ? null : iso(retiresAt),
    expiresAt: expiresAt === null ? null : iso(expiresAt),
  };
}

const base = { maxTokenTtlSeconds: 3600 };

describe('planKeyRotation', () => {
  it('with no key: create one that signs at once', () => {
    const plan = planKeyRotation([], { ...base, now: new Date(T0) });
    expect(plan).toEqual({
      signingKid: null,
      create: { activatesAt: iso(T0) },
      retire: [],
      jwksKids: [],
      expired: [],
      nextReviewAt: iso(T0 + 29 * DAY),
    });
  });

  it('with a young key: it signs, nothing to do until a day before it is due', () => {
    const plan = planKeyRotation([record('k1', T0)], { ...base, now: new Date(T0 + 10 * DAY) });
    expect(plan).toEqual({
      signingKid: 'k1',
      create: null,
      retire: [],
      jwksKids: ['k1'],
      expired: [],
      nextReviewAt: iso(T0 + 29 * DAY),
    });
  });

  it('a day before the key is due: create the successor, published a full day before it signs', () => {
    const now = T0 + 29 * DAY + HOUR;
    const plan = planKeyRotation([record('k1', T0)], { ...base, now: new Date(now) });
    expect(plan.signingKid).toBe('k1');
    expect(plan.create).toEqual({ activatesAt: iso(now + DAY) });
  });

  it('when overdue (the server was down): the successor still waits the pre-publication time', () => {
    const now = T0 + 45 * DAY;
    const plan = planKeyRotation([record('k1', T0)], { ...base, now: new Date(now) });
    expect(plan.signingKid).toBe('k1');
    expect(plan.create).toEqual({ activatesAt: iso(now + DAY) });
  });

  it('with a pending successor: the old key signs, both are published (newest first)', () => {
    const now = T0 + 29 * DAY + 2 * HOUR;
    const plan = planKeyRotation([record('k1', T0), record('k2', T0 + 30 * DAY)], {
      ...base,
      now: new Date(now),
    });
    expect(plan).toMatchObject({ signingKid: 'k1', create: null, retire: [], jwksKids: ['k2', 'k1'] });
    expect(plan.nextReviewAt).toBe(iso(T0 + 30 * DAY));
  });

  it('once the successor is active: it signs, the old key retires now and stays published for the max TTL', () => {
    const now = T0 + 30 * DAY + 10_000;
    const plan = planKeyRotation([record('k1', T0), record('k2', T0 + 30 * DAY)], {
      ...base,
      now: new Date(now),
    });
    expect(plan).toEqual({
      signingKid: 'k2',
      create: null,
      retire: [{ kid: 'k1', retiresAt: iso(now), expiresAt: iso(now + HOUR) }],
      jwksKids: ['k2', 'k1'],
      expired: [],
      nextReviewAt: iso(now + HOUR),
    });
  });

  it('drops a retired key from the JWKS at expiresAt and lists it as expired', () => {
    const keys = [record('k1', T0, T0 + 30 * DAY, T0 + 30 * DAY + HOUR), record('k2', T0 + 30 * DAY)];
    const before = planKeyRotation(keys, { ...base, now: new Date(T0 + 30 * DAY + HOUR - 1) });
    expect(before.jwksKids).toEqual(['k2', 'k1']);
    const after = planKeyRotation(keys, { ...base, now: new Date(T0 + 30 * DAY + HOUR) });
    expect(after).toMatchObject({ signingKid: 'k2', jwksKids: ['k2'], expired: ['k1'], retire: [] });
  });

  it('gives a retired key without expiresAt one (retiresAt + max TTL)', () => {
    const plan = planKeyRotation([record('k1', T0, T0 + DAY), record('k2', T0 + DAY)], {
      ...base,
      now: new Date(T0 + DAY + 60_000),
    });
    expect(plan.retire).toEqual([{ kid: 'k1', retiresAt: iso(T0 + DAY), expiresAt: iso(T0 + DAY + HOUR) }]);
    expect(plan.jwksKids).toEqual(['k2', 'k1']);
  });

  it('rotateNow retires the signer now and asks for a key that signs at once', () => {
    const now = T0 + 3 * DAY;
    const plan = planKeyRotation([record('k1', T0)], { ...base, now: new Date(now), rotateNow: true });
    expect(plan).toMatchObject({
      signingKid: null,
      create: { activatesAt: iso(now) },
      retire: [{ kid: 'k1', retiresAt: iso(now), expiresAt: iso(now + HOUR) }],
      jwksKids: ['k1'],
    });
  });

  it('two keys created at once by two replicas: all pick the same signer and retire the other', () => {
    const keys = [record('kb', T0), record('ka', T0)];
    const a = planKeyRotation(keys, { ...base, now: new Date(T0 + 1000) });
    const b = planKeyRotation([...keys].reverse(), { ...base, now: new Date(T0 + 1000) });
    expect(a.signingKid).toBe('kb');
    expect(b.signingKid).toBe('kb');
    expect(a.retire.map((r) => r.kid)).toEqual(['ka']);
  });

  it('honours the rotation period and pre-publication options', () => {
    const plan = planKeyRotation([record('k1', T0)], {
      ...base,
      now: new Date(T0 + 6 * DAY + 1),
      rotationPeriodSeconds: 7 * 86_400,
      prepublishSeconds: 86_400,
    });
    expect(plan.create).toEqual({ activatesAt: iso(T0 + 7 * DAY + 1) });
  });

  it('refuses bad input', () => {
    expect(() =>
      planKeyRotation([record('k1', T0), record('k1', T0)], { ...base, now: new Date(T0) }),
    ).toThrow('signing key k1 is listed twice');
    expect(() =>
      planKeyRotation([{ ...record('k1', T0), activatesAt: 'soon' }], { ...base, now: new Date(T0) }),
    ).toThrow('signing key k1: activatesAt is not a timestamp');
    expect(() => planKeyRotation([], { maxTokenTtlSeconds: 0, now: new Date(T0) })).toThrow(ValidationError);
  });

  it('over 200 days of hourly runs: one signer always, keys published before they sign and kept until their last token expired', () => {
    const maxTtl = 2 * HOUR;
    const options = {
      maxTokenTtlSeconds: maxTtl / 1000,
      rotationPeriodSeconds: 30 * 86_400,
      prepublishSeconds: 86_400,
    };
    let keys: SigningKeySchedule[] = [];
    let n = 0;
    const firstPublished = new Map<string, number>();
    const lastSigned = new Map<string, number>();
    const created: string[] = [];

    for (let now = T0; now < T0 + 200 * DAY; now += HOUR) {
      const plan = planKeyRotation(keys, { ...options, now: new Date(now) });
      if (plan.create) {
        const kid = `k${++n}`;
        created.push(kid);
        keys.push({
          kid,
          createdAt: iso(now),
          activatesAt: plan.create.activatesAt,
          retiresAt: null,
          expiresAt: null,
        });
      }
      for (const r of plan.retire) {
        keys = keys.map((k) =>
          k.kid === r.kid ? { ...k, retiresAt: r.retiresAt, expiresAt: r.expiresAt } : k,
        );
      }
      keys = keys.filter((k) => !plan.expired.includes(k.kid));

      // Applying the plan leaves nothing to do.
      const again = planKeyRotation(keys, { ...options, now: new Date(now) });
      expect(again.create).toBeNull();
      expect(again.retire).toEqual([]);
      expect(again.signingKid).not.toBeNull();
      const signer = again.signingKid!;

      for (const kid of again.jwksKids) if (!firstPublished.has(kid)) firstPublished.set(kid, now);
      if (!lastSigned.has(signer) && signer !== 'k1') {
        // Every key but the very first was published at least a day before it signed.
        expect(now - firstPublished.get(signer)!).toBeGreaterThanOrEqual(DAY);
      }
      lastSigned.set(signer, now);
      // Every key that signed within the max TTL is still published.
      for (const [kid, t] of lastSigned) {
        if (now - t < maxTtl) expect(again.jwksKids).toContain(kid);
      }
      // No key stays published long after its last token expired (one review interval of slack).
      for (const kid of again.jwksKids) {
        const t = lastSigned.get(kid);
        if (t !== undefined) expect(now - t).toBeLessThanOrEqual(maxTtl + HOUR);
      }
    }
    // 200 days with a 30-day period: the first key plus one successor roughly every 30 days.
    expect(created.length).toBe(7);
    expect(keys.length).toBeLessThanOrEqual(2);
  });
});

describe('buildJwks', () => {
  it('publishes every key not past expiresAt, newest first, public members only', async () => {
    const a = await generateSigningKey();
    const b = await generateSigningKey();
    const c = await generateSigningKey();
    const now = new Date(T0 + 10 * DAY);
    const withPrivate = {
      ...a.publicJwk,
      d: (await exportJWK(a.privateKey)).d,
      ext: true,
      key_ops: ['sign'],
    };
    const jwks = buildJwks(
      [
        { kid: a.kid, publicJwk: withPrivate, activatesAt: iso(T0), expiresAt: iso(T0 + 10 * DAY + 1) },
        { kid: b.kid, publicJwk: b.publicJwk, activatesAt: iso(T0 + 9 * DAY), expiresAt: null },
        { kid: c.kid, publicJwk: c.publicJwk, activatesAt: iso(T0 - DAY), expiresAt: iso(T0 + 10 * DAY) },
      ],
      now,
    );
    expect(jwks).toEqual({ keys: [b.publicJwk, a.publicJwk] });
    expect(JSON.stringify(jwks)).not.toContain('"d"');
  });

  it('refuses a key that is not an Ed25519 public key', () => {
    expect(() =>
      buildJwks(
        [{ kid: 'k', publicJwk: { kty: 'RSA' }, activatesAt: iso(T0), expiresAt: null }],
        new Date(T0),
      ),
    ).toThrow('signing key k: the public key is not an Ed25519 JWK');
  });
});
