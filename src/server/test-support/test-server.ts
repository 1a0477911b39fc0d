/** Test support: a real App on a temporary SQLite data directory, its server (not listening) and an admin token. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { App } from '../../app/app.js';
import { openApp } from '../../app/app.js';
import { loadConfig } from '../../app/app-config.js';
import { ensureAdminToken } from '../../app/keys.js';
import { fixedClock } from '../../core/time.js';
import type { IdentityInput } from '../../core/inventory-batch.js';
import type { Identity } from '../../core/types.js';
import { buildServer, type BuildServerOptions } from '../server.js';

/** A server under test with what a test needs to drive it. */
export interface TestServer {
  app: App;
  server: FastifyInstance;
  token: string;
  dataDir: string;
  /** `{ authorization: 'Bearer <token>' }`. */
  auth: { authorization: string };
  /** Creates an identity straight through the store (provider `test`, externalId = name unless given). */
  addIdentity(input: Partial<IdentityInput> & { name: string }): Promise<Identity>;
  close(): Promise<void>;
}

/** The time every test app runs at, so bodies are exact. */
export const TEST_TIME = '2025-06-01T12:00:00.000Z';

/**
 * Opens an App on a fresh temporary data directory and builds its server.
 * @example
 * const t = await createTestServer();
 * const res = await t.server.inject({ method: 'GET', url: '/api/v1/identities', headers: t.auth });
 * await t.close();
 */
export async function createTestServer(
  options: {
    config?: Record<string, unknown>;
    server?: BuildServerOptions;
    /** Changes the app before the server is built (replace a service or store method with a fake). */
    patchApp?: (app: App) => App;
    /** Start continuous detection (the built-in rule pack), as `serve` does. */
    startDetection?: boolean;
  } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kw-server-'));
  const config = loadConfig({
    env: {},
    flags: { dataDir, masterKey: '11'.repeat(32), logLevel: 'silent', ...options.config },
  });
  const opened = await openApp(config, {
    clock: fixedClock(TEST_TIME),
    ...(options.startDetection ? { startDetection: true } : {}),
  });
  const app = options.patchApp ? options.patchApp(opened) : opened;
  const { token } = await ensureAdminToken(app.store, dataDir);
  if (!token) throw new Error('test server: no admin token was created');
  const server = await buildServer(app, options.server);
  return {
    app,
    server,
    token,
    dataDir,
    auth: { authorization: `Bearer ${token}` },
    addIdentity: (input) =>
      opened.store.createIdentity(
        { provider: 'test', externalId: input.name, kind: 'service-account', ...input },
        { time: TEST_TIME, actor: 'test' },
      ),
    close: async () => {
      await server.close();
      await opened.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
