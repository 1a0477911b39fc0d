/**
 * The `mcp` importer: MCP client configuration files (Claude Desktop, Claude Code, Cursor, Windsurf, VS Code).
 * Each configured server becomes an `mcp-server` identity; every secret in its env, headers, URL or command-line
 * arguments becomes a credential located at the JSON key path and line where it sits in the file.
 */
import { z } from 'zod';
import { emptyBatch, type IdentityInput, type InventoryBatch } from '../../core/inventory-batch.js';
import { detectCredential, isSecretKeyName, type DetectedCredential } from './credential-detector.js';
import { jsonLineFinder, parseJsonText } from './importer-json.js';
import {
  createIssueCollector,
  credentialInputsFrom,
  decodeText,
  describeJsonType,
  formatPath,
  importError,
  type FoundCredential,
  type IssueCollector,
  type PathSegment,
} from './importer-support.js';
import type { Importer, ImporterContext, ImportSource } from './importer-types.js';

const serverSchema = z.looseObject({
  type: z.string().optional(),
  transport: z.string().optional(),
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  url: z.string().optional(),
  serverUrl: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  disabled: z.boolean().optional(),
});
type ServerConfig = z.infer<typeof serverSchema>;

const serversSchema = z.record(z.string(), z.unknown());
const REDACTED = '<redacted>';

/** The transports an MCP client speaks. */
export type McpTransport = 'stdio' | 'http' | 'sse';

function transportOf(server: ServerConfig, url: string | undefined): McpTransport | null {
  const declared = (server.type ?? server.transport)?.trim().toLowerCase().replace(/[-_]/g, '');
  if (declared === 'stdio') return 'stdio';
  if (declared === 'sse') return 'sse';
  if (declared === 'http' || declared === 'streamablehttp') return 'http';
  if (declared !== undefined && declared !== '') return null;
  if (server.command !== undefined) return 'stdio';
  if (url !== undefined) return /\/sse\/?(\?|$)/.test(url) ? 'sse' : 'http';
  return 'stdio';
}

/** Replaces the secret inside a value with `<redacted>`, or the whole value when the secret is not there literally. */
function redact(value: string, secret: string): string {
  return secret !== '' && value.includes(secret) ? value.split(secret).join(REDACTED) : REDACTED;
}

interface ServerContext {
  fileName: string;
  path: PathSegment[];
  lineOf: (path: readonly PathSegment[]) => number | null;
  hints: string[];
  found: FoundCredential[];
}

function record(
  ctx: ServerContext,
  detected: DetectedCredential,
  name: string,
  path: PathSegment[],
  suffix = '',
): void {
  ctx.found.push({
    detected,
    name,
    location: {
      kind: 'config',
      path: ctx.fileName,
      line: ctx.lineOf(path),
      key: `${formatPath(path)}${suffix}`,
    },
  });
}

function scanArgs(ctx: ServerContext, args: string[]): string[] {
  const shown = [...args];
  const at = (i: number): PathSegment[] => [...ctx.path, 'args', i];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    // --flag=value
    const flagValue = /^(--?[A-Za-z][\w.-]*)=([\s\S]*)$/.exec(arg);
    if (flagValue) {
      const d = detectCredential(flagValue[2]!, { keyName: flagValue[1]!, hints: ctx.hints });
      if (d) {
        record(ctx, d, flagValue[1]!, at(i));
        shown[i] = `${flagValue[1]}=${redact(flagValue[2]!, d.secret)}`;
      }
      continue;
    }
    // --header "Name: value" (mcp-remote, curl style)
    if ((arg === '--header' || arg === '-H') && next !== undefined) {
      const header = /^([A-Za-z][\w-]*)\s*:\s*([\s\S]*)$/.exec(next);
      if (header) {
        const d = detectCredential(header[2]!, { keyName: header[1]!, hints: ctx.hints });
        if (d) {
          record(ctx, d, header[1]!, at(i + 1));
          shown[i + 1] = `${header[1]}: ${redact(header[2]!, d.secret)}`;
        }
      }
      i++;
      continue;
    }
    // --token value
    if (
      /^--?[A-Za-z][\w.-]*$/.test(arg) &&
      next !== undefined &&
      !next.startsWith('-') &&
      isSecretKeyName(arg)
    ) {
      const d = detectCredential(next, { keyName: arg, hints: ctx.hints });
      if (d) {
        record(ctx, d, arg, at(i + 1));
        shown[i + 1] = redact(next, d.secret);
      }
      i++;
      continue;
    }
    // KEY=value (docker -e, env wrappers)
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]+)$/.exec(arg);
    if (assignment) {
      const d = detectCredential(assignment[2]!, { keyName: assignment[1]!, hints: ctx.hints });
      if (d) {
        record(ctx, d, assignment[1]!, at(i));
        shown[i] = `${assignment[1]}=${redact(assignment[2]!, d.secret)}`;
      }
      continue;
    }
    // A bare value: only known formats, connection strings and auth values count.
    const d = detectCredential(arg, { hints: ctx.hints });
    if (d) {
      record(ctx, d, `args[${i}]`, at(i));
      shown[i] = redact(arg, d.secret);
    }
  }
  return shown;
}

function scanUrl(
  ctx: ServerContext,
  url: string,
  issues: IssueCollector,
  urlKey: string,
): { shown: string; host: string } | null {
  const path = [...ctx.path, urlKey];
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    if (!url.includes('$')) issues.addAt(path, 'not a valid URL');
    return null;
  }
  if (u.password !== '') {
    const userinfo = `${u.protocol}//${u.username}:${u.password}@${u.host}/`;
    const d = detectCredential(userinfo, { hints: ctx.hints });
    if (d) record(ctx, d, 'url password', path);
  }
  for (const [name, value] of u.searchParams) {
    const d = detectCredential(value, { keyName: name, hints: ctx.hints });
    if (d) record(ctx, d, name, path, `?${name}`);
  }
  return { shown: `${u.protocol}//${u.host}${u.pathname}`, host: u.hostname };
}

