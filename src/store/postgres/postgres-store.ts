// IN PROGRESS (store helper replaces this file).
import { StoreError } from '../../core/errors.js';
import type { Store } from '../store-types.js';

export interface PostgresStoreOptions {
  connectionString: string;
}
export function createPostgresStore(_o: PostgresStoreOptions): Store {
  throw new StoreError('PostgreSQL store not built yet');
}
