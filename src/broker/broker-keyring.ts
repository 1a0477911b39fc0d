/**
 * The broker's keyring: keeps the stored signing keys in step with the rotation planner (creating, sealing and
 * retiring keys in the store), opens the private key that signs, and serves the public key set for
 * `/.well-known/jwks.json` and for verifying the broker's own tokens. Opened private keys are cached in memory;
 * the store only ever sees them sealed (AES-256-GCM, purpose `signing-keys`, bound to the kid).
 */
import type { JSONWebKeySet } from 'jose';
import type { SigningKey as StoredSigningKey } from '../core/broker-types.js';
import { KeywardError } from '../core/errors.js';
import { createSecretBox } from '../core/secret-box.js';
import type { Clock } from '../core/time.js';
import type { BrokerStore } from '../store/index.js';
import {
  buildJwks,
  generateSigningKey,
  openSigningKey,
  planKeyRotation,
  sealSigningKey,
  SIGNING_ALG,
  type RotationPlan,
  type SigningKey,
} from './broker-crypto-keys.js';
import { createAccessTokenKeySet, type AccessTokenKeySet } from './broker-tokens.js';

/** Actor of the events the keyring's writes append. */
export const KEYRING_ACTOR = 'broker:keyring';

/** How long a loaded key list is trusted before the store is read again (other replicas may rotate). */
export const KEY_REFRESH_MS = 60_000;
/** An unknown kid reloads the key list at most this often, so forged kids cannot hammer the store. */
export const UNKNOWN_KID_RELOAD_MS = 1_000;

/** What the keyring needs from the store. */
export type KeyringStore = Pick<BrokerStore, 'listSigningKeys' | 'insertSigningKey' | 'updateSigningKey'>;

/** What the keyring is built from. */
export interface KeyringDeps {
  store: KeyringStore;
  masterKey: Buffer;
  clock: Clock;
  /** The longest lifetime any token may have: a retired key stays published this long. */
  maxTokenTtlSeconds: number;
  /** How long a key signs before its successor takes over. */
  rotationPeriodSeconds: number;
}

/** What one run of `ensureSigningKeys` did. */
export interface KeyRotationResult {
  /** The key that signs now. */
  signingKid: string;
  /** The key created in this run, if any. */
  created: string | null;
  /** Keys retired (or given an expiry) in this run. */
  retired: string[];
  /** Kids published in the JWKS, newest activation first. */
  jwksKids: string[];
  /** When the plan next changes on its own; run again then. */
  nextReviewAt: string | null;
}

interface Loaded {
  records: StoredSigningKey[];
  plan: RotationPlan;
  loadedAt: number;
  jwks: JSONWebKeySet;
  jwksKey: string;
  keySet: AccessTokenKeySet;
}

/**
 * Creates the keyring.
 * @example
 * const keyring = createBrokerKeyring({ store, masterKey, clock, maxTokenTtlSeconds: 3600, rotationPeriodSeconds: 30 * 86_400 });
 * await keyring.ensureSigningKeys();
 * const key = await keyring.signingKey();
 */
