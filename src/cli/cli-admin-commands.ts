/** Operator commands: audit verify, admin-token rotate, migrate. */
import type { Command } from 'commander';
import { ensureAdminToken } from '../app/keys.js';
import { ValidationError } from '../core/errors.js';
import { verifyEventLog } from '../audit/index.js';
import { openStore } from '../store/index.js';
import type { CliAction } from './cli-context.js';
import { EXIT } from './cli-errors.js';
import { renderAuditVerify } from './cli-render.js';

/** Registers `audit verify`, `admin-token rotate` and `migrate` on the program. */
export function registerAdminCommands(program: Command, action: CliAction): void {
  const audit = program.command('audit').description('the append-only, hash-chained event log');
  audit
    .command('verify')
    .description('check the hash chain of the event log; exit 1 at the first record that does not match')
    .option(
      '--anchor <seq:hash>',
      'a record seq and hash printed by an earlier verify: also fail if the log was cut or rewritten since',
    )
    .action(
      action(async (ctx, _args, opts) => {
        const anchor = typeof opts.anchor === 'string' ? parseAnchor(opts.anchor) : undefined;
        const result = await ctx.withApp((app) => verifyEventLog(app.store, { anchor }));
        if (ctx.globals.json) ctx.json(result);
        else ctx.out(renderAuditVerify(result, ctx.render));
        return result.ok ? EXIT.ok : EXIT.failed;
      }),
    );

  const adminToken = program.command('admin-token').description('the admin API token');
  adminToken
    .command('rotate')
    .description(
      'replace the admin token; the old one stops working and the new one is written to a 0600 file',
    )
    .action(
      action(async (ctx) => {
        const result = await ctx.withApp(async (app) =>
          ensureAdminToken(app.store, app.config.dataDir, { rotate: true }),
        );
        // Only the file path is printed: the token itself never reaches a terminal or a log.
        if (ctx.globals.json) ctx.json({ rotated: true, tokenFile: result.tokenFile });
        else
          ctx.out(
            `admin token rotated; the new token is in ${result.tokenFile} (the old one no longer works)\n`,
          );
      }),
    );

  program
    .command('migrate')
    .description('apply pending database migrations and print the versions applied')
    .action(
      action(async (ctx) => {
        const config = ctx.config();
        const store = await openStore({
          dataDir: config.dataDir,
          databaseUrl: config.databaseUrl,
          migrate: false,
        });
        let applied: number[];
        try {
          applied = await store.migrate();
        } finally {
          await store.close();
        }
        if (ctx.globals.json) return ctx.json({ dialect: store.dialect, applied });
        ctx.out(
          applied.length > 0
            ? `applied migration${applied.length === 1 ? '' : 's'} ${applied.join(', ')} to the ${store.dialect} store\n`
            : `the ${store.dialect} store is up to date; no migrations to apply\n`,
        );
      }),
    );
}

/** Parses `--anchor <seq>:<hash>`. */
function parseAnchor(text: string): { seq: number; hash: string } {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  if (!m || Number(m[1]) < 1) {
    throw new ValidationError(
      `--anchor must be <seq>:<64 hex digits> as printed by \`keyward audit verify\` (got "${text}")`,
      {
        details: [{ path: '--anchor', message: 'expected <seq>:<sha256 hex>' }],
      },
    );
  }
  return { seq: Number(m[1]), hash: m[2]! };
}
