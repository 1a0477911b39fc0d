import { afterEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../core/secret-box.js';
import { createBrokerKeyring } from './broker-keyring.js';
import {
  GITHUB,
  MASTER_KEY,
  makeBroker,
  movingClock,
  okBody,
  payloadOf,
  PLAIN_POLICY,
  sqliteStore,
  T0,
  tokenRequest,
  type MovingClock,
} from './broker-service-test-support.js';
import type { BrokerService } from './broker-service.js';
import { headerOf } from './broker-crypto-test-support.js';
import type { Store } from '../store/index.js';

const DAY = 86_400;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(): Promise<{
  store: Store;
  clock: MovingClock;
  broker: BrokerService;
  issue(): Promise<string>;
}> {
  const ts = await sqliteStore();
  const clock = movingClock();
  const broker = makeBroker(ts.store, clock);
  cleanups.push(async () => {
    await broker.close();
    await ts.dispose();
  });
  await broker.applyAgentType({ fileName: 'plain.yaml', text: PLAIN_POLICY }, 'test');
  const reg = await broker.registerAgent('plain-agent', { name: 'bot', withSecret: true }, 'test');
  const issue = async () =>
    okBody(
      await broker.token(
        tokenRequest(
          { grant_type: 'client_credentials', scope: 'repo:read', resource: GITHUB },
          { basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret! } },
        ),
      ),
    ).access_token;
  return { store: ts.store, clock, broker, issue };
}

const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const verify = (broker: BrokerService, token: string) =>
  broker.verifyToken(token, { method: 'GET', url: `${GITHUB}/x` });

describe('broker keyring', () => {
  it('stores private keys only sealed (AES-256-GCM, bound to the kid) and publishes public parts only', async () => {
    const t = await setup();
    const result = await t.broker.ensureSigningKeys();
    const [key] = await t.store.listSigningKeys();
    expect(key!.kid).toBe(result.signingKid);
    expect(key!.sealedPrivateKey).toMatch(/^kw1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const plain = JSON.parse(
      createSecretBox(MASTER_KEY, 'signing-keys').openText(key!.sealedPrivateKey, key!.kid),
    ) as {
      d: string;
      x: string;
    };
    expect(plain.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key!.sealedPrivateKey).not.toContain(plain.d);
    expect(key!.sealedPrivateKey).not.toBe(JSON.stringify(plain));
    // Bound to the kid: the blob does not open as another record.
    expect(() =>
      createSecretBox(MASTER_KEY, 'signing-keys').open(key!.sealedPrivateKey, 'another-kid'),
    ).toThrow(/failed authentication/);
    const jwks = await t.broker.jwks();
    expect(jwks.keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: plain.x, kid: key!.kid, alg: 'EdDSA', use: 'sig' },
    ]);
    const everything = JSON.stringify([
      await t.store.readEvents(0, 1000),
      jwks,
      await t.broker.signingKeys(),
    ]);
    expect(everything).not.toContain(plain.d);
    expect(everything).not.toContain(key!.sealedPrivateKey);
  });

  it('is idempotent, creates a key on first use, and opens the signing key once', async () => {
    const t = await setup();
    const token = await t.issue();
    const kids = (await t.store.listSigningKeys()).map((k) => k.kid);
    expect(kids).toHaveLength(1);
    expect(headerOf(token).kid).toBe(kids[0]);
    expect(await t.broker.ensureSigningKeys()).toMatchObject({
      signingKid: kids[0],
      created: null,
      retired: [],
    });
    const keyring = createBrokerKeyring({
      store: t.store,
      masterKey: MASTER_KEY,
      clock: t.clock,
      maxTokenTtlSeconds: 3600,
      rotationPeriodSeconds: 30 * DAY,
    });
    const a = await keyring.signingKey();
    const b = await keyring.signingKey();
    expect(a).toBe(b);
    expect(a.privateKey.extractable).toBe(false);
    expect((await t.store.listSigningKeys()).map((k) => k.kid)).toEqual(kids);
  });

  it('rotates on schedule: the successor is published a day early, old tokens verify until they expire, then the old key leaves the JWKS', async () => {
    const t = await setup();
    const first = await t.broker.ensureSigningKeys();
    const k1 = first.signingKid;
    expect(first.nextReviewAt).toBe(at(29 * DAY));

    t.clock.set(at(29 * DAY));
    const pre = await t.broker.ensureSigningKeys();
    const k2 = pre.created!;
    expect(pre.signingKid).toBe(k1);
    expect((await t.broker.jwks()).keys.map((k) => k.kid)).toEqual([k2, k1]);
    expect(headerOf(await t.issue()).kid).toBe(k1);

    t.clock.set(at(30 * DAY - 60));
    const old = await t.issue();
    expect(headerOf(old).kid).toBe(k1);

    t.clock.set(at(30 * DAY + 1));
    // The keyring notices on its own that the plan changed (no explicit ensureSigningKeys needed).
    const fresh = await t.issue();
    expect(headerOf(fresh).kid).toBe(k2);
    const retired = (await t.store.listSigningKeys()).find((k) => k.kid === k1)!;
    expect(retired).toMatchObject({ retiresAt: at(30 * DAY + 1), expiresAt: at(30 * DAY + 1 + 3600) });
    expect((await t.broker.jwks()).keys.map((k) => k.kid)).toEqual([k2, k1]);
    expect(await verify(t.broker, old)).toMatchObject({ ok: true, kid: k1 });
    expect(await verify(t.broker, fresh)).toMatchObject({ ok: true, kid: k2 });

    t.clock.set(at(30 * DAY + 1 + 3600));
    await t.broker.ensureSigningKeys();
    expect((await t.broker.jwks()).keys.map((k) => k.kid)).toEqual([k2]);
    expect(await verify(t.broker, old)).toMatchObject({ ok: false, reason: 'unknown-key' });
    expect(await verify(t.broker, await t.issue())).toMatchObject({ ok: true, kid: k2 });
    const types = (await t.store.readEvents(0, 1000))
      .map((e) => e.type)
      .filter((x) => x.startsWith('broker.key'));
    expect(types).toEqual(['broker.key.created', 'broker.key.created', 'broker.key.retired']);
  });

  it('rotateNow retires the signer at once; another replica verifies tokens of a key it has not loaded yet', async () => {
    const t = await setup();
    const before = await t.issue();
    const other = makeBroker(t.store, t.clock);
    cleanups.push(() => other.close());
    expect(await verify(other, before)).toMatchObject({ ok: true });
    const rotated = await t.broker.ensureSigningKeys({ rotateNow: true });
    expect(rotated.retired).toHaveLength(1);
    const after = await t.issue();
    expect(headerOf(after).kid).toBe(rotated.signingKid);
    expect(headerOf(after).kid).not.toBe(headerOf(before).kid);
    // `other` loaded the key list before the rotation: the unknown kid makes it read the store again.
    t.clock.advance(2);
    expect(await verify(other, after)).toMatchObject({ ok: true, kid: rotated.signingKid });
    expect(await verify(other, before)).toMatchObject({ ok: true });
    expect(payloadOf(after).iss).toBe('https://keyward.test');
  });
});
