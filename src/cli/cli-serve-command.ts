/** `keyward serve`: opens the app, makes sure an admin token exists, starts the HTTP server, stops on a signal. */
import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import { openApp } from '../app/app.js';
import { defaultIssuer } from '../app/app-config.js';
import { loadDemoActivity } from '../app/demo-activity.js';
import { createServer as createNetServer } from 'node:net';
import { adminTokenPath, ensureAdminToken } from '../app/keys.js';
import type { RunningServer } from '../server/index.js';
import type { CliAction } from './cli-context.js';
import { EXIT } from './cli-errors.js';
import { parseIntOption, parseNonEmpty } from './cli-options.js';

/** Network errors from listen() that mean the host or port the user chose cannot be used. */
const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use; stop the other process or choose another port with --port',
  EACCES: 'permission denied (ports below 1024 need privileges); choose another port with --port',
  EADDRNOTAVAIL: 'the address is not available on this machine; choose another with --host',
  ENOTFOUND: 'the host name does not resolve; choose another with --host',
};

/** The `code` of an error or of its cause (servers may wrap listen errors). */
function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && LISTEN_ERRORS[code]) return code;
  }
  return undefined;
}

/** Quotes a path for a POSIX shell when it holds characters the shell would interpret. */
export function shellQuote(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The lines `serve` prints once it listens: the URL, where the admin token is, and a command to try. */
export function serveBanner(args: {
  url: string;
  tokenFile: string;
  token: 'created' | 'exists' | 'missing';
  demo: { loaded: boolean; identities: number } | null;
}): string {
  const { url, tokenFile } = args;
  const lines = [`keyward listening on ${url}`];
  if (args.token === 'created')
    lines.push(`admin token: created on first start and written to ${tokenFile} (mode 0600)`);
  else if (args.token === 'exists') lines.push(`admin token: in ${tokenFile} (written on first start)`);
  else
    lines.push(
      `admin token: the file ${tokenFile} is gone; run \`keyward admin-token rotate\` to make a new one`,
    );
  if (args.demo) {
    lines.push(
      args.demo.loaded
        ? `demo data set loaded: ${args.demo.identities} identities`
        : `demo data set not loaded: the store already has ${args.demo.identities} identities`,
    );
  }
  const base = url.replace(/\/$/, '');
  lines.push(`dashboard: ${base}/ (sign in with the admin token)`);
  lines.push(
    `try: curl -H "Authorization: Bearer $(cat ${shellQuote(tokenFile)})" '${base}/api/v1/findings?minSeverity=high'`,
  );
  return lines.map((l) => l + '\n').join('');
}

/** Registers `serve` on the program. */
export function registerServeCommand(program: Command, action: CliAction): void {
  program
    .command('serve')
    .description('start the HTTP API (stops cleanly on SIGINT or SIGTERM)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)', parseNonEmpty)
    .option(
      '--port <port>',
      'port to listen on, 0 for any free port (default 7300)',
      parseIntOption(0, 65535),
    )
    .option('--demo', 'load the demo data set when the store has no identities')
    .action(
      action(async (ctx, _args, o) => {
        let config = ctx.config({ host: o.host, port: o.port });
        // Listen for SIGINT/SIGTERM before anything else: a signal that arrives while starting, or right after
        // the banner, must still shut down cleanly instead of killing the process with the store open.
        const shutdown = ctx.io.waitForShutdown();
        if (config.port === 0) {
          // The broker's issuer (iss of its tokens, base of its endpoints) must be the real address, so a free
          // port is chosen before the app is built rather than left to listen().
          const port = await freePort(config.host);
          const issuer =
            config.broker.issuer === defaultIssuer(config.host, 0)
              ? defaultIssuer(config.host, port)
              : config.broker.issuer;
          config = Object.freeze({ ...config, port, broker: Object.freeze({ ...config.broker, issuer }) });
        }
        const app = await openApp(config, {
          startBroker: true,
          startDetection: true,
          onError: (err) =>
            ctx.err(`keyward: background task failed: ${(err as Error).message ?? String(err)}\n`),
        });
        let running: RunningServer;
        let token: 'created' | 'exists' | 'missing';
        let demo: { loaded: boolean; identities: number } | null = null;
        try {
          const t = await ensureAdminToken(app.store, config.dataDir);
          token = t.created ? 'created' : t.tokenFile ? 'exists' : 'missing';
          if (o.demo === true) {
            const before = (await app.store.stats()).identities;
            if (before === 0) {
              await app.inventory.loadDemo('cli');
              // Alerts, approvals, tokens, accepted findings and scan results, so every dashboard page shows something.
              await loadDemoActivity(app, 'cli');
            }
            demo = { loaded: before === 0, identities: (await app.store.stats()).identities };
          }
          // Loaded here, not at the top: the other commands start faster without the HTTP stack.
          const { startServer } = await import('../server/index.js');
          try {
            // Request logs go to stderr, so stdout holds only the banner (or its JSON form).
            const stream = { write: (line: string) => void ctx.io.stderr.write(line) };
            running = await startServer(app, { host: config.host, port: config.port, logger: { stream } });
          } catch (err) {
            const code = errorCode(err);
            if (!code) throw err;
            throw new ValidationError(
              `cannot listen on ${config.host}:${config.port}: ${LISTEN_ERRORS[code]}`,
              {
                cause: err,
              },
            );
          }
        } catch (err) {
          await app.close().catch(() => undefined);
          throw err;
        }
        const tokenFile = adminTokenPath(config.dataDir);
        if (ctx.globals.json) ctx.out(JSON.stringify({ url: running.url, tokenFile, token, demo }) + '\n');
        else ctx.out(serveBanner({ url: running.url, tokenFile, token, demo }));

        const signal = await shutdown;
        ctx.err(`keyward: ${signal} received, shutting down\n`);
        try {
          await running.close();
        } finally {
          await app.close();
        }
        return EXIT.ok;
      }),
    );
}

/** A port that was free a moment ago on `host` (the OS picks it). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
