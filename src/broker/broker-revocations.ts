/**
 * The revocation deny-list as each process holds it: a copy of the store's `broker_revocations`, kept current
 * by polling `listRevocationsSince(lastSeq)` (seqs grow in commit order across processes, so nothing is
 * missed), and a check that tells whether a token's claims fall under any entry. Token checks never touch
 * the store while the copy is fresh; when it is stale they refresh first, and when the store cannot be read
 * for longer than the staleness limit they fail closed.
 */
import type { Revocation, RevocationKind } from '../core/broker-types.js';
import type { Clock } from '../core/time.js';
import type { BrokerStore } from '../store/index.js';
import type { AccessTokenClaims } from './broker-tokens.js';

/** Largest page read per poll. */
const PAGE = 1_000;
/** The store's own expired entries are deleted at most this often per process. */
const STORE_PRUNE_MS = 600_000;

/** What the revocation cache needs from the store. */
export type RevocationStore = Pick<BrokerStore, 'listRevocationsSince' | 'pruneRevocations'>;

/** Options of the revocation cache. */
export interface RevocationCacheDeps {
  store: RevocationStore;
  clock: Clock;
  /** How often the store is polled while started (ms). */
  pollIntervalMs: number;
  /** Errors of background polls go here (the cache keeps its last good copy). */
  onError?: (err: unknown) => void;
}

/** The outcome of a revocation check. */
export type RevocationCheck =
  | { revoked: false }
  | { revoked: true; kind: RevocationKind; value: string }
  /** The deny-list could not be refreshed for longer than allowed: the token is refused (fail closed). */
  | { revoked: 'unknown' };

/** The claims a revocation check looks at. */
export type RevocableClaims = Pick<AccessTokenClaims, 'jti' | 'sub' | 'iat' | 'task' | 'act'> & {
  agent_type_id?: unknown;
};

interface Entry {
  /** Tokens issued before this (ms) are revoked; Infinity: whenever issued. */
  cutoff: number;
  expiresAt: number;
  seq: number;
}

/**
 * Creates the revocation cache. It works without `start()` (every check refreshes a stale copy first);
 * `start()` adds a background poll so checks stay on the fast path.
 * @example
 * const revocations = createRevocationCache({ store, clock, pollIntervalMs: 250 });
 * revocations.start();
 * const check = await revocations.check(claims);
 */
