/**
 * The walk-through of docs/broker.md, step by step, against a real `keyward serve --port 0` (SQLite in a temporary
 * data dir): the same example files from docs/examples/broker/ (policies, agent.mjs and make-agent-key.mjs run as
 * child processes), the same commands, and the outputs the page shows. Outputs without ids are compared with the
 * page's text itself (`docOutput`), the others by shape and key fields, so the page cannot silently go stale.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecordingUpstream, type LocalServer, type RecordedRequest } from './broker-flows-support.js';
import {
  ROOT,
  removeDir,
  requireBuild,
  runJson,
  runKeyward,
  startServe,
  tempDir,
  type RunResult,
  type ServeProcess,
} from './e2e-helpers.js';

/** The example files, relative to the repository root (the CLI runs there, as the page's commands do). */
const EXAMPLES = 'docs/examples/broker';
const DOC = readFileSync(join(ROOT, 'docs', 'broker.md'), 'utf8');
/** The issuer the page's policy names in exchange.subjectIssuers (the page runs on port 7300). */
const DOC_ISSUER = 'http://127.0.0.1:7300';
const GITHUB = 'https://api.github.com';
const BILLING = 'https://billing.internal.example';
const ACTIONS = 'https://token.actions.githubusercontent.com';
const CIBA = 'urn:openid:params:grant-type:ciba';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SECRET_ONCE =
  'keyward: the client secret is shown this once and cannot be shown again; store it in your secret manager now\n';

/**
 * What the page shows after the command line starting with `$ <command>` (continuation lines skipped): the lines
 * up to the next `$ ` line or the end of the code block. Fails when the page has no such command.
 */
