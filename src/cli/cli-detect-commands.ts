/** `keyward rules check` and `keyward detect`: load rules, run them over event files, print alerts. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import { createDetector, loadDetectionRules, type LoadedRules } from '../detect/detect-service.js';
import {
  LEVELS,
  type Alert,
  type BrokenRecord,
  type Level,
  type RuleLoadError,
} from '../detect/detect-types.js';
import { isAdapterName, loadFieldMapping, readEvents, ADAPTER_NAMES } from '../detect/events/index.js';
import { createLinePrefilter } from '../detect/line-prefilter.js';
import { alertsTable, toOcsfFinding, toSarif } from '../detect/output/alert-output.js';
import type { CheckReport } from '../detect/sigma/index.js';
import type { CliAction, CliContext } from './cli-context.js';
import { EXIT } from './cli-errors.js';
import { CLI_VERSION } from './cli-program.js';

const OUTPUTS = ['table', 'json', 'ndjson', 'sarif'] as const;
type Output = (typeof OUTPUTS)[number];
/** Broken records printed one by one before only the count goes on. */
const MAX_BROKEN_SHOWN = 20;

function usage(message: string, path: string): never {
  throw new ValidationError(message, { details: [{ path, message }] });
}

const where = (e: { file: string | null; line: number | null }): string =>
  `${e.file ?? '-'}${e.line === null ? '' : `:${e.line}`}`;

function loadErrorLine(e: RuleLoadError): string {
  return `${where(e)}${e.field ? ` ${e.field}` : ''}: ${e.message}`;
}

/** The `rules check` report as text. */
export function renderCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const f of report.files) {
    for (const e of f.errors) lines.push(`error  ${loadErrorLine(e)}`);
    for (const d of f.documents) {
      const label = `${d.kind}${d.title ? ` "${d.title}"` : ''}`;
      if (d.status === 'ok') lines.push(`ok     ${where(d)}  ${label}`);
      else for (const e of d.errors) lines.push(`error  ${loadErrorLine(e)}  (${label})`);
    }
  }
  const c = report.counts;
  lines.push(
    `${c.files} files, ${c.documents} rules: ${c.ok} ok, ${c.error} with errors (${c.detections} detections, ${c.filters} filters, ${c.correlations} correlations)`,
  );
  return `${lines.join('\n')}\n`;
}

/** A progress line on a terminal's stderr, redrawn at most four times a second. */
function progress(ctx: CliContext): { tick(events: number, alerts: number): void; done(): void } {
  const tty = (ctx.io.stderr as { isTTY?: boolean }).isTTY === true;
  const started = Date.now();
  let last = 0;
  let drawn = false;
  return {
    tick(events, alerts) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      const rate = Math.round(events / Math.max(0.001, (now - started) / 1000));
      ctx.err(
        `\r\x1b[2Kkeyward detect: ${events.toLocaleString('en-US')} events, ${rate.toLocaleString('en-US')}/s, ${alerts} alerts`,
      );
      drawn = true;
    },
    done() {
      if (drawn) ctx.err('\r\x1b[2K');
    },
  };
}

function parseLevel(value: unknown, option: string): Level | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !(LEVELS as readonly string[]).includes(value)) {
    usage(`${option} must be one of ${LEVELS.join(', ')}`, option);
  }
  return value as Level;
}

