/**
 * `keyward scan` (the secret scanner over files, git history, staged changes, stdin or the environment) and
 * `keyward hooks install` (a pre-commit hook that scans staged changes).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
// Straight from the modules rather than the secrets index: the baseline module (and its schema library) is
// loaded only when a baseline is read or written, which keeps it out of a plain scan's start-up.
import { BUILTIN_SECRET_RULES } from '../secrets/rules/index.js';
import { createSecretScanService, type ScanReport } from '../secrets/secret-scan-service.js';
import { ephemeralFingerprintKey } from '../secrets/secret-fingerprint.js';
import { findingsTable, scanEvidence, scanReportJson, toSarif } from '../secrets/secret-output.js';
import { findingsToInventoryBatch } from '../secrets/secret-record.js';
import { SECRET_SEVERITIES, type SecretSeverity } from '../secrets/secret-types.js';
import type { Baseline } from '../secrets/secret-baseline.js';
import type { CliAction, CliContext } from './cli-context.js';
import { EXIT } from './cli-errors.js';
import { readInputFile, REPORT_FORMATS, reportFormat, usageError } from './cli-options.js';
import { CLI_VERSION } from './cli-version.js';

/** Parses `10MB`, `512k`, `1048576` into bytes. */
export function parseByteSize(value: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(value.trim());
  if (!m) usageError(`${option} must be a size such as 5MB, 512KB or 1048576 (got "${value}")`, option);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.floor(Number(m[1]) * mult);
  if (bytes < 1) usageError(`${option} must be at least 1 byte`, option);
  return bytes;
}

function parseWorkers(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 64)
    usageError(`--workers must be an integer from 0 to 64 (got "${String(value)}")`, '--workers');
  return n;
}

function severityRank(s: SecretSeverity): number {
  return SECRET_SEVERITIES.indexOf(s);
}

async function readBaseline(file: string): Promise<Baseline> {
  const text = readInputFile(file, '--baseline', 'baseline', `create it with --write-baseline ${file}`);
  const { parseBaseline } = await import('../secrets/secret-baseline.js');
  return parseBaseline(text, file);
}

async function readAllStdin(ctx: CliContext): Promise<string> {
  if (!ctx.io.readStdin) usageError('this process has no standard input to read', '--stdin');
  return ctx.io.readStdin();
}

/** What a scan read, for the record: the paths, the repository, stdin or the environment. */
function scanTarget(paths: string[], o: Record<string, unknown>): string {
  if (o.git !== undefined) return `git ${paths[0] ?? '.'}${typeof o.git === 'string' ? ` ${o.git}` : ''}`;
  if (o.staged === true) return `staged changes in ${paths[0] ?? '.'}`;
  if (o.stdin === true || paths.includes('-')) return 'stdin';
  if (o.env === true) return 'environment';
  return paths.length > 0 ? paths.join(' ') : '.';
}

