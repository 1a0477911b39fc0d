/**
 * Versioned schema migrations. One schema, written once per dialect: the two columns of each entry must
 * create the same tables, columns and constraints. JSON is kept as text and timestamps as ISO-8601 text in
 * both, so values round-trip identically.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

const v1Tables = (dialect: 'sqlite' | 'postgres'): string => {
  const bigint = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  const sql = `
CREATE TABLE identities (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  external_id TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  environment TEXT,
  owner TEXT,
  sponsor TEXT,
  description TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  attributes TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_seen_at TEXT,
  content_hash TEXT NOT NULL,
  risk_score INTEGER,
  UNIQUE (provider, external_id)
);
CREATE INDEX identities_name ON identities (name);
CREATE INDEX identities_owner ON identities (owner);
CREATE INDEX identities_risk ON identities (risk_score);

CREATE TABLE credentials (
  id TEXT PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  provider TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  fingerprint_source TEXT NOT NULL,
  preview TEXT NOT NULL,
  external_id TEXT,
  name TEXT,
  scopes TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL,
  created_at TEXT,
  expires_at TEXT,
  last_used_at TEXT,
  last_rotated_at TEXT,
  attributes TEXT NOT NULL DEFAULT '{}',
  recorded_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  UNIQUE (identity_id, fingerprint)
);
CREATE INDEX credentials_fingerprint ON credentials (fingerprint);

CREATE TABLE credential_locations (
  credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
  loc_key TEXT NOT NULL,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  line INTEGER,
  key TEXT,
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  PRIMARY KEY (credential_id, loc_key)
);

CREATE TABLE grants (
  id TEXT PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  grant_key TEXT NOT NULL,
  effect TEXT NOT NULL,
  actions TEXT NOT NULL,
  resources TEXT NOT NULL,
  source TEXT NOT NULL,
  admin INTEGER NOT NULL DEFAULT 0,
  attributes TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  UNIQUE (identity_id, grant_key)
);

CREATE TABLE resources (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  environment TEXT,
  attributes TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  UNIQUE (provider, name)
);

CREATE TABLE people (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  status TEXT NOT NULL,
  department TEXT,
  manager TEXT,
  left_at TEXT,
  updated_at TEXT NOT NULL,
  content_hash TEXT NOT NULL
);

CREATE TABLE findings (
  id TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  owasp TEXT NOT NULL,
  severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  title TEXT NOT NULL,
  message TEXT NOT NULL,
  remediation TEXT NOT NULL,
  identity_id TEXT NOT NULL,
  credential_id TEXT,
  evidence TEXT NOT NULL DEFAULT '{}',
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL
);
CREATE INDEX findings_identity ON findings (identity_id);
CREATE INDEX findings_rank ON findings (severity_rank);

CREATE TABLE events (
  seq ${bigint} PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  time TEXT NOT NULL,
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  subject TEXT,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX events_subject ON events (subject);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;
  // SQLite compares text byte-wise (BINARY); the "C" collation makes PostgreSQL sort, compare and lower-case
  // the same way whatever the database's locale, so listings come back in the same order from both.
  return dialect === 'postgres' ? sql.replace(/\bTEXT\b/g, 'TEXT COLLATE "C"') : sql;
};

/**
 * The credential broker: agent types and agents (OAuth clients), federated issuers, signing keys, the
 * revocation deny-list, approvals, upstreams and the jti replay cache; and an index for reading events by
 * type over a time window (usage reports) in seq order. Client secrets are kept as password hashes; signing keys and
 * upstream credentials as sealed blobs, never in plaintext.
 */
const v2Tables = (dialect: 'sqlite' | 'postgres'): string => {
  const bigint = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  const sql = `
CREATE TABLE broker_agent_types (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  description TEXT,
  policy TEXT NOT NULL,
  policy_source TEXT NOT NULL,
  policy_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE broker_agents (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL UNIQUE,
  agent_type_id TEXT NOT NULL REFERENCES broker_agent_types (id),
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  secret_hash TEXT,
  jwks TEXT,
  federated TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_used_at TEXT,
  UNIQUE (agent_type_id, name)
);
CREATE INDEX broker_agents_name ON broker_agents (name, id);

CREATE TABLE broker_federated_issuers (
  id TEXT PRIMARY KEY,
  issuer TEXT NOT NULL UNIQUE,
  jwks_uri TEXT,
  jwks TEXT,
  audience TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE broker_signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  sealed_private_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  activates_at TEXT NOT NULL,
  retires_at TEXT,
  expires_at TEXT
);

CREATE TABLE broker_revocations (
  seq ${bigint} PRIMARY KEY,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  issued_before TEXT,
  expires_at TEXT NOT NULL,
  reason TEXT,
  actor TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX broker_revocations_expires ON broker_revocations (expires_at);

CREATE TABLE broker_counters (
  name TEXT PRIMARY KEY,
  value ${bigint} NOT NULL
);
INSERT INTO broker_counters (name, value) VALUES ('revocations', 0);

CREATE TABLE broker_approvals (
  id TEXT PRIMARY KEY,
  agent_id TEXT NOT NULL REFERENCES broker_agents (id),
  agent_type_id TEXT NOT NULL,
  scopes TEXT NOT NULL,
  resource TEXT,
  task TEXT,
  purpose TEXT,
  status TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  decided_at TEXT,
  decided_by TEXT,
  reason TEXT,
  token_jti TEXT
);
CREATE INDEX broker_approvals_status ON broker_approvals (status, expires_at);
CREATE INDEX broker_approvals_agent ON broker_approvals (agent_id);
CREATE INDEX broker_approvals_requested ON broker_approvals (requested_at, id);

CREATE TABLE broker_upstreams (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  base_url TEXT NOT NULL,
  auth TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  secret_fingerprint TEXT NOT NULL,
  secret_preview TEXT NOT NULL,
  routes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE broker_replay (
  namespace TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (namespace, jti)
);
CREATE INDEX broker_replay_expires ON broker_replay (expires_at);

CREATE INDEX events_by_type ON events (type, seq, time);
`;
  return dialect === 'postgres' ? sql.replace(/\bTEXT\b/g, 'TEXT COLLATE "C"') : sql;
};