/** Registers `rules check` and `detect`. */
export function registerDetectCommands(program: Command, action: CliAction): void {
  const rules = program
    .command('rules')
    .description('detection rules: Sigma rules, filters and correlations');
  rules
    .command('check')
    .description('load rule files and directories and print each rule’s status; exit 2 if any fails')
    .argument('<paths...>', 'rule files (.yml, .yaml) and directories')
    .option('--builtin', 'also load Keyward’s own rule pack (correlations may refer to its rules)')
    .action(
      action(async (ctx, paths, opts) => {
        // %placeholder% values (the expand modifier) come from the config's detect.placeholders.
        const loaded = await loadDetectionRules(paths, {
          builtin: opts.builtin === true,
          placeholders: ctx.config().detect.placeholders,
        });
        if (ctx.globals.json) ctx.json(loaded.report);
        else ctx.out(renderCheckReport(loaded.report));
        return loaded.report.ok && loaded.report.counts.documents > 0 ? EXIT.ok : EXIT.usage;
      }),
    );

  program
    .command('detect')
    .description(
      'run detection rules over event files (CloudTrail, GitHub, Kubernetes, Keyward, NDJSON) and print alerts',
    )
    .argument('<paths...>', 'event files and directories (gzip is read as such)')
    .option(
      '--rules <path>',
      'rule file or directory (repeatable); Keyward’s pack is loaded too',
      collect,
      [],
    )
    .option('--no-builtin', 'do not load Keyward’s own rule pack')
    .option(
      '--format <format>',
      `read every file as this format (${ADAPTER_NAMES.join(', ')}); default: detected`,
    )
    .option('--mapping <file>', 'field mapping file for NDJSON of another source (implies --format ndjson)')
    .option('--output <format>', `alerts as ${OUTPUTS.join(', ')}`, 'table')
    .option('--fail-on <level>', 'exit 1 when an alert is at least this level')
    .option('--lateness <ms>', 'how far behind the newest event time an event may arrive (ms)', '60000')
    .option('--store', 'also store the alerts in Keyward (keyward alerts list, the API)')
    .action(
      action(async (ctx, paths, opts) => {
        const output = String(opts.output) as Output;
        if (!(OUTPUTS as readonly string[]).includes(output))
          usage(`--output must be one of ${OUTPUTS.join(', ')}`, '--output');
        const failOn = parseLevel(opts.failOn, '--fail-on');
        const format = opts.format === undefined ? null : String(opts.format);
        if (format !== null && !isAdapterName(format))
          usage(`--format must be one of ${ADAPTER_NAMES.join(', ')}`, '--format');
        const lateness = Number(opts.lateness);
        if (!Number.isSafeInteger(lateness) || lateness < 0)
          usage('--lateness must be a whole number of milliseconds', '--lateness');
        let mapping = null;
        if (typeof opts.mapping === 'string') {
          try {
            mapping = await loadFieldMapping(opts.mapping);
          } catch (err) {
            usage(`--mapping: ${err instanceof Error ? err.message : String(err)}`, '--mapping');
          }
        }
        // A path that does not exist is a mistake, not an empty input: it must not pass a --fail-on check.
        for (const p of paths) {
          if (!existsSync(p)) usage(`cannot read ${p}: no such file or directory`, p);
        }

        const loaded: LoadedRules = await loadDetectionRules(opts.rules as string[], {
          builtin: opts.builtin !== false,
          placeholders: ctx.config().detect.placeholders,
        });
        for (const e of loaded.errors) ctx.err(`keyward: rule skipped: ${loadErrorLine(e)}\n`);
        if (loaded.detections.length === 0)
          usage('no detection rule loaded; give rules with --rules <path>', '--rules');

        const alerts: Alert[] = [];
        const detector = createDetector(loaded, {
          allowedLatenessMs: lateness,
          maxStateEntries: 1_000_000,
          onAlert: (a) => alerts.push(a),
        });
        let broken = 0;
        const onBroken = (b: BrokenRecord): void => {
          broken++;
          if (broken <= MAX_BROKEN_SHOWN) ctx.err(`keyward: skipped ${where(b)}: ${b.reason}\n`);
        };
        const stream = readEvents(paths, {
          ...(format === null ? {} : { format: format as (typeof ADAPTER_NAMES)[number] }),
          ...(mapping ? { mapping } : {}),
          onBroken,
          // CloudTrail lines no loaded rule can match are counted but not parsed (docs/detection.md).
          lineFilter: createLinePrefilter(loaded.detections, (time) => detector.passOver(time)),
        });
        const bar = progress(ctx);
        let events = 0;
        await stream.forEach((event) => {
          detector.push(event);
          if (++events % 4096 === 0) bar.tick(events, alerts.length);
        });
        detector.end();
        bar.done();
        if (broken > MAX_BROKEN_SHOWN)
          ctx.err(`keyward: … ${broken - MAX_BROKEN_SHOWN} more records skipped\n`);
        const c = stream.counters;
        ctx.err(
          `keyward detect: ${c.events} events from ${c.files} files (${c.broken} records skipped), ${loaded.detections.length + loaded.correlations.length} rules, ${alerts.length} alerts\n`,
        );

        if (opts.store === true && alerts.length > 0) {
          await ctx.withApp((app) =>
            app.store.saveAlerts(alerts, { source: 'batch', time: new Date().toISOString(), targets: [] }),
          );
        }
        if (output === 'sarif') ctx.json(toSarif(alerts, loaded.byId, { version: CLI_VERSION }));
        else if (output === 'json') ctx.json(alerts.map((a) => toOcsfFinding(a, loaded.byId.get(a.ruleId))));
        else if (output === 'ndjson') {
          for (const a of alerts) ctx.out(`${JSON.stringify(toOcsfFinding(a, loaded.byId.get(a.ruleId)))}\n`);
        } else ctx.out(alertsTable(alerts));

        if (failOn !== null) {
          const rank = LEVELS.indexOf(failOn);
          if (alerts.some((a) => LEVELS.indexOf(a.level) >= rank)) return EXIT.failed;
        }
        return EXIT.ok;
      }),
    );
}

/** Registers `alerts list`. */
export function registerAlertCommands(program: Command, action: CliAction): void {
  const alerts = program
    .command('alerts')
    .description('alerts raised by detection (keyward serve, keyward detect --store)');
  alerts
    .command('list')
    .description('list stored alerts, newest first')
    .option('--rule <id>', 'only alerts of this rule (its id)')
    .option('--level <level>', `only alerts of this level (${LEVELS.join(', ')})`)
    .option('--since <time>', 'only alerts whose window ended at or after this ISO-8601 time')
    .option('--limit <n>', 'at most this many (1–1000)', '100')
    .action(
      action(async (ctx, _args, opts) => {
        const level = parseLevel(opts.level, '--level');
        const since = typeof opts.since === 'string' ? opts.since : undefined;
        if (since !== undefined && !Number.isFinite(Date.parse(since))) {
          usage('--since must be an ISO-8601 time, e.g. 2026-11-01T00:00:00Z', '--since');
        }
        const limit = Number(opts.limit);
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000)
          usage('--limit must be a whole number from 1 to 1000', '--limit');
        const page = await ctx.withApp((app) =>
          app.store.listAlerts({
            limit,
            ...(typeof opts.rule === 'string' ? { ruleId: opts.rule } : {}),
            ...(level ? { level } : {}),
            ...(since ? { since: new Date(since).toISOString() } : {}),
          }),
        );
        if (ctx.globals.json) return ctx.json(page);
        ctx.out(alertsTable(page.items));
        if (page.total > page.items.length) {
          ctx.err(
            `keyward: showing ${page.items.length} of ${page.total} alerts (use --limit, --since or --level)\n`,
          );
        }
      }),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