async function runScan(ctx: CliContext, paths: string[], o: Record<string, unknown>): Promise<number> {
  const format = reportFormat(ctx.globals.json, o.format);
  const failOnRaw = (o.failOn as string | undefined) ?? 'low';
  if (failOnRaw !== 'none' && !(SECRET_SEVERITIES as readonly string[]).includes(failOnRaw))
    usageError(
      `--fail-on must be one of ${SECRET_SEVERITIES.join(', ')}, none (got "${failOnRaw}")`,
      '--fail-on',
    );
  const stdin = o.stdin === true || paths.includes('-');
  const sources = [o.git !== undefined, o.staged === true, stdin, o.env === true];
  if (sources.filter(Boolean).length > 1)
    usageError('choose one of --git, --staged, --stdin and --env', 'scan');
  if (o.git !== undefined || o.staged === true) {
    if (paths.length > 1) usageError('--git and --staged take one repository directory', 'scan');
  } else if ((stdin && paths.some((p) => p !== '-')) || (o.env === true && paths.length > 0)) {
    usageError('paths cannot be combined with --stdin or --env', 'scan');
  }
  const workers = parseWorkers(o.workers);
  const maxFileBytes =
    o.maxFileSize === undefined ? undefined : parseByteSize(String(o.maxFileSize), '--max-file-size');
  const baseline = typeof o.baseline === 'string' ? await readBaseline(o.baseline) : undefined;

  const scan = async (fingerprintKey: Buffer): Promise<ScanReport> => {
    const service = createSecretScanService({ fingerprintKey });
    if (o.git !== undefined)
      return service.scanGit(resolve(paths[0] ?? '.'), o.git === true ? undefined : String(o.git));
    if (o.staged === true) return service.scanStaged(resolve(paths[0] ?? '.'));
    if (stdin) return service.scanText(await readAllStdin(ctx), '-');
    if (o.env === true) return service.scanEnv(ctx.io.env);
    const roots = paths.length > 0 ? paths : ['.'];
    const reports: ScanReport[] = [];
    for (const root of roots) {
      if (!existsSync(root)) usageError(`${root} does not exist`, 'path');
      reports.push(
        await service.scanPath(root, {
          displayPrefix: displayPrefix(root),
          ...(maxFileBytes === undefined ? {} : { maxFileBytes }),
          ...(workers === undefined ? {} : { workers }),
          exclude: ((o.exclude as string[] | undefined) ?? []).map(String),
        }),
      );
    }
    return mergeReports(reports);
  };

  let report: ScanReport;
  let recorded: string | null = null;
  if (o.record === true) {
    report = await ctx.withApp(async (app) => {
      const r = await scan(app.fingerprintKey);
      const { batch, identitiesCreated } = await findingsToInventoryBatch(r.findings, {
        existingCredential: async (fingerprint) => {
          const page = await app.store.listCredentials({ fingerprint, limit: 1 });
          const c = page.items[0];
          if (!c) return null;
          const identity = await app.store.getIdentity(c.identityId);
          return identity ? { provider: identity.provider, externalId: identity.externalId } : null;
        },
        now: app.clock.now().toISOString(),
        // Git findings name paths in the repository; file findings paths relative to the working directory.
        scanRoot: o.git !== undefined || o.staged === true ? resolve(paths[0] ?? '.') : process.cwd(),
      });
      const result = await app.inventory.importBatch(batch, ctx.io.env.USER ?? 'cli', {
        kind: 'secret-scan',
        findings: r.findings.length,
        target: scanTarget(paths, o),
        ...scanEvidence(r.findings),
      });
      recorded = `recorded ${batch.credentials.length} credential(s) in the inventory (${result.changes.credentials.created} new, ${identitiesCreated} new identities of unknown owner); ${result.findings.open} open posture findings`;
      return r;
    });
  } else {
    report = await scan(ephemeralFingerprintKey());
  }

  if (typeof o.writeBaseline === 'string') {
    const previous = existsSync(o.writeBaseline) ? await readBaseline(o.writeBaseline) : undefined;
    const { createBaseline } = await import('../secrets/secret-baseline.js');
    const next = createBaseline(report.findings, ctx.io.now(), previous);
    mkdirSync(dirname(resolve(o.writeBaseline)), { recursive: true });
    writeFileSync(o.writeBaseline, `${JSON.stringify(next, null, 2)}\n`);
    ctx.err(`keyward: wrote ${next.entries.length} accepted finding(s) to ${o.writeBaseline}\n`);
    return EXIT.ok;
  }

  let accepted = 0;
  if (baseline) {
    const { applyBaseline } = await import('../secrets/secret-baseline.js');
    const split = applyBaseline(report.findings, baseline);
    accepted = split.accepted.length;
    report = { ...report, findings: split.fresh };
  }

  let text: string;
  if (format === 'json')
    text = `${JSON.stringify(scanReportJson(report, { baselineAccepted: accepted }), null, 2)}\n`;
  else if (format === 'sarif')
    text = `${JSON.stringify(toSarif(report, BUILTIN_SECRET_RULES, CLI_VERSION), null, 2)}\n`;
  else text = findingsTable(report, { baselineAccepted: accepted });
  if (typeof o.output === 'string') {
    writeFileSync(o.output, text);
    if (format !== 'table') ctx.err(findingsTable(report, { baselineAccepted: accepted }));
  } else ctx.out(text);
  if (recorded) ctx.err(`keyward: ${recorded}\n`);

  if (failOnRaw === 'none') return EXIT.ok;
  const floor = severityRank(failOnRaw as SecretSeverity);
  return report.findings.some((f) => severityRank(f.severity) >= floor) ? EXIT.failed : EXIT.ok;
}

/**
 * Where a scanned root is, as findings name it: relative to the working directory when inside it (`src`, or
 * nothing for `.`), else absolute; for a single file, its directory.
 */
export function displayPrefix(root: string, cwd = process.cwd()): string {
  const abs = resolve(cwd, root);
  const dir = statSync(abs).isDirectory() ? abs : dirname(abs);
  const rel = relative(cwd, dir);
  const shown = rel === '' ? '' : rel.startsWith('..') || isAbsolute(rel) ? dir : rel;
  return shown.split(sep).join('/');
}

