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
} from './store-types.js';
export { createSqliteStore } from './sqlite/sqlite-store.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
export { openStore, type OpenStoreOptions } from './open-store.js';