function docOutput(command: string): string {
  const lines = DOC.split('\n');
  const start = lines.findIndex((l) => l === `$ ${command}` || l === `$ ${command} \\`);
  if (start < 0) throw new Error(`docs/broker.md shows no command "$ ${command}"`);
  let i = start;
  while (lines[i]!.endsWith('\\')) i++;
  const out: string[] = [];
  for (i++; i < lines.length && !lines[i]!.startsWith('$ ') && !lines[i]!.startsWith('```'); i++) {
    out.push(lines[i]!);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** A registered agent, as `agents register` printed it. */
interface Agent {
  id: string;
  clientId: string;
  secret?: string;
}

/** What agent.mjs printed: the token response and the decoded claims. */
interface AgentOutput {
  token: { access_token: string; token_type: string; expires_in: number; scope: string };
  claims: JWTPayload & Record<string, unknown>;
}

let dir: string;
let serve: ServeProcess | undefined;
let upstream: (LocalServer & { requests: RecordedRequest[] }) | undefined;
let url: string;
const agents: Record<'support1' | 'support2' | 'release' | 'planner', Agent> = {} as Record<
  'support1' | 'support2' | 'release' | 'planner',
  Agent
>;
let agentTypeId: string;

const kw = (args: string[], env: Record<string, string> = {}): Promise<RunResult> =>
  runKeyward(['--data-dir', dir, ...args], { env: { USER: 'farid', ...env } });
const kwJson = <T>(...args: string[]): Promise<T> =>
  runJson<T>(['--data-dir', dir, ...args], { USER: 'farid' });

/** The page's placeholders for this run's ids, so that outputs with ids compare with the page's text. */
function placeholders(text: string): string {
  let out = text;
  const names = {
    support1: 'support1',
    support2: 'support2',
    release: 'release',
    planner: 'planner',
  } as const;
  for (const [key, name] of Object.entries(names) as Array<[keyof typeof agents, string]>) {
    const a = agents[key];
    if (!a) continue;
    out = out.replaceAll(a.id, `agt_${name}…`).replaceAll(a.clientId, `kwc_${name}…`);
    if (a.secret) out = out.replaceAll(a.secret, 'kwcs_…');
  }
  return out.replace(/apr_[0-9a-z]{16}/g, 'apr_…').replaceAll(url, DOC_ISSUER);
}

/** Parses `agents register` text output. */
function registered(r: RunResult, name: string, withSecret: boolean): Agent {
  expect(r.code).toBe(0);
  const m = new RegExp(
    `^registered agent ${name} \\((agt_[0-9a-z]{16})\\)\\nclient_id:     (kwc_[0-9a-z]{16})\\n` +
      (withSecret ? 'client_secret: (kwcs_[A-Za-z0-9_-]{43})\\n$' : '$'),
  ).exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  expect(r.stderr).toBe(withSecret ? SECRET_ONCE : '');
  return { id: m![1]!, clientId: m![2]!, ...(withSecret ? { secret: m![3]! } : {}) };
}

/** POSTs a form to a broker endpoint, as the page's curl commands do. */
async function post(
  path: string,
  form: Record<string, string>,
  auth: { basic?: Agent; bearer?: string } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth.basic) {
    const { clientId, secret } = auth.basic;
    headers.authorization = `Basic ${Buffer.from(`${clientId}:${secret ?? ''}`).toString('base64')}`;
  }
  if (auth.bearer) headers.authorization = `Bearer ${auth.bearer}`;
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** client_credentials with client_secret_basic, like `curl -u`. */
const tokenRequest = (agent: Agent, form: Record<string, string>) =>
  post('/oauth/token', { grant_type: 'client_credentials', ...form }, { basic: agent });

/** A running `node docs/examples/broker/<script>`. */
interface Child {
  stderr(): string;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Runs an example script with Node, in `cwd`, with only the given environment besides PATH. */
function runExample(script: string, env: Record<string, string>, cwd = ROOT, args: string[] = []): Child {
  const child = spawn(process.execPath, [join(ROOT, EXAMPLES, script), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 40_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { stderr: () => stderr, done };
}

/** Runs agent.mjs to the end and parses what it printed. */
async function runAgent(env: Record<string, string>): Promise<AgentOutput> {
  const r = await runExample('agent.mjs', { KEYWARD_URL: url, ...env }).done;
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return JSON.parse(r.stdout) as AgentOutput;
}

/** Waits until `check` returns true, failing after `ms`. */
async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The claims a client_credentials token of the page carries, in the page's order. */
const CLAIM_KEYS = [
  'agent_type_id',
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'client_id',
  'scope',
  'task',
];

beforeAll(async () => {
  requireBuild();
  dir = tempDir('kw-walkthrough-');
  upstream = await startRecordingUpstream();
  serve = await startServe(['--data-dir', dir, '--port', '0']);
  url = serve.url;
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  await upstream?.close();
  removeDir(dir);
});

describe('docs/broker.md, step by step', () => {
  it('1. starts: the admin token file and the issuer; discovery names the endpoints', async () => {
    expect(serve!.stdout()).toContain(`keyward listening on ${url}\n`);
    expect(serve!.stdout()).toContain(
      `admin token: created on first start and written to ${join(dir, 'admin.token')} (mode 0600)\n`,
    );
    expect(statSync(join(dir, 'admin.token')).mode & 0o777).toBe(0o600);
    const metadata = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata).toMatchObject({
      issuer: url,
      token_endpoint: `${url}/oauth/token`,
      jwks_uri: `${url}/.well-known/jwks.json`,
      introspection_endpoint: `${url}/oauth/introspect`,
      revocation_endpoint: `${url}/oauth/revoke`,
      response_types_supported: [],
      grant_types_supported: ['client_credentials', TOKEN_EXCHANGE, CIBA],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      resource_parameter_supported: true,
    });
  });

  it('2. applies the policies; a broken one is refused with file:line', async () => {
    const broken = `agent-types apply ${EXAMPLES}/broken.yaml`;
    const r = await kw(broken.split(' '));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(`${r.stderr}2\n`).toBe(docOutput(`keyward ${broken}; echo $?`));

    const apply = `agent-types apply ${EXAMPLES}/support-agent.yaml`;
    expect(await kw(apply.split(' '))).toEqual({
      code: 0,
      stdout: docOutput(`keyward ${apply}`),
      stderr: '',
    });
    const again = await kw(apply.split(' '));
    expect(again).toEqual({
      code: 0,
      stdout: 'unchanged agent type support-agent (policy version 1)\n',
      stderr: '',
    });
    expect(DOC).toContain(`$ keyward ${apply}\n${again.stdout}`);

    const planner = `agent-types apply ${EXAMPLES}/planner.yaml`;
    expect(await kw(planner.split(' '))).toEqual({
      code: 0,
      stdout: docOutput(`keyward ${planner}`),
      stderr: '',
    });

    const list = await kw(['agent-types', 'list']);
    expect(list.stdout).toMatch(
      new RegExp(
        '^name\\towner\\tversion\\tsource\\tupdated\\n' +
          `planner\\tfarid@example\\.com\\t1\\t${EXAMPLES}/planner\\.yaml\\t\\S+\\n` +
          `support-agent\\tfarid@example\\.com\\t1\\t${EXAMPLES}/support-agent\\.yaml\\t\\S+\\n$`,
      ),
    );
  });

  it('3. registers agents: a client secret, a key pair, a federated binding', async () => {
    const bot1 = await kw(['agents', 'register', 'support-agent', '--name', 'support-bot-1']);
    agents.support1 = registered(bot1, 'support-bot-1', true);
    // The page shows stdout, then the stderr line.
    expect(placeholders(bot1.stdout + bot1.stderr)).toBe(
      docOutput('keyward agents register support-agent --name support-bot-1'),
    );
    agents.planner = registered(
      await kw(['agents', 'register', 'planner', '--name', 'planner-1']),
      'planner-1',
      true,
    );

    // A key pair made by make-agent-key.mjs, first generated, then from a PKCS#8 PEM (what openssl genpkey writes).
    const made = await runExample('make-agent-key.mjs', {}, dir).done;
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(
      /^wrote agent-key\.private\.json \(keep it secret\) and agent-jwks\.json \(kid [\w-]{43}\)\n$/,
    );
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(dir, 'agent-key.pem'), pem);
    const fromPem = await runExample('make-agent-key.mjs', {}, dir, ['agent-key.pem']).done;
    expect(fromPem.code).toBe(0);
    const jwks = JSON.parse(readFileSync(join(dir, 'agent-jwks.json'), 'utf8')) as {
      keys: Array<Record<string, string>>;
    };
    expect(fromPem.stdout).toBe(
      `wrote agent-key.private.json (keep it secret) and agent-jwks.json (kid ${jwks.keys[0]!.kid})\n`,
    );
    expect(Object.keys(jwks.keys[0]!).sort()).toEqual(['crv', 'kid', 'kty', 'use', 'x']);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig' });
    expect(statSync(join(dir, 'agent-key.private.json')).mode & 0o777).toBe(0o600);
    const example = JSON.parse(readFileSync(join(ROOT, EXAMPLES, 'agent-jwks.example.json'), 'utf8')) as {
      keys: Array<Record<string, string>>;
    };
    expect(Object.keys(example.keys[0]!).sort()).toEqual(['crv', 'kid', 'kty', 'use', 'x']);

    agents.support2 = registered(
      await kw([
        'agents',
        'register',
        'support-agent',
        '--name',
        'support-bot-2',
        '--jwks',
        join(dir, 'agent-jwks.json'),
        '--no-secret',
      ]),
      'support-bot-2',
      false,
    );

    const issuer = await kw([
      'issuers',
      'add',
      ACTIONS,
      '--jwks-uri',
      `${ACTIONS}/.well-known/jwks`,
      '--audience',
      DOC_ISSUER,
    ]);
    expect(issuer).toEqual({ code: 0, stdout: docOutput(`keyward issuers add ${ACTIONS}`), stderr: '' });
    const federated = ['--no-secret', '--federated', ACTIONS];
    agents.release = registered(
      await kw([
        'agents',
        'register',
        'support-agent',
        '--name',
        'release-bot',
        ...federated,
        '--claim',
        'sub=repo:acme/*:ref:refs/heads/main',
        '--claim',
        'repository_owner=acme',
      ]),
      'release-bot',
      false,
    );
    expect(
      placeholders(docOutput('keyward agents register support-agent --name release-bot --no-secret')),
    ).toBe('registered agent release-bot (agt_release…)\nclient_id:     kwc_release…\n');
    const anyone = await kw([
      'agents',
      'register',
      'support-agent',
      '--name',
      'anyone',
      ...federated,
      '--claim',
      'sub=*',
    ]);
    expect(anyone.code).toBe(2);
    expect(`${anyone.stderr}2\n`).toBe(
      docOutput('keyward agents register support-agent --name anyone --no-secret'),
    );

    const list = placeholders((await kw(['agents', 'list'])).stdout);
    expect(list).toBe(
      'id\tname\ttype\tclient_id\tstatus\tauth\tlast used\n' +
        'agt_planner…\tplanner-1\tplanner\tkwc_planner…\tactive\tsecret\t-\n' +
        'agt_release…\trelease-bot\tsupport-agent\tkwc_release…\tactive\tfederated\t-\n' +
        'agt_support1…\tsupport-bot-1\tsupport-agent\tkwc_support1…\tactive\tsecret\t-\n' +
        'agt_support2…\tsupport-bot-2\tsupport-agent\tkwc_support2…\tactive\tjwks\t-\n',
    );
  });

  it('4. gets tokens: curl with client_secret_basic, agent.mjs with a secret, a key pair and DPoP', async () => {
    const s1 = agents.support1;
    const ok = await tokenRequest(s1, {
      scope: 'repo:read issues:write',
      resource: GITHUB,
      task: 'T-42',
      purpose: 'triage',
    });
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body)).toEqual(['access_token', 'token_type', 'expires_in', 'scope']);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'repo:read issues:write' });
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(decodeProtectedHeader(ok.body.access_token as string)).toEqual({
      alg: 'EdDSA',
      typ: 'at+jwt',
      kid: expect.any(String),
    });

    const refusals = [
      [{ scope: 'repo:read', resource: GITHUB }, s1],
      [{ scope: 'admin:write', resource: GITHUB, task: 'T-42' }, s1],
      [
        { scope: 'repo:read', resource: GITHUB, task: 'T-42' },
        { ...s1, secret: 'wrong' },
      ],
    ] as const;
    const bodies = [];
    for (const [form, agent] of refusals) bodies.push((await tokenRequest(agent, form)).body);
    expect(bodies).toEqual([
      {
        error: 'invalid_request',
        error_description:
          'the task claim is missing; this agent type requires task with every token request',
      },
      {
        error: 'invalid_scope',
        error_description:
          "none of the requested scopes (admin:write) may be issued for resource 'https://api.github.com'",
      },
      { error: 'invalid_client', error_description: 'client authentication failed' },
    ]);
    for (const body of bodies) expect(DOC).toContain(JSON.stringify(body));

    const bySecret = await runAgent({ CLIENT_ID: s1.clientId, CLIENT_SECRET: s1.secret! });
    expect(Object.keys(bySecret)).toEqual(['token', 'claims']);
    expect(Object.keys(bySecret.token)).toEqual(['access_token', 'token_type', 'expires_in', 'scope']);
    expect(bySecret.token).toMatchObject({ token_type: 'bearer', expires_in: 300, scope: 'repo:read' });
    expect(Object.keys(bySecret.claims)).toEqual(CLAIM_KEYS);
    agentTypeId = bySecret.claims.agent_type_id as string;
    expect(bySecret.claims).toMatchObject({
      agent_type_id: expect.stringMatching(/^aty_[0-9a-z]{16}$/),
      iss: url,
      sub: s1.id,
      aud: GITHUB,
      client_id: s1.clientId,
      scope: 'repo:read',
      task: 'T-42',
    });
    expect(bySecret.claims.exp! - bySecret.claims.iat!).toBe(300);
    expect(bySecret.claims.nbf).toBe(bySecret.claims.iat);
    expect(decodeJwt(bySecret.token.access_token)).toEqual(bySecret.claims);

    const keyFile = join(dir, 'agent-key.private.json');
    const byKey = await runAgent({ CLIENT_ID: agents.support2.clientId, AGENT_KEY_FILE: keyFile });
    expect(byKey.claims).toMatchObject({ sub: agents.support2.id, client_id: agents.support2.clientId });

    const bound = await runAgent({
      CLIENT_ID: agents.support2.clientId,
      AGENT_KEY_FILE: keyFile,
      DPOP: '1',
      SCOPE: 'issues:write',
    });
    expect(bound.token).toMatchObject({ token_type: 'dpop', expires_in: 300, scope: 'issues:write' });
    expect(Object.keys(bound.claims)).toEqual([...CLAIM_KEYS, 'cnf']);
    expect(bound.claims.cnf).toEqual({ jkt: expect.stringMatching(/^[\w-]{43}$/) });
  });

  it('4. waits for a person to approve a refund: pending, approvals list/approve, the CIBA poll', async () => {
    const s1 = agents.support1;
    const refund = { scope: 'invoices:refund', resource: BILLING, task: 'T-42' };
    const pending = await tokenRequest(s1, refund);
    expect(pending.status).toBe(400);
    expect(pending.body).toEqual({
      error: 'authorization_pending',
      error_description:
        'a person must approve invoices:refund; poll with grant_type=urn:openid:params:grant-type:ciba and this auth_req_id every 5 seconds',
      auth_req_id: expect.stringMatching(/^apr_[0-9a-z]{16}$/),
      interval: 5,
    });
    expect(DOC).toContain(placeholders(JSON.stringify(pending.body)));
    const denied = await kw(['approvals', 'deny', pending.body.auth_req_id as string]);
    expect(denied.stdout).toBe(
      `denied ${pending.body.auth_req_id as string} (invoices:refund) as cli:farid\n`,
    );

    const agent = runExample('agent.mjs', {
      KEYWARD_URL: url,
      CLIENT_ID: s1.clientId,
      CLIENT_SECRET: s1.secret!,
      SCOPE: 'invoices:refund',
      RESOURCE: BILLING,
    });
    await waitFor(() => agent.stderr().includes('\n'), 'agent.mjs to wait for the approval');
    const id = /apr_[0-9a-z]{16}/.exec(agent.stderr())![0];
    expect(agent.stderr()).toBe(
      `agent: waiting for a person to approve ${id} (keyward approvals approve ${id})\n`,
    );
    expect(DOC).toContain(placeholders(agent.stderr()));

    const listed = await kw(['approvals', 'list', '--status', 'pending']);
    expect(placeholders(listed.stdout)).toMatch(
      /^id\tstatus\tagent\tscopes\tresource\trequested\texpires\tdecided by\napr_…\tpending\tagt_support1…\tinvoices:refund\thttps:\/\/billing\.internal\.example\t\S+\t\S+\t-\n$/,
    );
    const approve = ['approvals', 'approve', id, '--reason', 'ticket 4711', '--as', 'farid@example.com'];
    const approved = await kw(approve);
    expect(approved).toEqual({
      code: 0,
      stdout: `approved ${id} (invoices:refund) as farid@example.com\n`,
      stderr: '',
    });
    expect(
      placeholders(
        docOutput('keyward approvals approve apr_… --reason "ticket 4711" --as farid@example.com'),
      ),
    ).toBe(placeholders(approved.stdout));

    const done = await agent.done;
    expect(done.code).toBe(0);
    const out = JSON.parse(done.stdout) as AgentOutput;
    expect(out.token).toMatchObject({ token_type: 'bearer', scope: 'invoices:refund' });
    expect(Object.keys(out.claims)).toEqual([...CLAIM_KEYS, 'approval']);
    expect(out.claims).toMatchObject({
      aud: BILLING,
      sub: s1.id,
      approval: { id, approver: 'farid@example.com' },
    });

    const again = await post('/oauth/token', { grant_type: CIBA, auth_req_id: id }, { basic: s1 });
    expect(again.body).toEqual({
      error: 'invalid_grant',
      error_description: 'this approval was already used for a token',
    });
    expect(DOC).toContain(JSON.stringify(again.body));
    const twice = await kw(['approvals', 'approve', id]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(
      `keyward: approval ${id} is approved: only a pending request can be decided\n`,
    );
  }, 60_000);

  it('5. exchanges the planner’s token for one acting on its behalf (the act chain)', async () => {
    // The page's server runs on port 7300; this one on a free port, so its policy names this issuer instead.
    const policy = readFileSync(join(ROOT, EXAMPLES, 'support-agent.yaml'), 'utf8');
    expect(policy.split(DOC_ISSUER)).toHaveLength(2);
    const copy = join(dir, 'support-agent.yaml');
    writeFileSync(copy, policy.replace(DOC_ISSUER, url));
    expect((await kw(['agent-types', 'apply', copy])).stdout).toBe(
      'changed agent type support-agent (policy version 2)\n',
    );

    const plannerToken = await tokenRequest(agents.planner, { scope: 'repo:read', resource: GITHUB });
    expect(plannerToken.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'repo:read' });
    const subject = plannerToken.body.access_token as string;
    const form = {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
    };
    const exchanged = await post('/oauth/token', { ...form, task: 'T-42' }, { basic: agents.support1 });
    expect(exchanged.status).toBe(200);
    expect(Object.keys(exchanged.body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'issued_token_type',
    ]);
    expect(exchanged.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'repo:read',
      issued_token_type: ACCESS_TOKEN_TYPE,
    });
    const claims = decodeJwt(exchanged.body.access_token as string);
    expect(claims).toMatchObject({
      agent_type_id: agentTypeId,
      iss: url,
      sub: agents.planner.id,
      aud: GITHUB,
      client_id: agents.support1.clientId,
      scope: 'repo:read',
      task: 'T-42',
      act: { sub: agents.support1.id, client_id: agents.support1.clientId },
    });
    expect(DOC).toContain(
      placeholders(`"act": { "sub": "${agents.support1.id}", "client_id": "${agents.support1.clientId}" }`),
    );

    const planner = await post('/oauth/token', form, { basic: agents.planner });
    expect(planner.body).toEqual({
      error: 'unauthorized_client',
      error_description: 'agent type planner may not exchange tokens (exchange.allowed is false)',
    });

    // A DPoP-bound subject token: refused without a proof of its key, exchanged (and bound) with one.
    const as: oauth.AuthorizationServer = { issuer: url, token_endpoint: `${url}/oauth/token` };
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    const keyPair = await oauth.generateKeyPair('ES256');
    const plannerClient: oauth.Client = { client_id: agents.planner.clientId };
    const boundSubject = await oauth.processClientCredentialsResponse(
      as,
      plannerClient,
      await oauth.clientCredentialsGrantRequest(
        as,
        plannerClient,
        oauth.ClientSecretBasic(agents.planner.secret!),
        new URLSearchParams({ scope: 'repo:read', resource: GITHUB }),
        { ...insecure, DPoP: oauth.DPoP(plannerClient, keyPair) },
      ),
    );
    const boundForm = { ...form, subject_token: boundSubject.access_token, task: 'T-42' };
    const noProof = await post('/oauth/token', boundForm, { basic: agents.support1 });
    expect(noProof).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description:
          'the subject token is DPoP-bound; send a DPoP proof made with the key it is bound to',
      },
    });
    expect(DOC.replace(/\n\s*/g, ' ')).toContain(noProof.body.error_description as string);
    const supportClient: oauth.Client = { client_id: agents.support1.clientId };
    const withProof = await oauth.genericTokenEndpointRequest(
      as,
      supportClient,
      oauth.ClientSecretBasic(agents.support1.secret!),
      TOKEN_EXCHANGE,
      { subject_token: boundSubject.access_token, subject_token_type: ACCESS_TOKEN_TYPE, task: 'T-42' },
      { ...insecure, DPoP: oauth.DPoP(supportClient, keyPair) },
    );
    expect(withProof.status).toBe(200);
    const withProofBody = (await withProof.json()) as { token_type: string; access_token: string };
    expect(withProofBody.token_type).toBe('DPoP');
    expect(decodeJwt(withProofBody.access_token).cnf).toEqual(decodeJwt(boundSubject.access_token).cnf);

    // Back to the page's file for the rest of the walk-through (explain prints its name).
    expect((await kw(['agent-types', 'apply', `${EXAMPLES}/support-agent.yaml`])).stdout).toBe(
      'changed agent type support-agent (policy version 3)\n',
    );
  });

  it('6. calls the tickets API through the proxy with the real credential added', async () => {
    const add = [
      'upstreams',
      'add',
      'tickets',
      '--base-url',
      `${upstream!.url}/api/v2`,
      '--auth',
      'header',
      '--header',
      'X-Api-Key',
      '--secret-env',
      'TICKETS_TOKEN',
      '--route',
      'tickets:read GET,HEAD /tickets/*',
    ];
    const added = await kw(add, { TICKETS_TOKEN: 'tk_live_0123456789abcdef9c2e' });
    expect(added.code).toBe(0);
    const shown = docOutput(
      'TICKETS_TOKEN=tk_live_… keyward upstreams add tickets --base-url http://127.0.0.1:8081/api/v2',
    );
    expect(added.stdout).toBe(shown.replace('http://127.0.0.1:8081', upstream!.url));
    expect((await kw(['upstreams', 'list'])).stdout).toBe(
      `name\tbase url\tauth\tcredential\troutes\ntickets\t${upstream!.url}/api/v2\theader X-Api-Key\ttk_l…9c2e\ttickets:read GET,HEAD /tickets/*\n`,
    );

    const token = await tokenRequest(agents.support1, {
      scope: 'tickets:read',
      resource: 'keyward:upstream:tickets',
      task: 'T-42',
    });
    const call = (method: string, auth = true) =>
      fetch(`${url}/proxy/tickets/tickets/4711`, {
        method,
        headers: auth ? { authorization: `Bearer ${token.body.access_token as string}` } : {},
      });
    const ok = await call('GET');
    expect(ok.status).toBe(200);
    const okBody = await ok.text();
    expect(okBody).toBe('{"ticket":"/api/v2/tickets/4711"}');
    expect(DOC).toContain(`\n${okBody}\n`);
    expect(upstream!.requests).toHaveLength(1);
    expect(upstream!.requests[0]).toMatchObject({ method: 'GET', url: '/api/v2/tickets/4711' });
    expect(upstream!.requests[0]!.headers['x-api-key']).toBe('tk_live_0123456789abcdef9c2e');
    expect(upstream!.requests[0]!.headers.authorization).toBeUndefined();

    const post405 = await call('POST');
    expect(post405.status).toBe(405);
    expect(post405.headers.get('allow')).toBe('GET, HEAD');
    const body405 = await post405.text();
    expect(DOC).toContain(`\n${body405}\n`);
    const none = await call('GET', false);
    expect(none.status).toBe(401);
    const metadata = `resource_metadata="${url}/.well-known/oauth-protected-resource/proxy/tickets"`;
    expect(none.headers.get('www-authenticate')).toBe(
      `Bearer realm="keyward", ${metadata}, DPoP realm="keyward", ${metadata}`,
    );
    const body401 = await none.text();
    expect(DOC).toContain(`\n${body401}\n`);
    expect(upstream!.requests).toHaveLength(1);
  });

  it('6–7. introspects and revokes: RFC 7662, RFC 7009 and keyward revoke', async () => {
    const s1 = agents.support1;
    const token = await tokenRequest(s1, {
      scope: 'repo:read',
      resource: GITHUB,
      task: 'T-42',
      purpose: 'triage',
    });
    const access = token.body.access_token as string;
    const claims = decodeJwt(access);
    const byClient = await post('/oauth/introspect', { token: access }, { basic: s1 });
    const expected = {
      active: true,
      iss: url,
      sub: s1.id,
      aud: GITHUB,
      scope: 'repo:read',
      client_id: s1.clientId,
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.nbf,
      jti: claims.jti,
      token_type: 'Bearer',
      task: 'T-42',
      purpose: 'triage',
    };
    expect(byClient.body).toEqual(expected);
    expect(Object.keys(byClient.body)).toEqual(Object.keys(expected));
    const adminToken = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    expect((await post('/oauth/introspect', { token: access }, { bearer: adminToken })).body).toEqual(
      expected,
    );
    expect((await post('/oauth/introspect', { token: 'not-a-token' }, { basic: s1 })).body).toEqual({
      active: false,
    });

    expect(await post('/oauth/revoke', { token: access }, { basic: s1 })).toMatchObject({
      status: 200,
      body: {},
    });
    expect((await post('/oauth/introspect', { token: access }, { basic: s1 })).body).toEqual({
      active: false,
    });
    const planners = await tokenRequest(agents.planner, { scope: 'repo:read', resource: GITHUB });
    const foreign = await post(
      '/oauth/revoke',
      { token: planners.body.access_token as string },
      { basic: s1 },
    );
    expect(foreign.body).toEqual({
      error: 'unauthorized_client',
      error_description: 'the token was not issued to this client',
    });
    expect(DOC).toContain(JSON.stringify(foreign.body));

    const byTask = await kw(['revoke', '--task', 'T-42', '--reason', 'ticket closed']);
    expect(byTask).toEqual({
      code: 0,
      stdout: docOutput('keyward revoke --task T-42 --reason "ticket closed"'),
      stderr: '',
    });
    const byAgent = await kwJson<Record<string, unknown>>('revoke', '--agent', s1.clientId);
    expect(Object.keys(byAgent)).toEqual([
      'seq',
      'kind',
      'value',
      'issuedBefore',
      'expiresAt',
      'reason',
      'actor',
      'createdAt',
    ]);
    expect(byAgent).toMatchObject({ kind: 'agent', value: s1.id, reason: null, actor: 'cli:farid' });
    const byName = await kw(['revoke', '--agent', 'support-bot-1']);
    expect(byName).toMatchObject({
      code: 2,
      stderr: 'keyward: no agent "support-bot-1" (give its id or client id)\n',
    });
  });

  it('8. explains decisions, verifies the log and rightsizes', async () => {
    const first =
      'broker explain --agent-type support-agent --scope repo:read admin:write --resource https://api.github.com';
    expect(await kw(first.split(' '))).toEqual({
      code: 0,
      stdout: docOutput(`keyward ${first}`),
      stderr: '',
    });
    const second = await kw([
      'broker',
      'explain',
      '--agent',
      agents.support1.clientId,
      '--scope',
      'invoices:refund',
      '--resource',
      BILLING,
      '--ip',
      '10.0.0.7',
    ]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(
      docOutput('keyward broker explain --agent kwc_support1… --scope invoices:refund'),
    );

    const verify = await kw(['audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(
      /^ok: \d+ records, chain intact \(last hash [0-9a-f]{64}\)\nanchor: \d+:[0-9a-f]{64} \(keep it outside the database; `audit verify --anchor` then also detects removal of the newest records\)\n$/,
    );

    const rightsize = await kw(['rightsize']);
    expect(rightsize.code).toBe(0);
    const shown = docOutput('keyward rightsize').split('\n');
    const lines = placeholders(rightsize.stdout).split('\n');
    expect(lines[0]).toMatch(/^Rightsizing from \S+Z to \S+Z\.$/);
    expect(lines).toContain(shown[1]!.replace(/\d{4}-\S+Z/, lines[1]!.split(' ')[3]!));
    expect(lines).toContainEqual(expect.stringMatching(/^planner: \d+ tokens, 0 proxy calls$/));
    expect(lines).toContainEqual(expect.stringMatching(/^support-agent: \d+ tokens, 1 proxy call$/));
    for (const line of [
      '  No change proposed: every allowed scope is used or kept.',
      '  Agents without a token in the window: release-bot (kwc_release…)',
    ]) {
      expect(lines).toContain(line);
      expect(shown).toContain(line);
    }
    expect(rightsize.stdout).toMatch(
      /\n {2}allow\[2\] +tickets:read +keyward:upstream:tickets +1 +1 .* used +keep\n/,
    );
  });
});
