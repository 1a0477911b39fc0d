/** Inventory commands: import, identities, identity, findings, graph, demo load. Parse → call the service → render. */
import { readFileSync, statSync } from 'node:fs';
import { Argument, Option, type Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import { FINDING_STATUSES, IDENTITY_KINDS, OWASP_NHI_IDS, SEVERITIES, severityRank } from '../core/types.js';
import type { Finding, FindingStatus, IdentityKind, OwaspNhiId, Severity } from '../core/types.js';
import { detectImporterKind, IMPORTER_KINDS, type ImporterKind } from '../inventory/index.js';
import type { App } from '../app/app.js';
import type { FindingFilter } from '../store/index.js';
import { EXIT } from './cli-errors.js';
import { parseIntOption, parseNonEmpty } from './cli-options.js';
import type { CliAction } from './cli-context.js';
import {
  renderDemoSummary,
  renderFindings,
  renderIdentities,
  renderIdentityDetail,
  renderImportSummary,
  renderPageFooter,
  renderTree,
  graphToTree,
  type NamedFinding,
} from './cli-render.js';

/** Reads an import file, turning file-system failures into one clear line naming the file. */
export function readImportFile(file: string, maxBytes: number): Buffer {
  const fail = (why: string): never => {
    throw new ValidationError(`cannot read ${file}: ${why}`, { code: 'KW_INVALID_IMPORT' });
  };
  let size = 0;
  try {
    const st = statSync(file);
    if (st.isDirectory()) fail('it is a directory, not a file');
    size = st.size;
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    fail(fsReason(err));
  }
  if (size > maxBytes) {
    fail(
      `the file is ${(size / 1_048_576).toFixed(1)} MiB, over the import limit of ${(maxBytes / 1_048_576).toFixed(0)} MiB (maxImportBytes)`,
    );
  }
  try {
    return readFileSync(file);
  } catch (err) {
    return fail(fsReason(err));
  }
}

/** A short reason for a file-system error. */
function fsReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EISDIR':
      return 'it is a directory, not a file';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** Every finding matching a filter, across pages. */
async function allFindings(app: App, filter: FindingFilter): Promise<Finding[]> {
  const items: Finding[] = [];
  for (;;) {
    const page = await app.store.listFindings({ ...filter, limit: 1000, offset: items.length });
    items.push(...page.items);
    if (page.items.length === 0 || items.length >= page.total) return items;
  }
}

/** Adds the name of each finding's identity. */
async function nameFindings(app: App, findings: Finding[]): Promise<NamedFinding[]> {
  const names = new Map<string, string | null>();
  for (const id of new Set(findings.map((f) => f.identityId))) {
    names.set(id, (await app.store.getIdentity(id))?.name ?? null);
  }
  return findings.map((f) => ({ ...f, identityName: names.get(f.identityId) ?? null }));
}

/** Registers the inventory commands on the program. */
export function registerInventoryCommands(program: Command, action: CliAction): void {
  program
    .command('import')
    .description('import an export file into the inventory and refresh the findings')
    .addArgument(
      new Argument('<kind>', `what the file is: ${IMPORTER_KINDS.join(', ')}, or auto to detect it`).choices([
        ...IMPORTER_KINDS,
        'auto',
      ]),
    )
    .argument('<file>', 'path of the export file')
    .option('--cluster <name>', 'kubernetes: the cluster the export came from (keeps clusters apart)')
    .action(
      action(async (ctx, [kindArg, file], o) => {
        const config = ctx.config();
        const content = readImportFile(file!, config.maxImportBytes);
        const kind = resolveImportKind(kindArg!, file!, content);
        const options = typeof o.cluster === 'string' ? { cluster: o.cluster } : undefined;
        const result = await ctx.withApp((app) =>
          app.inventory.importFile({ kind, fileName: file!, content, actor: 'cli', options }),
        );
        if (ctx.globals.json) ctx.json(result);
        else ctx.out(renderImportSummary(result, ctx.render));
      }),
    );

  program
    .command('identities')
    .description('list machine identities')
    .addOption(new Option('--kind <kind>', 'only this kind').choices(IDENTITY_KINDS))
    .option(
      '--provider <provider>',
      'only this provider (aws, kubernetes, github, mcp, dotenv, …)',
      parseNonEmpty,
    )
    .option('--env <environment>', 'only this environment', parseNonEmpty)
    .option('--owner <owner>', 'only identities owned by this person (case-insensitive)', parseNonEmpty)
    .option('--q <text>', 'name or external id contains this text', parseNonEmpty)
    .addOption(
      new Option('--sort <order>', 'name, or risk (highest first)').choices(['name', 'risk']).default('name'),
    )
    .option('--limit <n>', 'at most this many (1–1000)', parseIntOption(1, 1000), 100)
    .option('--offset <n>', 'skip this many', parseIntOption(0, Number.MAX_SAFE_INTEGER), 0)
    .action(
      action(async (ctx, _args, o) => {
        const page = await ctx.withApp((app) =>
          app.store.listIdentities({
            kind: o.kind as IdentityKind | undefined,
            provider: o.provider as string | undefined,
            environment: o.env as string | undefined,
            owner: o.owner as string | undefined,
            q: o.q as string | undefined,
            sort: o.sort as 'name' | 'risk',
            limit: o.limit as number,
            offset: o.offset as number,
          }),
        );
        if (ctx.globals.json) return ctx.json(page);
        ctx.out(renderIdentities(page, ctx.render));
        ctx.err(renderPageFooter(page, 'identities'));
      }),
    );

  program
    .command('identity')
    .description('show one identity: credentials, grants, findings and risk factors')
    .argument('<id-or-name>', 'the identity id (idn_…) or its exact name')
    .action(
      action(async (ctx, [ref]) => {
        const detail = await ctx.withApp((app) => app.inventory.getIdentityDetail(ref!));
        if (ctx.globals.json) ctx.json(detail);
        else ctx.out(renderIdentityDetail(detail, ctx.render));
      }),
    );

  program
    .command('findings')
    .description('list posture findings (OWASP NHI Top 10)')
    .addOption(new Option('--severity <min>', 'only findings at or above this severity').choices(SEVERITIES))
    .addOption(new Option('--owasp <id>', 'only this OWASP NHI Top 10 id').choices(OWASP_NHI_IDS))
    .option('--identity <id-or-name>', 'only findings of this identity', parseNonEmpty)
    .addOption(
      new Option('--status <status>', 'open (default), accepted, resolved, or all')
        .choices([...FINDING_STATUSES, 'all'])
        .default('open'),
    )
    .addOption(
      new Option(
        '--fail-on <severity>',
        'exit 1 when any listed finding is at or above this severity',
      ).choices(SEVERITIES),
    )
    .option('--refresh', 're-evaluate the posture rules before listing')
    .action(
      action(async (ctx, _args, o) => {
        const findings = await ctx.withApp(async (app) => {
          if (o.refresh === true) await app.inventory.refreshFindings();
          const identityId =
            typeof o.identity === 'string' ? (await app.inventory.resolveIdentity(o.identity)).id : undefined;
          const filter: FindingFilter = {};
          if (o.severity) filter.minSeverity = o.severity as Severity;
          if (o.owasp) filter.owasp = o.owasp as OwaspNhiId;
          if (identityId) filter.identityId = identityId;
          if (o.status !== 'all') filter.status = o.status as FindingStatus;
          return nameFindings(app, await allFindings(app, filter));
        });
        if (ctx.globals.json) ctx.json({ items: findings, total: findings.length });
        else ctx.out(renderFindings(findings, ctx.render));
        const failOn = o.failOn as Severity | undefined;
        if (failOn) {
          const failing = findings.filter((f) => severityRank(f.severity) >= severityRank(failOn)).length;
          if (failing > 0) {
            ctx.err(
              `keyward: ${failing} finding${failing === 1 ? '' : 's'} at or above ${failOn} (--fail-on ${failOn})\n`,
            );
            return EXIT.failed;
          }
        }
        return EXIT.ok;
      }),
    );

  program
    .command('graph')
    .description('show what an identity holds and can reach: credentials, grants, resources')
    .argument('<identity>', 'the identity id (idn_…) or its exact name')
    .action(
      action(async (ctx, [ref]) => {
        const graph = await ctx.withApp((app) => app.inventory.graph(ref!));
        if (ctx.globals.json) ctx.json(graph);
        else ctx.out(renderTree(graphToTree(graph), ctx.render));
      }),
    );

  const demo = program.command('demo').description('the demo data set');
  demo
    .command('load')
    .description('load the fictional demo company into the store (loading twice changes nothing)')
    .action(
      action(async (ctx) => {
        const result = await ctx.withApp((app) => app.inventory.loadDemo('cli'));
        if (ctx.globals.json) ctx.json(result);
        else ctx.out(renderDemoSummary(result, ctx.render));
      }),
    );
}

/** The importer kind to use: the one given, or for `auto` the one detected from the file's name and content. */
function resolveImportKind(kind: string, file: string, content: Buffer): ImporterKind {
  if (kind !== 'auto') return kind as ImporterKind;
  const detected = detectImporterKind(file, content);
  if (detected) return detected;
  throw new ValidationError(
    `cannot tell what kind of export ${file} is; name the kind: keyward import <${IMPORTER_KINDS.join('|')}> ${file}`,
    { code: 'KW_INVALID_IMPORT' },
  );
}
