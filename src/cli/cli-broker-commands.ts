/** Credential broker commands: agent types, agents, issuers, upstreams, approvals, revoke, explain, rightsize. */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import {
  APPROVAL_STATUSES,
  type ApprovalStatus,
  type FederatedBinding,
  type RevocationKind,
} from '../core/broker-types.js';
import {
  MAX_POLICY_CHARS,
  computeRightsizing,
  loadRightsizingInput,
  parseWindow,
  renderRightsizingText,
  validateClientJwks,
  windowEndingAt,
} from '../broker/index.js';
import type { CliAction, CliContext } from './cli-context.js';
import { EXIT } from './cli-errors.js';
import { parseNonEmpty } from './cli-options.js';
import {
  renderAgentTypes,
  renderAgents,
  renderApprovals,
  renderUpstreams,
  savedVerb,
} from './cli-broker-render.js';

/** Largest JWKS or secret file the commands read. */
const MAX_SMALL_FILE = 1024 * 1024;

/**
 * Reads a file the user named (a policy, a JWKS, a credential), turning file-system failures into one line that
 * names the file; files over `maxBytes` are refused before they are read.
 */
export function readInputFile(file: string, maxBytes: number): string {
  const fail = (why: string): never => usage(`cannot read ${file}: ${why}`, file, why);
  try {
    const st = statSync(file);
    if (st.isDirectory()) return fail('it is a directory, not a file');
    if (st.size > maxBytes) return fail(`the file is ${st.size} bytes, over the limit of ${maxBytes} bytes`);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    const code = (err as { code?: unknown }).code;
    return fail(
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : err instanceof Error
            ? err.message
            : String(err),
    );
  }
}

/** Collects a repeatable option into a list. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Who the change is recorded as: `cli:$USER`. */
function cliActor(ctx: CliContext): string {
  const user = ctx.io.env.USER ?? ctx.io.env.USERNAME;
  return `cli:${user !== undefined && user !== '' ? user : 'unknown'}`;
}

/** Listings show up to this many records. */
const LIST_LIMIT = 1000;

/** Says on stderr when a listing holds fewer records than match (more than LIST_LIMIT). */
function noteTruncated(ctx: CliContext, page: { items: unknown[]; total: number }, noun: string): void {
  if (page.total > page.items.length) {
    ctx.err(`keyward: showing the first ${page.items.length} of ${page.total} ${noun}\n`);
  }
}

/** Throws the CLI's usage error naming an option. */
function usage(message: string, path: string, detail = message): never {
  throw new ValidationError(message, { details: [{ path, message: detail }] });
}

/** Reads a JSON file (a JWKS), naming the file when it is not JSON. */
export function readJsonFile(file: string): unknown {
  const text = readInputFile(file, MAX_SMALL_FILE);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    return usage(`${file}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`, file);
  }
}

/** Parses `--claim key=value` flags into a claims object. */
export function parseClaims(values: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) usage(`--claim: '${v}' is not key=value (e.g. --claim repository_owner=acme)`, '--claim');
    claims[v.slice(0, i)] = v.slice(i + 1);
  }
  return claims;
}

/** One `--route "<scope> <METHODS> <path-glob>"` as an upstream route; methods are comma-separated. */
export function parseRoute(text: string): { scope: string; methods: string[]; paths: string[] } {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    usage(
      `--route: '${text}' must be "<scope> <METHODS> <path-glob>", e.g. --route "tickets:read GET,HEAD /tickets/*"`,
      '--route',
    );
  }
  const [scope, methods, path] = parts as [string, string, string];
  return { scope, methods: methods.split(',').filter((m) => m !== ''), paths: [path] };
}

/** Reads an upstream credential from an environment variable or a file, never from a flag value. */
function readUpstreamSecret(ctx: CliContext, opts: Record<string, unknown>): string {
  const env = typeof opts.secretEnv === 'string' ? opts.secretEnv : undefined;
  const file = typeof opts.secretFile === 'string' ? opts.secretFile : undefined;
  if ((env === undefined) === (file === undefined)) {
    usage(
      'give the credential with exactly one of --secret-env <VAR> and --secret-file <file>',
      '--secret-env',
    );
  }
  if (env !== undefined) {
    const value = ctx.io.env[env];
    if (value === undefined || value === '')
      usage(`--secret-env: the variable ${env} is not set or empty`, '--secret-env');
    return value;
  }
  // A file written by `echo` ends with a line break; it is not part of the credential.
  return readInputFile(file!, MAX_SMALL_FILE).replace(/\r?\n$/, '');
}