export function createRevocationCache(deps: RevocationCacheDeps) {
  const { store, clock } = deps;
  const interval = Math.max(10, deps.pollIntervalMs);
  // A copy this old is refreshed before it is used; older than the limit with the store unreachable: refuse.
  const refreshAfterMs = interval * 2;
  const maxStalenessMs = Math.max(1_000, interval * 4);
  const entries = new Map<string, Entry[]>();
  let lastSeq = 0;
  let syncedAt = Number.NEGATIVE_INFINITY;
  let syncing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let lastStorePrune = 0;

  const keyOf = (kind: RevocationKind, value: string): string => `${kind}\u0000${value}`;

  const apply = (r: Revocation): void => {
    const key = keyOf(r.kind, r.value);
    const list = entries.get(key) ?? [];
    if (list.some((e) => e.seq === r.seq)) return;
    list.push({
      cutoff: r.issuedBefore === null ? Number.POSITIVE_INFINITY : Date.parse(r.issuedBefore),
      expiresAt: Date.parse(r.expiresAt),
      seq: r.seq,
    });
    entries.set(key, list);
  };

  const pruneLocal = (now: number): void => {
    for (const [key, list] of entries) {
      const live = list.filter((e) => e.expiresAt > now);
      if (live.length === 0) entries.delete(key);
      else if (live.length !== list.length) entries.set(key, live);
    }
  };

  const sync = async (): Promise<void> => {
    // Taken before reading: anything committed after this moment is picked up by the next sync.
    const started = Date.now();
    for (;;) {
      const page = await store.listRevocationsSince(lastSeq, PAGE);
      for (const r of page) {
        apply(r);
        if (r.seq > lastSeq) lastSeq = r.seq;
      }
      if (page.length < PAGE) break;
    }
    syncedAt = started;
    const now = clock.now().getTime();
    pruneLocal(now);
    if (Date.now() - lastStorePrune >= STORE_PRUNE_MS) {
      lastStorePrune = Date.now();
      await store.pruneRevocations(new Date(now).toISOString()).catch(() => 0);
    }
  };

  /** Reads new entries from the store; concurrent callers share one read. */
  const refresh = (): Promise<void> => {
    syncing ??= sync().finally(() => {
      syncing = null;
    });
    return syncing;
  };

  const matches = (kind: RevocationKind, value: unknown, issuedAtMs: number): boolean => {
    if (typeof value !== 'string' || value === '') return false;
    const list = entries.get(keyOf(kind, value));
    return list !== undefined && list.some((e) => issuedAtMs < e.cutoff);
  };

  /** The first entry the claims fall under, from the copy as it is (no refresh). */
  const lookup = (claims: RevocableClaims): RevocationCheck => {
    const iat = typeof claims.iat === 'number' ? claims.iat * 1000 : 0;
    const hit = (kind: RevocationKind, value: unknown): RevocationCheck | null =>
      matches(kind, value, iat) ? { revoked: true, kind, value: value as string } : null;
    const found =
      hit('jti', claims.jti) ??
      hit('issued-before', '*') ??
      hit('task', claims.task) ??
      hit('agent-type', claims.agent_type_id) ??
      hit('agent', claims.sub);
    if (found) return found;
    // An agent's revocation also reaches every token it took part in as an actor (RFC 8693 act chain).
    for (let a = claims.act; a !== undefined; a = a.act) {
      const inChain = hit('agent', a.sub);
      if (inChain) return inChain;
    }
    return { revoked: false };
  };

  return {
    refresh,

    /** Applies an entry this process just wrote, so it is enforced here at once. */
    apply,

    /**
     * Whether a token is revoked. Refreshes the copy first when it is older than twice the poll interval;
     * when that fails and the copy is older than the staleness limit, answers `unknown` (refuse the token).
     */
    async check(claims: RevocableClaims): Promise<RevocationCheck> {
      if (Date.now() - syncedAt > refreshAfterMs) {
        try {
          await refresh();
        } catch (err) {
          if (Date.now() - syncedAt > maxStalenessMs) {
            deps.onError?.(err);
            return { revoked: 'unknown' };
          }
        }
      }
      return lookup(claims);
    },

    /**
     * The latest finite cutoff (epoch ms) of the revocations a token with these claims falls under whenever it
     * was issued (jti revocations aside), or null. The token endpoint uses it so that a token issued in the
     * same second as a revocation, but after it, is not born revoked: `iat` has whole seconds only.
     */
    latestCutoff(claims: Omit<RevocableClaims, 'jti' | 'iat'>): number | null {
      let latest: number | null = null;
      const consider = (kind: RevocationKind, value: unknown): void => {
        if (typeof value !== 'string' || value === '') return;
        for (const e of entries.get(keyOf(kind, value)) ?? []) {
          if (Number.isFinite(e.cutoff) && (latest === null || e.cutoff > latest)) latest = e.cutoff;
        }
      };
      consider('issued-before', '*');
      consider('task', claims.task);
      consider('agent-type', claims.agent_type_id);
      consider('agent', claims.sub);
      for (let a = claims.act; a !== undefined; a = a.act) consider('agent', a.sub);
      return latest;
    },

    /** Starts polling the store every `pollIntervalMs` (the timer does not keep the process alive). */
    start(): void {
      if (timer) return;
      const tick = (): void => {
        refresh()
          .catch((err: unknown) => deps.onError?.(err))
          .finally(() => {
            if (timer) timer = setTimeout(tick, interval).unref();
          });
      };
      timer = setTimeout(tick, 0).unref();
    },

    /** Stops polling and waits for a poll in flight. */
    async stop(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      await syncing?.catch(() => undefined);
    },

    /** The highest seq read so far and when the copy was last refreshed (epoch ms), for health checks. */
    status(): { lastSeq: number; syncedAt: number | null; entries: number } {
      let n = 0;
      for (const list of entries.values()) n += list.length;
      return { lastSeq, syncedAt: Number.isFinite(syncedAt) ? syncedAt : null, entries: n };
    },
  };
}

/** The revocation cache's interface. */
export type RevocationCache = ReturnType<typeof createRevocationCache>;