function importServer(
  ctx: ServerContext,
  serverName: string,
  raw: unknown,
  issues: IssueCollector,
  project: string | null,
): IdentityInput | null {
  const server = issues.check(serverSchema, raw, ctx.path);
  if (!server) return null;
  const urlKey = server.url !== undefined ? 'url' : 'serverUrl';
  const url = server.url ?? server.serverUrl;
  const transport = transportOf(server, url);
  const where = (field: string): PathSegment[] => [...ctx.path, field];
  if (transport === null) {
    issues.addAt(
      where(server.type !== undefined ? 'type' : 'transport'),
      'expected "stdio", "http" or "sse"',
    );
    return null;
  }
  if (transport === 'stdio' && server.command === undefined) {
    issues.addAt(
      where('command'),
      'a stdio server needs a "command" (or give a "url" for an http/sse server)',
    );
    return null;
  }
  if (transport !== 'stdio' && url === undefined) {
    issues.addAt(where('url'), `an ${transport} server needs a "url"`);
    return null;
  }
  // Package names and images in the args say which service a server talks to (`@modelcontextprotocol/server-github`).
  for (const a of server.args ?? [])
    if (!a.startsWith('-') && !a.includes('=') && a.length < 200) ctx.hints.push(a);
  const parsedUrl = url !== undefined ? scanUrl(ctx, url, issues, urlKey) : null;
  if (parsedUrl) ctx.hints.push(parsedUrl.host);
  const args = server.args ? scanArgs(ctx, server.args) : undefined;
  for (const [name, value] of Object.entries(server.env ?? {})) {
    if (typeof value !== 'string') continue;
    const d = detectCredential(value, { keyName: name, hints: ctx.hints });
    if (d) record(ctx, d, name, [...ctx.path, 'env', name]);
  }
  for (const [name, value] of Object.entries(server.headers ?? {})) {
    const d = detectCredential(value, { keyName: name, hints: ctx.hints });
    if (d) record(ctx, d, name, [...ctx.path, 'headers', name]);
  }
  const attributes: Record<string, unknown> = { configFile: ctx.fileName, transport };
  if (project !== null) attributes.project = project;
  if (server.command !== undefined) attributes.command = server.command;
  if (args !== undefined) attributes.args = args;
  if (parsedUrl) {
    attributes.url = parsedUrl.shown;
    attributes.host = parsedUrl.host;
  }
  if (server.env) attributes.envKeys = Object.keys(server.env);
  if (server.headers) attributes.headerNames = Object.keys(server.headers);
  if (server.disabled !== undefined) attributes.disabled = server.disabled;
  return {
    provider: 'mcp',
    externalId: `${ctx.fileName}#${formatPath(ctx.path)}`,
    name: serverName,
    kind: 'mcp-server',
    attributes,
  };
}

function parse(source: ImportSource, ctx: ImporterContext): InventoryBatch {
  const { fileName } = source;
  const text = decodeText(source, 'an MCP client configuration (JSON)');
  const doc = parseJsonText(fileName, text);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw importError(
      fileName,
      `expected a JSON object with "mcpServers" or "servers", got ${describeJsonType(doc)}`,
    );
  }
  const top = doc as Record<string, unknown>;
  const issues = createIssueCollector(fileName);
  const lineOf = jsonLineFinder(text);
  const groups: Array<{ path: PathSegment[]; servers: Record<string, unknown>; project: string | null }> = [];
  const addGroup = (path: PathSegment[], value: unknown, project: string | null): void => {
    const servers = issues.check(serversSchema, value, path);
    if (servers) groups.push({ path, servers, project });
  };
  if ('mcpServers' in top) addGroup(['mcpServers'], top.mcpServers, null);
  // VS Code keeps servers under "servers" (with "inputs" for prompted secrets).
  if ('servers' in top) addGroup(['servers'], top.servers, null);
  // Claude Code's ~/.claude.json keeps per-project servers under projects.<path>.mcpServers.
  if (top.projects && typeof top.projects === 'object' && !Array.isArray(top.projects)) {
    for (const [project, cfg] of Object.entries(top.projects as Record<string, unknown>)) {
      if (cfg && typeof cfg === 'object' && 'mcpServers' in cfg) {
        addGroup(['projects', project, 'mcpServers'], (cfg as Record<string, unknown>).mcpServers, project);
      }
    }
  }
  if (groups.length === 0 && issues.count() === 0) {
    throw importError(
      fileName,
      'no "mcpServers" object (Claude Desktop, Claude Code, Cursor, Windsurf) or "servers" object (VS Code) found',
    );
  }
  const batch = emptyBatch();
  for (const group of groups) {
    for (const [serverName, raw] of Object.entries(group.servers)) {
      const sctx: ServerContext = {
        fileName,
        path: [...group.path, serverName],
        lineOf,
        hints: [serverName],
        found: [],
      };
      const identity = importServer(sctx, serverName, raw, issues, group.project);
      if (!identity) continue;
      batch.identities.push(identity);
      const ref = { provider: identity.provider, externalId: identity.externalId };
      batch.credentials.push(...credentialInputsFrom(sctx.found, ref, ctx.fingerprinter));
    }
  }
  issues.throwIfAny();
  return batch;
}

/** Imports MCP client configuration files. */
export const mcpImporter: Importer = {
  kind: 'mcp',
  description:
    'MCP client config (claude_desktop_config.json, .cursor/mcp.json, .vscode/mcp.json, ~/.claude.json): one identity per server, credentials from env, headers, URLs and args',
  parse,
};