/** Parses `--at`: an ISO time. */
function parseTime(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('Expected a time such as 2026-01-01T10:00:00Z.');
  return new Date(ms).toISOString();
}

/** Registers the broker command groups on the program. */
export function registerBrokerCommands(program: Command, action: CliAction): void {
  // --- agent types ---------------------------------------------------------------------------------------
  const agentTypes = program.command('agent-types').description('agent types and their access policies');
  agentTypes
    .command('apply')
    .description('validate a policy file (YAML or JSON) and store it as its agent type’s policy')
    .argument('<policy>', 'the policy file')
    .action(
      action(async (ctx, [file]) => {
        const text = readInputFile(file!, MAX_POLICY_CHARS * 4);
        const saved = await ctx.withApp((app) =>
          app.broker.applyAgentType({ fileName: file!, text }, cliActor(ctx)),
        );
        const t = saved.agentType;
        const verb = savedVerb(saved);
        if (ctx.globals.json) {
          return ctx.json({ result: verb, agentType: t });
        }
        ctx.out(`${verb} agent type ${t.name} (policy version ${t.policyVersion})\n`);
      }),
    );
  agentTypes
    .command('list')
    .description('list agent types with their owner and policy version')
    .action(
      action(async (ctx) => {
        const page = await ctx.withApp((app) => app.broker.listAgentTypes({ limit: LIST_LIMIT }));
        noteTruncated(ctx, page, 'agent types');
        if (ctx.globals.json) return ctx.json(page);
        ctx.out(renderAgentTypes(page.items, ctx.render));
      }),
    );

  // --- agents ----------------------------------------------------------------------------------------------
  const agents = program.command('agents').description('agents: the OAuth clients of an agent type');
  agents
    .command('register')
    .description('register an agent of a type; prints its client_id and, once, its client secret')
    .argument('<type>', 'the agent type (name or id)')
    .option(
      '--name <name>',
      'the agent’s name, unique within its type (default <type>-<random>)',
      parseNonEmpty,
    )
    .option('--jwks <file>', 'a JSON Web Key Set file with the agent’s public keys (private_key_jwt)')
    .option('--federated <issuer>', 'a configured workload-token issuer the agent logs in with')
    .option(
      '--claim <key=value>',
      'a claim the workload token must carry (repeatable; globs allowed)',
      collect,
    )
    .option('--no-secret', 'do not create a client secret (needs --jwks or --federated)')
    .action(
      action(async (ctx, [type], opts) => {
        const claims = parseClaims((opts.claim as string[] | undefined) ?? []);
        const issuer = typeof opts.federated === 'string' ? opts.federated : undefined;
        if (issuer === undefined && Object.keys(claims).length > 0) {
          usage('--claim needs --federated <issuer>', '--claim');
        }
        const federated: FederatedBinding[] = issuer === undefined ? [] : [{ issuer, claims }];
        // Checked here too, so that each problem names the file (the service only knows the field).
        const jwks =
          typeof opts.jwks === 'string'
            ? await validateClientJwks(readJsonFile(opts.jwks), `${opts.jwks}: jwks`)
            : undefined;
        const name = typeof opts.name === 'string' ? opts.name : `${type!}-${randomBytes(3).toString('hex')}`;
        const result = await ctx.withApp((app) =>
          app.broker.registerAgent(
            type!,
            {
              name,
              ...(jwks === undefined ? {} : { jwks }),
              ...(federated.length === 0 ? {} : { federated }),
              withSecret: opts.secret !== false,
            },
            cliActor(ctx),
          ),
        );
        if (result.clientSecret !== undefined) {
          ctx.err(
            'keyward: the client secret is shown this once and cannot be shown again; store it in your secret manager now\n',
          );
        }
        if (ctx.globals.json) {
          return ctx.json({
            agent: result.agent,
            clientId: result.clientId,
            ...(result.clientSecret === undefined ? {} : { clientSecret: result.clientSecret }),
          });
        }
        ctx.out(`registered agent ${result.agent.name} (${result.agent.id})\n`);
        ctx.out(`client_id:     ${result.clientId}\n`);
        if (result.clientSecret !== undefined) ctx.out(`client_secret: ${result.clientSecret}\n`);
      }),
    );
  agents
    .command('list')
    .description('list agents with their type, client_id, status and how they log in')
    .option('--type <type>', 'only agents of this agent type (name or id)')
    .action(
      action(async (ctx, _args, opts) => {
        const { page, types } = await ctx.withApp(async (app) => ({
          page: await app.broker.listAgents({
            limit: LIST_LIMIT,
            ...(typeof opts.type === 'string' ? { agentType: opts.type } : {}),
          }),
          types: (await app.broker.listAgentTypes({ limit: LIST_LIMIT })).items,
        }));
        noteTruncated(ctx, page, 'agents');
        if (ctx.globals.json) return ctx.json(page);
        const names = new Map(types.map((t) => [t.id, t.name]));
        ctx.out(renderAgents(page.items, names, ctx.render));
      }),
    );
  agents
    .command('disable')
    .description('disable an agent: it can no longer log in, and the tokens it holds are revoked')
    .argument('<id>', 'the agent id (agt_…) or client_id (kwc_…)')
    .option('--reason <text>', 'why (recorded with the revocation)')
    .action(
      action(async (ctx, [id], opts) => {
        const agent = await ctx.withApp((app) =>
          app.broker.disableAgent(
            id!,
            cliActor(ctx),
            typeof opts.reason === 'string' ? { reason: opts.reason } : {},
          ),
        );
        if (ctx.globals.json) return ctx.json(agent);
        ctx.out(`disabled agent ${agent.name} (${agent.id}); its tokens are revoked\n`);
      }),
    );

  agents
    .command('reset-secret')
    .description(
      'replace an agent’s client secret: the old one stops working at once; prints the new one once',
    )
    .argument('<id>', 'the agent id (agt_…) or client_id (kwc_…)')
    .action(
      action(async (ctx, [id]) => {
        const result = await ctx.withApp((app) => app.broker.resetClientSecret(id!, cliActor(ctx)));
        ctx.err(
          'keyward: the client secret is shown this once and cannot be shown again; store it in your secret manager now\n',
        );
        if (ctx.globals.json) {
          return ctx.json({
            agent: result.agent,
            clientId: result.clientId,
            clientSecret: result.clientSecret,
          });
        }
        ctx.out(`new client secret for agent ${result.agent.name} (${result.agent.id})\n`);
        ctx.out(`client_id:     ${result.clientId}\n`);
        ctx.out(`client_secret: ${result.clientSecret}\n`);
      }),
    );

  // --- federated issuers --------------------------------------------------------------------------------
  const issuers = program.command('issuers').description('workload-token issuers agents log in with');
  issuers
    .command('add')
    .description('trust a workload-token issuer (GitHub Actions, a Kubernetes cluster, any OIDC issuer)')
    .argument('<issuer-url>', 'the issuer (the iss claim of its tokens)')
    .option('--jwks-uri <url>', 'where the issuer publishes its public keys')
    .option('--jwks <file>', 'a JSON Web Key Set file with its public keys')
    .requiredOption('--audience <aud>', 'the aud its tokens must carry for Keyward')
    .action(
      action(async (ctx, [issuer], opts) => {
        const jwksUri = typeof opts.jwksUri === 'string' ? opts.jwksUri : undefined;
        const jwksFile = typeof opts.jwks === 'string' ? opts.jwks : undefined;
        if ((jwksUri === undefined) === (jwksFile === undefined)) {
          usage(
            'give the issuer’s keys with exactly one of --jwks-uri <url> and --jwks <file>',
            '--jwks-uri',
          );
        }
        const saved = await ctx.withApp((app) =>
          app.broker.saveFederatedIssuer(
            {
              issuer: issuer!,
              audience: String(opts.audience),
              ...(jwksUri === undefined ? {} : { jwksUri }),
              ...(jwksFile === undefined ? {} : { jwks: readJsonFile(jwksFile) }),
            },
            cliActor(ctx),
          ),
        );
        if (ctx.globals.json) return ctx.json(saved);
        ctx.out(`${savedVerb(saved)} issuer ${saved.federatedIssuer.issuer}\n`);
      }),
    );

  // --- upstreams -------------------------------------------------------------------------------------------
  const upstreams = program.command('upstreams').description('APIs behind the credential-injecting proxy');
  upstreams
    .command('add')
    .description('add or replace an API behind the proxy; the credential is read from an env var or a file')
    .argument('<name>', 'the upstream’s name (/proxy/<name>/…)')
    .requiredOption('--base-url <url>', 'the API’s https base URL')
    .requiredOption('--auth <kind>', 'how the credential is sent: header, basic or bearer')
    .option('--header <name>', 'the header that carries the credential (with --auth header)')
    .option('--secret-env <VAR>', 'read the credential from this environment variable')
    .option('--secret-file <file>', 'read the credential from this file (one trailing line break dropped)')
    .option(
      '--route <route>',
      'a route "<scope> <METHODS> <path-glob>", methods comma-separated (repeatable, at least one)',
      collect,
    )
    .action(
      action(async (ctx, [name], opts) => {
        const routes = ((opts.route as string[] | undefined) ?? []).map(parseRoute);
        if (routes.length === 0) {
          usage('give at least one --route "<scope> <METHODS> <path-glob>"', '--route');
        }
        const secret = readUpstreamSecret(ctx, opts);
        const definition = {
          name,
          baseUrl: opts.baseUrl,
          auth: {
            kind: opts.auth,
            ...(typeof opts.header === 'string' ? { headerName: opts.header } : {}),
          },
          secret,
          routes,
        };
        const saved = await ctx.withApp((app) => app.broker.saveUpstream(definition, cliActor(ctx)));
        if (ctx.globals.json) return ctx.json(saved);
        const u = saved.upstream;
        ctx.out(
          `${savedVerb(saved)} upstream ${u.name} (${u.baseUrl}, credential ${u.secretPreview}); agents ask for resource keyward:upstream:${u.name}\n`,
        );
      }),
    );
  upstreams
    .command('list')
    .description('list the upstreams (never their credentials)')
    .action(
      action(async (ctx) => {
        const list = await ctx.withApp((app) => app.broker.listUpstreams());
        if (ctx.globals.json) return ctx.json(list);
        ctx.out(renderUpstreams(list, ctx.render));
      }),
    );

  // --- approvals -------------------------------------------------------------------------------------------
  const approvals = program
    .command('approvals')
    .description('requests for tokens that need a person’s approval');
  approvals
    .command('list')
    .description('list approval requests, newest first')
    .option('--status <status>', 'pending, approved, denied or expired')
    .action(
      action(async (ctx, _args, opts) => {
        const status = typeof opts.status === 'string' ? opts.status : undefined;
        if (status !== undefined && !(APPROVAL_STATUSES as readonly string[]).includes(status)) {
          usage(`--status: '${status}' is not one of pending, approved, denied, expired`, '--status');
        }
        const page = await ctx.withApp((app) =>
          app.broker.listApprovals({
            limit: LIST_LIMIT,
            ...(status === undefined ? {} : { status: status as ApprovalStatus }),
          }),
        );
        noteTruncated(ctx, page, 'approval requests');
        if (ctx.globals.json) return ctx.json(page);
        ctx.out(renderApprovals(page.items, ctx.render));
      }),
    );
  for (const decision of ['approve', 'deny'] as const) {
    approvals
      .command(decision)
      .description(`${decision} a pending request`)
      .argument('<id>', 'the approval id (apr_…)')
      .option('--reason <text>', 'why (recorded with the decision)')
      .option('--as <person>', 'the approver recorded (default cli:$USER)', parseNonEmpty)
      .action(
        action(async (ctx, [id], opts) => {
          const approver = typeof opts.as === 'string' ? opts.as : cliActor(ctx);
          const reason = typeof opts.reason === 'string' ? opts.reason : null;
          const result = await ctx.withApp((app) =>
            app.broker.decideApproval(id!, decision, approver, reason),
          );
          if (ctx.globals.json) return ctx.json(result);
          ctx.out(`${result.status} ${result.id} (${result.scopes.join(' ')}) as ${approver}\n`);
        }),
      );
  }

  // --- revoke ----------------------------------------------------------------------------------------------
  program
    .command('revoke')
    .description(
      'revoke tokens: of an agent, an agent type or a task, one token, or all issued before a time',
    )
    .option('--agent <id>', 'every token of this agent (id or client_id) until now')
    .option('--agent-type <name>', 'every token of agents of this type until now')
    .option('--task <id>', 'every token of this task until now')
    .option('--jti <jti>', 'one token')
    .option('--issued-before <time>', 'every token issued before this time', parseTime)
    .option('--reason <text>', 'why (recorded with the revocation)')
    .action(
      action(async (ctx, _args, opts) => {
        const kinds: Array<[string, RevocationKind]> = [
          ['agent', 'agent'],
          ['agentType', 'agent-type'],
          ['task', 'task'],
          ['jti', 'jti'],
          ['issuedBefore', 'issued-before'],
        ];
        const given = kinds.filter(([key]) => typeof opts[key] === 'string');
        if (given.length !== 1) {
          usage('give exactly one of --agent, --agent-type, --task, --jti and --issued-before', '--agent');
        }
        const [key, kind] = given[0]!;
        const revocation = await ctx.withApp((app) =>
          app.broker.revoke(
            {
              kind,
              value: String(opts[key]),
              ...(typeof opts.reason === 'string' ? { reason: opts.reason } : {}),
            },
            cliActor(ctx),
          ),
        );
        if (ctx.globals.json) return ctx.json(revocation);
        ctx.out(`revoked: ${kind} ${String(opts[key])}\n`);
      }),
    );

  // --- explain ---------------------------------------------------------------------------------------------
  const broker = program.command('broker').description('the credential broker');
  broker
    .command('explain')
    .description('explain which rule allows or denies each scope; exit 0 when allowed, 1 when denied')
    .option('--agent <id>', 'the agent (id or client_id)')
    .option('--agent-type <name>', 'the agent type (name or id)')
    .requiredOption('--scope <scope...>', 'the requested scopes')
    .requiredOption('--resource <url>', 'the resource the token is for')
    .option('--ip <addr>', 'the source address to check conditions.sourceCidrs against')
    .option('--at <time>', 'the time to check conditions.timeWindows at', parseTime)
    .action(
      action(async (ctx, _args, opts) => {
        const agent = typeof opts.agent === 'string' ? opts.agent : undefined;
        const agentType = typeof opts.agentType === 'string' ? opts.agentType : undefined;
        if ((agent === undefined) === (agentType === undefined)) {
          usage('give exactly one of --agent and --agent-type', '--agent');
        }
        const result = await ctx.withApp((app) =>
          app.broker.explain({
            ...(agent === undefined ? {} : { agent }),
            ...(agentType === undefined ? {} : { agentType }),
            scope: (opts.scope as string[]).flatMap((s) => s.split(/\s+/)).filter((s) => s !== ''),
            resource: String(opts.resource),
            ...(typeof opts.ip === 'string' ? { sourceIp: opts.ip } : {}),
            ...(typeof opts.at === 'string' ? { at: opts.at } : {}),
          }),
        );
        if (ctx.globals.json) ctx.json(result);
        else ctx.out(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
        return result.decision.effect === 'allow' ? EXIT.ok : EXIT.failed;
      }),
    );

  // --- rightsize -------------------------------------------------------------------------------------------
  program
    .command('rightsize')
    .description('compare what policies allow with what agents used, and propose narrower policies')
    .option('--window <length>', 'how far back to look: 30d, 12h, 90m', '30d')
    .option('--strict', 'also remove scopes issued but never used through the proxy')
    .action(
      action(async (ctx, _args, opts) => {
        const now = ctx.io.now().toISOString();
        const window = windowEndingAt(now, parseWindow(String(opts.window)));
        const report = await ctx.withApp(async (app) =>
          computeRightsizing(
            await loadRightsizingInput(app.store, {
              window,
              now,
              dropIssuedNotUsed: opts.strict === true,
            }),
          ),
        );
        if (ctx.globals.json) return ctx.json(report);
        ctx.out(renderRightsizingText(report));
      }),
    );
}