/** All migrations in order. Append new ones; never edit an applied one. */
/** Alerts of the detection engine (id deterministic: a replay inserts nothing) and an outbox of webhook deliveries. */
function v4Alerts(dialect: 'sqlite' | 'postgres'): string {
  const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  const bigint = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  return `
CREATE TABLE detect_alerts (
  id ${text} PRIMARY KEY,
  rule_id ${text} NOT NULL,
  rule_title TEXT NOT NULL,
  level ${text} NOT NULL,
  tags TEXT NOT NULL,
  group_key TEXT,
  window_start ${bigint} NOT NULL,
  window_end ${bigint} NOT NULL,
  event_ids TEXT NOT NULL,
  event_count INTEGER NOT NULL,
  summary TEXT NOT NULL,
  source ${text} NOT NULL,
  created_at ${text} NOT NULL
);
CREATE INDEX detect_alerts_by_time ON detect_alerts (window_end, id);
CREATE INDEX detect_alerts_by_rule ON detect_alerts (rule_id, window_end);

CREATE TABLE detect_deliveries (
  alert_id ${text} NOT NULL REFERENCES detect_alerts (id) ON DELETE CASCADE,
  target ${text} NOT NULL,
  status ${text} NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at ${text} NOT NULL,
  last_error TEXT,
  delivered_at ${text},
  PRIMARY KEY (alert_id, target)
);
CREATE INDEX detect_deliveries_due ON detect_deliveries (status, next_attempt_at);
`;
}

/**
 * Findings keep a status with who set it, why and when (accepted findings stay accepted across posture runs);
 * alerts record their acknowledgement; an index reads one subject's events in seq order (identity timelines).
 */
function v6Dashboard(dialect: 'sqlite' | 'postgres'): string {
  const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  return `
ALTER TABLE findings ADD COLUMN status ${text} NOT NULL DEFAULT 'open';
ALTER TABLE findings ADD COLUMN status_reason ${text};
ALTER TABLE findings ADD COLUMN status_by ${text};
ALTER TABLE findings ADD COLUMN status_at ${text};
CREATE INDEX findings_status ON findings (status);
ALTER TABLE detect_alerts ADD COLUMN acknowledged_at ${text};
ALTER TABLE detect_alerts ADD COLUMN acknowledged_by ${text};
ALTER TABLE detect_alerts ADD COLUMN ack_note ${text};
CREATE INDEX events_by_subject ON events (subject, seq);
`;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'inventory, findings, event log, settings',
    sqlite: v1Tables('sqlite'),
    postgres: v1Tables('postgres'),
  },
  {
    version: 2,
    name: 'credential broker; events by type and time',
    sqlite: v2Tables('sqlite'),
    postgres: v2Tables('postgres'),
  },
  {
    version: 3,
    name: "agent types keep their policy's text (explain names lines)",
    sqlite: 'ALTER TABLE broker_agent_types ADD COLUMN policy_text TEXT;',
    postgres: 'ALTER TABLE broker_agent_types ADD COLUMN policy_text TEXT COLLATE "C";',
  },
  {
    version: 4,
    name: 'detection alerts and their webhook deliveries',
    sqlite: v4Alerts('sqlite'),
    postgres: v4Alerts('postgres'),
  },
  {
    version: 5,
    name: 'approval polling pace shared by every process',
    sqlite:
      'ALTER TABLE broker_approvals ADD COLUMN last_poll_ms INTEGER;\nALTER TABLE broker_approvals ADD COLUMN poll_interval INTEGER;',
    postgres:
      'ALTER TABLE broker_approvals ADD COLUMN last_poll_ms BIGINT;\nALTER TABLE broker_approvals ADD COLUMN poll_interval INTEGER;',
  },
  {
    version: 6,
    name: 'finding status (open, accepted, resolved); alert acknowledgement; events by subject in seq order',
    sqlite: v6Dashboard('sqlite'),
    postgres: v6Dashboard('postgres'),
  },
  {
    version: 7,
    // events_by_subject (subject, seq) answers every lookup events_subject did; every appended event paid for
    // both (with many subjects, 31 against 18 µs CPU per row in SQLite).
    name: 'events by subject: one index instead of two',
    sqlite: 'DROP INDEX IF EXISTS events_subject;',
    postgres: 'DROP INDEX IF EXISTS events_subject;',
  },
];
