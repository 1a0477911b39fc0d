import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { ValidationError } from '../core/errors.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import { createPostgresStore } from './postgres/postgres-store.js';
import type { Store } from './store-types.js';

/** Where the store lives: a PostgreSQL URL, or else a SQLite file in the data directory. */
export interface OpenStoreOptions {
  dataDir: string;
  /** `postgres://…` or `postgresql://…` selects PostgreSQL; `sqlite:PATH` a SQLite file; absent: `<dataDir>/keyward.db`. */
  databaseUrl?: string | undefined;
  /** Apply pending migrations before returning (default true); `keyward migrate` applies them itself to report them. */
  migrate?: boolean;
}

/** Opens the configured store and applies pending migrations (unless `migrate: false`). */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const url = options.databaseUrl;
  let store: Store;
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    store = createPostgresStore({ connectionString: url });
  } else if (url && url.startsWith('sqlite:')) {
    store = createSqliteStore({ filename: url.slice('sqlite:'.length) });
  } else if (url) {
    throw new ValidationError(
      `database URL must start with postgres://, postgresql:// or sqlite: (got "${url.split(':')[0]}:…")`,
      {
        code: 'KW_INVALID_CONFIG',
        details: [{ path: 'KEYWARD_DATABASE_URL', message: 'unsupported scheme' }],
      },
    );
  } else {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    store = createSqliteStore({ filename: join(options.dataDir, 'keyward.db') });
  }
  if (options.migrate === false) return store;
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
