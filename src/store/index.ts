/** The persistence layer's public surface. */
export type {
  Store,
  Page,
  PageQuery,
  IdentityFilter,
  CredentialFilter,
  GrantFilter,
  ResourceFilter,
  PersonFilter,
  FindingFilter,
  IdentityPatch,
  ChangeContext,
  StoreStats,
  BrokerStore,
  AgentFilter,
  ApprovalFilter,
  SigningKeyPatch,
  EventFilter,
  AlertFilter,
  StoredAlert,
} from './store-types.js';
export type {
  AlertDayCount,
  CredentialDue,
  CredentialsDueQuery,
  DueCredential,
  FindingCount,
} from './store-dashboard.js';
export type { FindingStatusChange } from './store-findings.js';
export { createSqliteStore } from './sqlite/sqlite-store.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
export { openStore, type OpenStoreOptions } from './open-store.js';
