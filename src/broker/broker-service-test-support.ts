/**
 * Test support for the broker service: stores on SQLite (:memory:) and PostgreSQL (a fresh schema), a clock
 * tests can move, the service wired with test settings, policies, and what an agent sends (token requests,
 * DPoP proofs, client assertions, workload tokens). Used by tests only; nothing in src/ imports it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createFingerprinter } from '../core/fingerprint.js';
import type { Clock } from '../core/time.js';
import type { Store } from '../store/index.js';
import { createPostgresStore } from '../store/postgres/postgres-store.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { DEFAULT_TEST_DATABASE_URL } from '../store/store-conformance.js';
import {
  createClientAssertion,
  createDpopProof,
  generateTestKey,
  payloadOf,
  signTestJwt,
  type TestKey,
} from './broker-crypto-test-support.js';
import { createBrokerService, type BrokerConfig, type BrokerServiceDeps } from './broker-service.js';
import type { TokenEndpointRequest, TokenEndpointResponse } from './broker-token-endpoint.js';

export const ISSUER = 'https://keyward.test';
export const TOKEN_URL = `${ISSUER}/oauth/token`;
export const IDP = 'https://idp.test';
export const CI_ISSUER = 'https://ci.test';
export const GITHUB = 'https://api.github.com';
export const BILLING = 'https://billing.internal.example';
/** A Monday, 10:00 UTC. */
export const T0 = '2026-03-02T10:00:00.000Z';
export const T0_SECONDS = Date.parse(T0) / 1000;
export const MASTER_KEY = Buffer.alloc(32, 7);
export const PG_URL = process.env.KEYWARD_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;

/** A clock tests move by hand. */
export interface MovingClock extends Clock {
  set(iso: string): void;
  advance(seconds: number): void;
  seconds(): number;
}

export function movingClock(start: string = T0): MovingClock {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    set: (iso) => {
      t = Date.parse(iso);
    },
    advance: (seconds) => {
      t += seconds * 1000;
    },
    seconds: () => Math.floor(t / 1000),
  };
}

/** A migrated store and how to dispose of it. */
export interface TestStore {
  store: Store;
  /** Another store on the same database (PostgreSQL only), as a second process opens it. */
  openSecond?: () => Promise<Store>;
  dispose(): Promise<void>;
}

export async function sqliteStore(): Promise<TestStore> {
  const store = createSqliteStore({ filename: ':memory:' });
  await store.migrate();
  return { store, dispose: () => store.close() };
}

export async function postgresStore(url = PG_URL): Promise<TestStore> {
  const schema = `kw_test_${randomBytes(8).toString('hex')}`;
  const store = createPostgresStore({ connectionString: url, schema, poolSize: 4 });
  await store.migrate();
  const others: Store[] = [];
  return {
    store,
    openSecond: async () => {
      const s = createPostgresStore({ connectionString: url, schema, poolSize: 4 });
      others.push(s);
      return s;
    },
    dispose: async () => {
      for (const s of others) await s.close().catch(() => undefined);
      await store.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

export const TEST_BROKER_CONFIG: BrokerConfig = {
  issuer: ISSUER,
  defaultTokenTtlSeconds: 900,
  maxTokenTtlSeconds: 3600,
  keyRotationDays: 30,
  revocationPollIntervalMs: 250,
  dpopIatWindowSeconds: 60,
  dpopNonce: false,
  approvalPollIntervalSeconds: 5,
};

/** The broker service on a store with test settings. */
export function makeBroker(
  store: Store,
  clock: Clock,
  config: Partial<BrokerConfig> = {},
  deps: Partial<BrokerServiceDeps> = {},
) {
  return createBrokerService({
    store,
    masterKey: MASTER_KEY,
    fingerprinter: createFingerprinter(MASTER_KEY),
    clock,
    config: { ...TEST_BROKER_CONFIG, ...config },
    ...deps,
  });
}

/** The support agent's policy: GitHub reads, billing with refunds behind approval, exchange allowed. */
export const SUPPORT_POLICY = `# support agent
agentType: support-agent
owner: farid@example.com
tokens:
  maxTtl: 15m
  defaultTtl: 5m
allow:
  - resource: ${GITHUB}
    scopes: [repo:read, issues:write]
  - resource: ${BILLING}
    scopes: [invoices:read, invoices:refund]
    approval: [invoices:refund]
    approvalTimeout: 10m
deny:
  - resource: '*'
    scopes: ['admin:*']
conditions:
  sourceCidrs: [10.0.0.0/8, '::1/128']
exchange:
  allowed: true
  maxChainDepth: 2
  subjectIssuers: [${ISSUER}, ${IDP}]
`;

/** The planner: acts for users of the IdP (chain depth 1). */
export const PLANNER_POLICY = `agentType: planner-agent
owner: ops@example.com
allow:
  - resource: ${GITHUB}
    scopes: [repo:read, issues:write]
exchange:
  allowed: true
  maxChainDepth: 1
  subjectIssuers: [${IDP}, ${ISSUER}]
`;

/** Requires DPoP, task and purpose. */
export const STRICT_POLICY = `agentType: strict-agent
owner: sec@example.com
tokens:
  requireDpop: true
  requireClaims: [task, purpose]
allow:
  - resource: ${GITHUB}
    scopes: [repo:read]
`;

/** No exchange. */
export const PLAIN_POLICY = `agentType: plain-agent
owner: dev@example.com
allow:
  - resource: ${GITHUB}
    scopes: [repo:read]
`;

/** A token request as the HTTP layer would hand it over. */
export function tokenRequest(
  params: Record<string, string>,
  extra: Partial<TokenEndpointRequest> = {},
): TokenEndpointRequest {
  return { params, method: 'POST', url: TOKEN_URL, sourceIp: '10.0.0.7', ...extra };
}

/** The body of a 200 answer (fails the test otherwise). */
export function okBody(res: TokenEndpointResponse) {
  if (res.status !== 200) {
    throw new Error(`expected 200, got ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/** The claims of the token in a 200 answer. */
export function claimsOf(res: TokenEndpointResponse): Record<string, unknown> {
  return payloadOf(okBody(res).access_token);
}

/** A DPoP proof for the token endpoint at the clock's time. */
export function tokenProof(
  key: TestKey,
  clock: MovingClock,
  extra: { nonce?: string; jti?: string; htu?: string } = {},
) {
  return createDpopProof({
    key,
    htm: 'POST',
    htu: extra.htu ?? TOKEN_URL,
    iat: clock.seconds(),
    ...(extra.jti === undefined ? {} : { jti: extra.jti }),
    ...(extra.nonce === undefined ? {} : { nonce: extra.nonce }),
  });
}

/** A private_key_jwt assertion for the token endpoint at the clock's time. */
export function assertionFor(key: TestKey, clientId: string, clock: MovingClock, audience = TOKEN_URL) {
  return createClientAssertion({ key, clientId, audience, now: clock.seconds() });
}

/** A workload or user token from a test issuer. */
export function issuerToken(
  key: TestKey,
  claims: Record<string, unknown>,
  clock: MovingClock,
  issuer: string = CI_ISSUER,
  audience: string = ISSUER,
): Promise<string> {
  return signTestJwt(
    { alg: key.alg, kid: key.publicJwk.kid, typ: 'JWT' },
    { iss: issuer, aud: audience, iat: clock.seconds(), exp: clock.seconds() + 600, ...claims },
    key.privateKey,
  );
}

export { generateTestKey, payloadOf };
