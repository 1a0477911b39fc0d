/**
 * `keyward npm scan | check | install | feed update`: the npm supply-chain gate. Analysis is static: no package
 * code runs, and `npm install` runs only after the packages it would add have been analysed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { appendEvents } from '../audit/index.js';
import {
  applySuppressions,
  checkRegistryPackages,
  createNpmAnalyseContext,
  createRegistryClient,
  analyseInstallPlan,
  flaggedPackages,
  importOsvDirectory,
  npmReportEvents,
  npmReportJson,
  npmReportToInventoryBatch,
  npmSarif,
  npmTable,
  NPM_SEVERITIES,
  parseSuppressions,
  planInstall,
  scanNpmInputsIsolated,
  suppressionsFor,
  writeFeed,
  type NpmScanReport,
  type NpmSeverity,
  type RegistryClient,
} from '../supplychain/index.js';
import type { CliContext, CliAction } from './cli-context.js';
import { EXIT } from './cli-errors.js';
import { readInputFile, REPORT_FORMATS, reportFormat, usageError } from './cli-options.js';
import { CLI_VERSION } from './cli-program.js';

function parseFailOn(o: Record<string, unknown>): NpmSeverity | 'none' {
  const raw = typeof o.failOn === 'string' ? o.failOn : 'high';
  if (raw !== 'none' && !(NPM_SEVERITIES as readonly string[]).includes(raw))
    usageError(`--fail-on must be one of ${NPM_SEVERITIES.join(', ')}, none (got "${raw}")`, '--fail-on');
  return raw as NpmSeverity | 'none';
}

function dataDir(ctx: CliContext): string {
  return ctx.config().dataDir;
}

function registryFor(ctx: CliContext): RegistryClient {
  return createRegistryClient({
    cwd: process.cwd(),
    home: ctx.io.env.HOME ?? homedir(),
    env: ctx.io.env,
  });
}

function readSuppressions(file: string): ReturnType<typeof parseSuppressions> {
  const text = readInputFile(
    file,
    '--suppressions',
    'suppressions file',
    `create it with --write-suppressions ${file} --reason "<why>"`,
  );
  return parseSuppressions(text, file);
}

/** Records the run in the event log and the inventory; returns a one-line summary. */
async function record(ctx: CliContext, report: NpmScanReport, command: string): Promise<string> {
  return ctx.withApp(async (app) => {
    const now = app.clock.now().toISOString();
    const actor = ctx.io.env.USER ?? 'cli';
    const batch = npmReportToInventoryBatch(report, now);
    const result = await app.inventory.importBatch(batch, actor, {
      kind: 'npm-gate',
      command,
      packages: report.stats.packages,
    });
    const events = npmReportEvents(report, { actor, now, command });
    await appendEvents(app.store, events);
    return `recorded ${batch.resources.length} package(s) in the inventory (${result.changes.resources.created} new) and ${events.length} event(s)`;
  });
}

/** Prints the report in the chosen format, records it when asked, and returns the exit code. */
async function finish(
  ctx: CliContext,
  reportIn: NpmScanReport,
  o: Record<string, unknown>,
  command: string,
): Promise<number> {
  const format = reportFormat(ctx.globals.json, o.format);
  const failOn = parseFailOn(o);
  let report = reportIn;
  if (typeof o.suppressions === 'string')
    report = applySuppressions(report, readSuppressions(o.suppressions));

  if (typeof o.writeSuppressions === 'string') {
    if (typeof o.reason !== 'string' || o.reason.trim() === '')
      usageError('--write-suppressions needs --reason "<why these findings are accepted>"', '--reason');
    const file = o.writeSuppressions;
    const previous = existsSync(file) ? readSuppressions(file) : undefined;
    const next = suppressionsFor(report, failOn === 'none' ? 'low' : failOn, o.reason, previous);
    mkdirSync(dirname(resolve(file)), { recursive: true });
    writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
    ctx.err(`keyward: wrote ${next.suppressions.length} suppression(s) to ${file}\n`);
    return EXIT.ok;
  }

  const text =
    format === 'json'
      ? `${JSON.stringify(npmReportJson(report), null, 2)}\n`
      : format === 'sarif'
        ? `${JSON.stringify(npmSarif(report, CLI_VERSION), null, 2)}\n`
        : npmTable(report, { showInfo: o.showInfo === true });
  if (typeof o.output === 'string') {
    writeFileSync(o.output, text);
    if (format !== 'table') ctx.err(npmTable(report));
  } else ctx.out(text);
  if (o.record === true) ctx.err(`keyward: ${await record(ctx, report, command)}\n`);

  if (failOn !== 'none' && flaggedPackages(report, failOn).length > 0) return EXIT.failed;
  // An input that could not be analysed fails the gate: it was not shown to be safe.
  if (failOn !== 'none' && report.errors.length > 0) return EXIT.failed;
  return EXIT.ok;
}

