/**
 * Helpers for the broker end-to-end tests on PostgreSQL: two `keyward serve` processes sharing one database
 * (same master key, same issuer, each with its own data directory), a recording upstream for the proxy, and
 * small OAuth clients for the token, introspection and revocation endpoints.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKeyward, startServe, tempDir, type RunResult, type ServeProcess } from './e2e-helpers.js';

/** The issuer both processes share: tokens of one are verified by the other only when `iss` is the same. */
export const SHARED_ISSUER = 'http://keyward.test';

/** What every child process runs with. */
export const CHILD_ENV: Record<string, string> = { KEYWARD_ISSUER: SHARED_ISSUER, USER: 'e2e' };

/** A data directory holding the given master key as `master.key` (mode 0600), as an operator copies it. */
export function dataDirWithMasterKey(masterKey: string): string {
  const dir = tempDir('kw-e2e-pg-');
  writeFileSync(join(dir, 'master.key'), masterKey + '\n', { mode: 0o600 });
  return dir;
}

/** A fresh random master key in the form `master.key` holds (base64 of 32 bytes). */
export function newMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/** One `keyward serve` on the shared database, and its data directory. */
export interface Node {
  serve: ServeProcess;
  dir: string;
  url: string;
}

/** Starts `keyward serve --port 0` on the database with its own data directory. */
export async function startNode(databaseUrl: string, dir: string): Promise<Node> {
  const serve = await startServe(['--data-dir', dir, '--database-url', databaseUrl, '--port', '0'], {
    env: CHILD_ENV,
  });
  return { serve, dir, url: serve.url };
}

/** Runs the CLI against the database with the given data directory (for its master key). */
export function cli(databaseUrl: string, dir: string, ...args: string[]): Promise<RunResult> {
  return runKeyward(['--data-dir', dir, '--database-url', databaseUrl, ...args], { env: CHILD_ENV });
}

/** Runs the CLI with `--json` and parses stdout; fails with stderr when it does not exit 0. */
export async function cliJson<T>(databaseUrl: string, dir: string, ...args: string[]): Promise<T> {
  const r = await cli(databaseUrl, dir, ...args, '--json');
  if (r.code !== 0) throw new Error(`keyward ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** An OAuth client: the agent's client id and secret. */
export interface Client {
  clientId: string;
  clientSecret: string;
}

/** Registers an agent of the type with a client secret and returns its credentials. */
export async function registerAgent(
  databaseUrl: string,
  dir: string,
  agentType: string,
  name: string,
): Promise<Client & { agentId: string }> {
  const r = await cliJson<{ agent: { id: string }; clientId: string; clientSecret: string }>(
    databaseUrl,
    dir,
    'agents',
    'register',
    agentType,
    '--name',
    name,
  );
  return { clientId: r.clientId, clientSecret: r.clientSecret, agentId: r.agent.id };
}

/** A JSON answer: status, the parsed body and the headers. */
export interface JsonAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

const basic = (c: Client): string =>
  'Basic ' +
  Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64');

/** POSTs a form to one of the OAuth endpoints with `client_secret_basic`. */
export async function postForm<T = Record<string, unknown>>(
  url: string,
  client: Client,
  params: Record<string, string>,
): Promise<JsonAnswer<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

/** A successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

/** Asks the node's token endpoint for a client_credentials token and fails unless it is issued. */
export async function getToken(node: Node, client: Client, scope: string, resource: string): Promise<string> {
  const r = await postForm<TokenResponse>(`${node.url}/oauth/token`, client, {
    grant_type: 'client_credentials',
    scope,
    resource,
  });
  if (r.status !== 200) throw new Error(`token request refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token;
}

/** The node's RFC 7662 answer for the token, asked as the client. */
export function introspect(node: Node, client: Client, token: string): Promise<JsonAnswer> {
  return postForm(`${node.url}/oauth/introspect`, client, { token });
}

/** GET `/proxy/<upstream><path>` on the node with the token as Bearer. */
export async function proxyGet(
  node: Node,
  upstream: string,
  path: string,
  token: string,
): Promise<JsonAnswer> {
  const res = await fetch(`${node.url}/proxy/${upstream}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body, headers: res.headers };
}

/**
 * Polls `check` every `everyMs` until it returns true or `timeoutMs` passed; resolves with the time
 * (`performance.now()`) at which the check that succeeded was started.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
  options: { everyMs: number; timeoutMs: number; what: string },
): Promise<number> {
  const start = performance.now();
  for (;;) {
    const asked = performance.now();
    if (await check()) return asked;
    if (performance.now() - start > options.timeoutMs) {
      throw new Error(`${options.what} did not happen within ${options.timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, options.everyMs));
  }
}

/** What the recording upstream received. */
export interface UpstreamRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** A local HTTP upstream that answers every request with 200 JSON and records what it received. */
export interface RecordingUpstream {
  baseUrl: string;
  requests: UpstreamRequest[];
  close(): Promise<void>;
}

/** Starts the recording upstream on 127.0.0.1. */
export function startUpstream(): Promise<RecordingUpstream> {
  const requests: UpstreamRequest[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        baseUrl: `http://127.0.0.1:${port}/api`,
        requests,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections();
            server.close(() => res());
          }),
      });
    });
  });
}

/** Decodes a JWT's payload without verifying it (the test reads claims the broker signed). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