export function createBrokerKeyring(deps: KeyringDeps) {
  const { store, clock } = deps;
  const box = createSecretBox(deps.masterKey, 'signing-keys');
  const opened = new Map<string, Promise<SigningKey>>();
  let loaded: Loaded | null = null;
  let ensuring: Promise<KeyRotationResult> | null = null;
  let reloading: Promise<Loaded> | null = null;
  let lastUnknownKidReload = 0;

  const plan = (records: readonly StoredSigningKey[], rotateNow = false): RotationPlan =>
    planKeyRotation(records, {
      now: clock.now(),
      maxTokenTtlSeconds: deps.maxTokenTtlSeconds,
      rotationPeriodSeconds: deps.rotationPeriodSeconds,
      rotateNow,
    });

  const remember = (records: StoredSigningKey[]): Loaded => {
    const now = clock.now();
    const jwks = buildJwks(records, now);
    const jwksKey = jwks.keys.map((k) => k.kid).join(' ');
    // Keep the prepared key set while the published kids are the same: it caches imported public keys.
    const keySet = loaded && loaded.jwksKey === jwksKey ? loaded.keySet : createAccessTokenKeySet(jwks);
    loaded = { records, plan: plan(records), loadedAt: now.getTime(), jwks, jwksKey, keySet };
    return loaded;
  };

  /** Reads the stored keys without changing anything. */
  const reload = (): Promise<Loaded> => {
    reloading ??= store
      .listSigningKeys()
      .then(remember)
      .finally(() => {
        reloading = null;
      });
    return reloading;
  };

  const runRotation = async (rotateNow: boolean): Promise<KeyRotationResult> => {
    const time = clock.now().toISOString();
    const ctx = { time, actor: KEYRING_ACTOR };
    let records = await store.listSigningKeys();
    const first = plan(records, rotateNow);
    let created: string | null = null;
    if (first.create) {
      const key = await generateSigningKey();
      const sealedPrivateKey = await sealSigningKey(box, key);
      await store.insertSigningKey(
        {
          kid: key.kid,
          alg: SIGNING_ALG,
          publicJwk: { ...key.publicJwk },
          sealedPrivateKey,
          createdAt: time,
          activatesAt: first.create.activatesAt,
          retiresAt: null,
          expiresAt: null,
        },
        ctx,
      );
      opened.set(key.kid, Promise.resolve(key));
      created = key.kid;
    }
    for (const r of first.retire) {
      await store.updateSigningKey(r.kid, { retiresAt: r.retiresAt, expiresAt: r.expiresAt }, ctx);
    }
    if (created !== null || first.retire.length > 0) records = await store.listSigningKeys();
    const state = remember(records);
    // Keys past their expiry never sign or verify again: drop them from memory.
    for (const kid of state.plan.expired) opened.delete(kid);
    const signingKid = state.plan.signingKid;
    if (signingKid === null) {
      throw new KeywardError('KW_INTERNAL', 'the key rotation left no key that can sign tokens');
    }
    return {
      signingKid,
      created,
      retired: first.retire.map((r) => r.kid),
      jwksKids: state.plan.jwksKids,
      nextReviewAt: state.plan.nextReviewAt,
    };
  };

  /**
   * Applies the rotation plan to the store: creates a key when none can sign or a successor is due, retires
   * keys that no longer sign. Idempotent; concurrent calls in one process share one run, and replicas that
   * race converge on the next run (the planner retires all but the newest signer).
   */
  const ensureSigningKeys = (options: { rotateNow?: boolean } = {}): Promise<KeyRotationResult> => {
    if (options.rotateNow) return runRotation(true);
    ensuring ??= runRotation(false).finally(() => {
      ensuring = null;
    });
    return ensuring;
  };

  /** The loaded state, refreshed when stale or when the plan asks for a change. */
  const current = async (): Promise<Loaded> => {
    const now = clock.now().getTime();
    const state = loaded;
    if (
      state === null ||
      now - state.loadedAt >= KEY_REFRESH_MS ||
      now < state.loadedAt ||
      (state.plan.nextReviewAt !== null && now >= Date.parse(state.plan.nextReviewAt))
    ) {
      await ensureSigningKeys();
      return loaded!;
    }
    return state;
  };

  const open = (kid: string): Promise<SigningKey> => {
    let key = opened.get(kid);
    if (!key) {
      const record = loaded?.records.find((r) => r.kid === kid);
      if (!record) return Promise.reject(new KeywardError('KW_INTERNAL', `signing key ${kid} is not stored`));
      key = openSigningKey(box, kid, record.sealedPrivateKey);
      // A failed open is not cached: the next request tries again (and fails the same way if the blob is bad).
      key.catch(() => opened.delete(kid));
      opened.set(kid, key);
    }
    return key;
  };

  return {
    ensureSigningKeys,

    /** The key that signs now, opened (and cached); rotates first when the plan says so. */
    async signingKey(): Promise<SigningKey> {
      let state = await current();
      if (state.plan.create !== null || state.plan.retire.length > 0 || state.plan.signingKid === null) {
        await ensureSigningKeys();
        state = loaded!;
      }
      const kid = state.plan.signingKid;
      if (kid === null) throw new KeywardError('KW_INTERNAL', 'no signing key is available');
      return open(kid);
    },

    /** The public key set to publish: pending, current and retired keys until they expire; never a private part. */
    async jwks(): Promise<JSONWebKeySet> {
      const state = await current();
      // Rebuilt per call: a retired key leaves the set the moment its expiry passes.
      return buildJwks(state.records, clock.now());
    },

    /**
     * The prepared key set to verify the broker's own tokens. When `kid` is not in it, the store is read again
     * (at most once a second) in case another replica created the key.
     */
    async keySet(kid?: string): Promise<AccessTokenKeySet> {
      let state = await current();
      if (kid !== undefined && !state.jwks.keys.some((k) => k.kid === kid)) {
        const now = clock.now().getTime();
        if (Math.abs(now - lastUnknownKidReload) >= UNKNOWN_KID_RELOAD_MS) {
          lastUnknownKidReload = now;
          state = await reload();
        }
      }
      return state.keySet;
    },

    /** The stored keys' schedules (never the sealed private keys), newest first. */
    async keys(): Promise<Array<Omit<StoredSigningKey, 'sealedPrivateKey'>>> {
      const state = await current();
      return state.records.map(({ sealedPrivateKey: _sealed, ...info }) => info);
    },

    /** When the plan next changes on its own (null before the first load). */
    nextReviewAt(): string | null {
      return loaded?.plan.nextReviewAt ?? null;
    },

    /** Settles any rotation or reload in flight (used when closing). */
    async idle(): Promise<void> {
      await Promise.allSettled([ensuring, reloading]);
    },
  };
}

/** The keyring's interface. */
export type BrokerKeyring = ReturnType<typeof createBrokerKeyring>;