async function runScan(ctx: CliContext, paths: string[], o: Record<string, unknown>): Promise<number> {
  const targets = paths.length > 0 ? paths : ['.'];
  const home = ctx.io.env.HOME ?? homedir();
  const report = await scanNpmInputsIsolated(
    {
      paths: targets,
      cwd: process.cwd(),
      dataDir: dataDir(ctx),
      fetch: o.fetch === true,
      home,
      env: { ...ctx.io.env },
    },
    () => ({
      ctx: createNpmAnalyseContext({ dataDir: dataDir(ctx) }),
      fetch: o.fetch === true,
      ...(o.fetch === true ? { registry: registryFor(ctx) } : {}),
      cwd: process.cwd(),
    }),
  );
  return finish(ctx, report, o, 'npm scan');
}

async function runCheck(ctx: CliContext, specs: string[], o: Record<string, unknown>): Promise<number> {
  if (specs.length === 0)
    usageError('name at least one package: keyward npm check lodash@4.17.21', 'packages');
  const report = await checkRegistryPackages(
    specs,
    registryFor(ctx),
    createNpmAnalyseContext({ dataDir: dataDir(ctx) }),
  );
  return finish(ctx, report, o, 'npm check');
}

function runNpm(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', args, { stdio: 'inherit', env });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
  });
}

async function runInstall(ctx: CliContext, args: string[], o: Record<string, unknown>): Promise<number> {
  const failOn = parseFailOn(o);
  ctx.err('keyward: resolving the install in a temporary copy (no scripts run)…\n');
  const plan = await planInstall(args, { cwd: process.cwd(), env: ctx.io.env });
  ctx.err(`keyward: the install adds or changes ${plan.changed.length} package(s); analysing them…\n`);
  const decision = await analyseInstallPlan(plan, {
    registry: registryFor(ctx),
    ctx: createNpmAnalyseContext({ dataDir: dataDir(ctx) }),
  });
  let report = decision.report;
  if (typeof o.suppressions === 'string')
    report = applySuppressions(report, readSuppressions(o.suppressions));
  const blocking = failOn === 'none' ? [] : flaggedPackages(report, failOn);
  ctx.err(npmTable(report));
  for (const u of decision.unverified) ctx.err(`UNVERIFIED ${u.package}: ${u.reason}\n`);
  if (o.record === true) ctx.err(`keyward: ${await record(ctx, report, 'npm install')}\n`);
  if (blocking.length > 0) {
    ctx.err(
      `keyward: refusing to install: ${blocking.map((b) => `${b.name}@${b.version} (${b.level}, ${b.score}/10)`).join(', ')}\n`,
    );
    return EXIT.failed;
  }
  if (decision.unverified.length > 0 && o.allowUnverified !== true) {
    ctx.err(
      `keyward: refusing to install: ${decision.unverified.length} package(s) could not be analysed; ` +
        'fix the cause or pass --allow-unverified to install them unanalysed\n',
    );
    return EXIT.failed;
  }
  if (o.dryRun === true) {
    ctx.err('keyward: analysis passed; --dry-run, so nothing was installed\n');
    return EXIT.ok;
  }
  ctx.err(`keyward: analysis passed; running npm install ${args.join(' ')}\n`);
  return runNpm(['install', ...args], ctx.io.env);
}