/** Joins the reports of several roots. */
function mergeReports(reports: ScanReport[]): ScanReport {
  if (reports.length === 1) return reports[0]!;
  const first = reports[0]!;
  const merged: ScanReport = {
    findings: reports.flatMap((r) => r.findings),
    allowed: reports.flatMap((r) => r.allowed),
    errors: reports.flatMap((r) => r.errors),
    stats: { ...first.stats, skipped: { ...first.stats.skipped } },
  };
  for (const r of reports.slice(1)) {
    merged.stats.files += r.stats.files;
    merged.stats.bytes += r.stats.bytes;
    merged.stats.allowed += r.stats.allowed;
    merged.stats.durationMs += r.stats.durationMs;
    merged.stats.workers = Math.max(merged.stats.workers, r.stats.workers);
    for (const k of Object.keys(merged.stats.skipped) as Array<keyof ScanReport['stats']['skipped']>)
      merged.stats.skipped[k] += r.stats.skipped[k];
  }
  return merged;
}

const HOOK_MARK = '# keyward pre-commit hook';

/** The pre-commit hook script `keyward hooks install` writes. */
export function preCommitHook(command: string): string {
  return `#!/bin/sh
${HOOK_MARK}: scans the staged changes for credentials and stops the commit when it finds one.
# Accept a finding with a "keyward:allow <reason>" comment on its line, or bypass once with git commit --no-verify.
exec ${command} scan --staged --fail-on low
`;
}

function installHook(ctx: CliContext, o: Record<string, unknown>): number {
  let hooksDir: string;
  try {
    hooksDir = execFileSync('git', ['rev-parse', '--git-path', 'hooks'], { encoding: 'utf8' }).trim();
  } catch {
    usageError(
      'not inside a git repository (git rev-parse failed); run keyward hooks install from your repository',
      'hooks install',
    );
  }
  const hook = join(resolve(hooksDir), 'pre-commit');
  if (existsSync(hook) && !readFileSync(hook, 'utf8').includes(HOOK_MARK) && o.force !== true) {
    usageError(
      `${hook} already exists and is not Keyward's; add "keyward scan --staged" to it, or use --force to replace it`,
      'hooks install',
    );
  }
  mkdirSync(dirname(hook), { recursive: true });
  writeFileSync(hook, preCommitHook(typeof o.command === 'string' ? o.command : 'npx --no-install keyward'));
  chmodSync(hook, 0o755);
  ctx.out(`installed ${hook}\n`);
  return EXIT.ok;
}

/** Registers `scan` and `hooks install`. */
export function registerSecretsCommands(program: Command, action: CliAction): void {
  program
    .command('scan')
    .description('find credentials in files, git history, staged changes, stdin or the environment')
    .argument(
      '[paths...]',
      'files or directories to scan (default .), or - for stdin; with --git/--staged the repository',
    )
    .option('--git [range]', 'scan the lines each commit added (all history, or a range such as main..HEAD)')
    .option('--staged', 'scan the changes staged for commit (pre-commit hook)')
    .option('--stdin', 'scan standard input')
    .option('--env', "scan this process's environment variables")
    .option('--format <format>', `output: ${REPORT_FORMATS.join(', ')} (default table; --json means json)`)
    .option('--output <file>', 'write the report to a file (a summary still goes to stderr)')
    .option(
      '--fail-on <severity>',
      `exit 1 when a finding is at or above: ${SECRET_SEVERITIES.join(', ')}, none`,
      'low',
    )
    .option('--baseline <file>', 'report only findings the baseline does not accept')
    .option(
      '--write-baseline <file>',
      'accept every current finding: write them to a baseline file and exit 0',
    )
    .option(
      '--exclude <pattern...>',
      'gitignore-style patterns to leave out (besides .gitignore and .keywardignore)',
    )
    .option(
      '--max-file-size <size>',
      'skip files larger than this (default 1GB; files over 32 MiB are read in pieces)',
    )
    .option('--workers <n>', 'worker threads for large trees (default: one per core; 0: none)')
    .option('--record', 'store every credential and where it was found in the inventory (by fingerprint)')
    .action(action((ctx, args, opts) => runScan(ctx, args, opts)));

  const hooks = program.command('hooks').description('git hooks');
  hooks
    .command('install')
    .description('write a pre-commit hook that runs keyward scan --staged')
    .option('--command <cmd>', 'how the hook runs keyward (default: npx --no-install keyward)')
    .option('--force', "replace an existing pre-commit hook that is not Keyward's")
    .action(action(async (ctx, _args, opts) => installHook(ctx, opts)));
}