async function runFeedUpdate(ctx: CliContext, args: string[]): Promise<number> {
  const dir = args[0];
  if (!dir) usageError('name the directory of OSV records: keyward npm feed update <dir>', 'dir');
  const { feed, imported, skipped } = importOsvDirectory(dir);
  const target = join(dataDir(ctx), 'npm-feed.json');
  mkdirSync(dirname(target), { recursive: true });
  writeFeed(feed, target);
  for (const s of skipped) ctx.err(`skipped ${s.file}: ${s.reason}\n`);
  ctx.out(
    `imported ${imported} MAL- record(s) into ${target}${skipped.length ? `; skipped ${skipped.length} file(s)` : ''}\n`,
  );
  return EXIT.ok;
}

function outputOptions(cmd: Command): Command {
  return cmd
    .option('--format <format>', `output: ${REPORT_FORMATS.join(', ')} (default table; --json means json)`)
    .option('--output <file>', 'write the report to a file (a summary still goes to stderr)')
    .option(
      '--fail-on <level>',
      `exit 1 when a package is at or above: ${NPM_SEVERITIES.join(', ')}, none`,
      'high',
    )
    .option(
      '--suppressions <file>',
      'accept the findings this file lists (pinned to package@version and file hash)',
    )
    .option(
      '--write-suppressions <file>',
      'accept every current finding at or above --fail-on: write them and exit 0',
    )
    .option('--reason <text>', 'why the findings --write-suppressions accepts are acceptable')
    .option('--show-info', 'list capabilities (informational findings) in the table too')
    .option('--record', 'record the scanned packages in the inventory and the findings in the event log');
}

/** Registers `npm scan`, `npm check`, `npm install` and `npm feed update`. */
export function registerNpmCommands(program: Command, action: CliAction): void {
  const npm = program
    .command('npm')
    .description('npm supply-chain gate: find malicious packages before they run');
  outputOptions(
    npm
      .command('scan')
      .description('analyse lockfiles, node_modules trees, package directories and .tgz tarballs')
      .argument('[paths...]', 'what to analyse (default .)')
      .option(
        '--fetch',
        "for lockfiles: fetch each package's tarball from the registry and analyse its code",
      ),
  ).action(action((ctx, args, opts) => runScan(ctx, args, opts)));
  outputOptions(
    npm
      .command('check')
      .description('fetch packages from the configured registry and analyse them without installing')
      .argument('<packages...>', 'name@version (a range or tag is resolved)'),
  ).action(action((ctx, args, opts) => runCheck(ctx, args, opts)));
  npm
    .command('install')
    .description('analyse what an npm install would add, then install only if nothing is flagged')
    .argument('[args...]', 'arguments for npm install (put npm options after --)')
    .option(
      '--fail-on <level>',
      `refuse when a package is at or above: ${NPM_SEVERITIES.join(', ')}, none`,
      'high',
    )
    .option('--allow-unverified', 'install even when some packages could not be analysed')
    .option('--dry-run', 'analyse only; do not install')
    .option('--suppressions <file>', 'accept the findings this file lists')
    .option('--record', 'record the analysed packages in the inventory and the findings in the event log')
    .action(action((ctx, args, opts) => runInstall(ctx, args, opts)));
  const feed = npm.command('feed').description('the offline feed of known-malicious package versions');
  feed
    .command('update')
    .description('import OSV MAL- records (a directory of OSV JSON files) into the local feed')
    .argument(
      '<dir>',
      'directory of OSV records, such as a checkout of ossf/malicious-packages osv/malicious/npm',
    )
    .action(action((ctx, args) => runFeedUpdate(ctx, args)));
}
