import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/app-config.js';
import { openApp } from '../app/app.js';
import { runCliIn } from './cli-test-support.js';

const POLICIES = join('src', 'broker', 'fixtures', 'policies');
const SUPPORT = join(POLICIES, 'valid', 'support-agent.yaml');

/** A policy without conditions, so a token request from the test reaches the approval step. */
const BILLING = `agentType: billing-agent
owner: farid@example.com
allow:
  - resource: https://billing.internal.example
    scopes: [invoices:read, invoices:refund]
    approval: [invoices:refund]
    approvalTimeout: 10m
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-cli-broker-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI in-process against the test's data directory, with `USER=tester`. */
function run(args: string[], env: Record<string, string> = {}, now = () => new Date()) {
  return runCliIn(dir, args, { env, now });
}

/** Writes a file into the test's directory and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('agent-types', () => {
  it('apply prints created, unchanged and changed with the policy version', async () => {
    expect(await run(['agent-types', 'apply', SUPPORT])).toEqual({
      code: 0,
      stdout: 'created agent type support-agent (policy version 1)\n',
      stderr: '',
    });
    expect((await run(['agent-types', 'apply', SUPPORT])).stdout).toBe(
      'unchanged agent type support-agent (policy version 1)\n',
    );
    const changed = file('billing.yaml', BILLING);
    await run(['agent-types', 'apply', changed]);
    writeFileSync(changed, BILLING.replace('10m', '5m'));
    const json = await run(['--json', 'agent-types', 'apply', changed]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      result: 'changed',
      agentType: { name: 'billing-agent', policyVersion: 2 },
    });
  });

  it('a broken policy exits 2 naming file:line and field', async () => {
    const broken = join(POLICIES, 'broken', 'empty-scope.yaml');
    expect(await run(['agent-types', 'apply', broken])).toEqual({
      code: 2,
      stdout: '',
      stderr: `keyward: ${broken}:12: allow[1].scopes[0]: must not be empty\n`,
    });
    const many = await run(['agent-types', 'apply', join(POLICIES, 'broken', 'many-problems.yaml')]);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain(
      'many-problems.yaml:4: tokens.requireDpop: expected true or false, got text',
    );
  });

  it('a missing file or a directory exits 2 with one line', async () => {
    const missing = join(dir, 'nope.yaml');
    expect(await run(['agent-types', 'apply', missing])).toEqual({
      code: 2,
      stdout: '',
      stderr: `keyward: cannot read ${missing}: no such file\n`,
    });
    expect((await run(['agent-types', 'apply', dir])).stderr).toBe(
      `keyward: cannot read ${dir}: it is a directory, not a file\n`,
    );
  });

  it('list prints one row per agent type, and JSON', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const list = await run(['agent-types', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toBe('name\towner\tversion\tsource\tupdated');
    expect(lines[1]).toMatch(/^support-agent\tfarid@example\.com\t1\t.*support-agent\.yaml\t/);
    const json = JSON.parse((await run(['--json', 'agent-types', 'list'])).stdout) as { items: unknown[] };
    expect(json.items).toHaveLength(1);
  });
});

describe('agents', () => {
  it('register prints the client_id and the secret once, with a warning on stderr', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const reg = await run(['agents', 'register', 'support-agent', '--name', 'bot-1']);
    expect(reg.code).toBe(0);
    expect(reg.stdout).toMatch(
      /^registered agent bot-1 \(agt_\w+\)\nclient_id: {5}kwc_\w+\nclient_secret: kwcs_[\w-]+\n$/,
    );
    expect(reg.stderr).toBe(
      'keyward: the client secret is shown this once and cannot be shown again; store it in your secret manager now\n',
    );
    const secret = /client_secret: (\S+)/.exec(reg.stdout)![1]!;

    const list = await run(['agents', 'list', '--type', 'support-agent']);
    expect(list.stdout).toMatch(/\nagt_\w+\tbot-1\tsupport-agent\tkwc_\w+\tactive\tsecret\t-\n$/);
    expect(list.stdout).not.toContain(secret);
    const json = await run(['--json', 'agents', 'list']);
    expect(json.stdout).not.toContain(secret);
    expect(json.stdout).not.toContain('secretHash');
  });

  it('register with --jwks and --no-secret prints no secret; JSON carries clientId', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const jwks = file(
      'jwks.json',
      JSON.stringify({
        keys: [
          {
            kty: 'OKP',
            crv: 'Ed25519',
            x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
            kid: 'k1',
            alg: 'EdDSA',
          },
        ],
      }),
    );
    const reg = await run(['--json', 'agents', 'register', 'support-agent', '--jwks', jwks, '--no-secret']);
    expect(reg.stderr).toBe('');
    expect(reg.code).toBe(0);
    const body = JSON.parse(reg.stdout) as Record<string, unknown>;
    expect(body.clientId).toMatch(/^kwc_/);
    expect(body).not.toHaveProperty('clientSecret');
    expect(body.agent).toMatchObject({ name: expect.stringMatching(/^support-agent-[0-9a-f]{6}$/) });
  });

  it('bad inputs exit 2', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    expect(await run(['agents', 'register', 'nope'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'keyward: no agent type "nope"\n',
    });
    expect(await run(['agents', 'register', 'support-agent', '--no-secret'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'keyward: the agent needs a way to log in: a client secret, a JWKS (private_key_jwt) or a federated binding\n  at auth: no authentication method given\n',
    });
    expect((await run(['agents', 'register', 'support-agent', '--claim', 'sub=x'])).stderr).toBe(
      'keyward: --claim needs --federated <issuer>\n',
    );
    expect(
      (
        await run([
          'agents',
          'register',
          'support-agent',
          '--federated',
          'https://x.example',
          '--claim',
          'sub',
        ])
      ).stderr,
    ).toBe("keyward: --claim: 'sub' is not key=value (e.g. --claim repository_owner=acme)\n");
    const notJson = file('jwks.json', '{');
    const bad = await run(['agents', 'register', 'support-agent', '--jwks', notJson]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`^keyward: ${notJson}: not valid JSON: `));
  });

  it('disable prints the agent and its tokens revoked; an unknown agent exits 2', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const reg = JSON.parse(
      (await run(['--json', 'agents', 'register', 'support-agent', '--name', 'bot'])).stdout,
    ) as { clientId: string; agent: { id: string } };
    expect(await run(['agents', 'disable', reg.clientId, '--reason', 'leaked'])).toEqual({
      code: 0,
      stdout: `disabled agent bot (${reg.agent.id}); its tokens are revoked\n`,
      stderr: '',
    });
    expect((await run(['agents', 'list'])).stdout).toContain('\tdisabled\t');
    const unknown = await run(['agents', 'disable', 'agt_nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^keyward: .*agt_nope/);
  });

  it('reset-secret prints a new secret once (with the warning on stderr); an unknown agent exits 2', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const reg = JSON.parse(
      (await run(['--json', 'agents', 'register', 'support-agent', '--name', 'bot'])).stdout,
    ) as { clientId: string; clientSecret: string; agent: { id: string } };
    const r = await run(['agents', 'reset-secret', reg.clientId]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`new client secret for agent bot (${reg.agent.id})`);
    expect(lines[1]).toBe(`client_id:     ${reg.clientId}`);
    expect(lines[2]).toMatch(/^client_secret: kwcs_[A-Za-z0-9_-]{43}$/);
    expect(lines[2]).not.toContain(reg.clientSecret);
    expect(r.stderr).toBe(
      'keyward: the client secret is shown this once and cannot be shown again; store it in your secret manager now\n',
    );
    const unknown = await run(['agents', 'reset-secret', 'agt_nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^keyward: .*agt_nope/);
  });

  it('federated: issuers add, then register with claims', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const issuer = 'https://token.actions.githubusercontent.com';
    expect(
      await run([
        'issuers',
        'add',
        issuer,
        '--jwks-uri',
        `${issuer}/.well-known/jwks`,
        '--audience',
        'https://keyward.example',
      ]),
    ).toEqual({ code: 0, stdout: `created issuer ${issuer}\n`, stderr: '' });
    const reg = await run([
      '--json',
      'agents',
      'register',
      'support-agent',
      '--federated',
      issuer,
      '--claim',
      'repository_owner=acme',
      '--claim',
      'sub=repo:acme/*',
      '--no-secret',
    ]);
    expect(reg.code).toBe(0);
    expect(JSON.parse(reg.stdout)).toMatchObject({
      agent: { auth: { federated: [{ issuer, claims: { repository_owner: 'acme', sub: 'repo:acme/*' } }] } },
    });
    expect(await run(['issuers', 'add', issuer, '--audience', 'x'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'keyward: give the issuer’s keys with exactly one of --jwks-uri <url> and --jwks <file>\n',
    });
  });
});

describe('upstreams', () => {
  const base = ['upstreams', 'add', 'tickets', '--base-url', 'https://tickets.example.com/api'];
  const route = ['--route', 'tickets:read GET,HEAD /tickets/*'];

  it('add reads the credential from an env var or a file and never prints it', async () => {
    const added = await run([...base, '--auth', 'bearer', '--secret-env', 'TICKETS_TOKEN', ...route], {
      TICKETS_TOKEN: 'tk_live_0123456789abcdef',
    });
    expect(added).toEqual({
      code: 0,
      stdout:
        'created upstream tickets (https://tickets.example.com/api, credential tk_l…cdef); agents ask for resource keyward:upstream:tickets\n',
      stderr: '',
    });
    const secretFile = file('secret', 'tk_live_fedcba9876543210\n');
    const replaced = await run([
      ...base,
      '--auth',
      'header',
      '--header',
      'X-Api-Key',
      '--secret-file',
      secretFile,
      ...route,
      '--route',
      'tickets:write POST /tickets',
    ]);
    expect(replaced.stdout).toMatch(/^changed upstream tickets .*credential tk_l…3210\)/);
    const list = await run(['upstreams', 'list']);
    expect(list.stdout).toBe(
      'name\tbase url\tauth\tcredential\troutes\n' +
        'tickets\thttps://tickets.example.com/api\theader X-Api-Key\ttk_l…3210\ttickets:read GET,HEAD /tickets/*; tickets:write POST /tickets\n',
    );
    const json = await run(['--json', 'upstreams', 'list']);
    expect(json.stdout).not.toContain('fedcba9876');
    expect(json.stdout).not.toContain('sealedSecret');
  });

  it('bad inputs exit 2 and never echo the credential', async () => {
    expect(await run([...base, '--auth', 'bearer', ...route])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'keyward: give the credential with exactly one of --secret-env <VAR> and --secret-file <file>\n',
    });
    expect((await run([...base, '--auth', 'bearer', '--secret-env', 'NOPE', ...route])).stderr).toBe(
      'keyward: --secret-env: the variable NOPE is not set or empty\n',
    );
    expect(
      (
        await run([...base, '--auth', 'bearer', '--secret-env', 'T', '--route', 'tickets:read /x'], {
          T: 'abcdefgh',
        })
      ).stderr,
    ).toBe(
      'keyward: --route: \'tickets:read /x\' must be "<scope> <METHODS> <path-glob>", e.g. --route "tickets:read GET,HEAD /tickets/*"\n',
    );
    expect((await run([...base, '--auth', 'bearer', '--secret-env', 'T'], { T: 'abcdefgh' })).stderr).toBe(
      'keyward: give at least one --route "<scope> <METHODS> <path-glob>"\n',
    );
    const invalid = await run([...base, '--auth', 'digest', '--secret-env', 'T', ...route], {
      T: 'very-secret-value',
    });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('auth.kind');
    expect(invalid.stderr).not.toContain('very-secret-value');
    expect((await run(['upstreams', 'add', 'x', '--auth', 'bearer'])).stderr.split('\n')[0]).toBe(
      "error: required option '--base-url <url>' not specified",
    );
  });
});

describe('approvals', () => {
  /** Applies the billing policy, registers an agent and asks for a refund token: one pending approval. */
  async function pendingApproval(): Promise<string> {
    await run(['agent-types', 'apply', file('billing.yaml', BILLING)]);
    const reg = JSON.parse(
      (await run(['--json', 'agents', 'register', 'billing-agent', '--name', 'b'])).stdout,
    ) as { clientId: string; clientSecret: string };
    const app = await openApp(loadConfig({ env: {}, flags: { dataDir: dir } }));
    try {
      const res = await app.broker.token({
        params: {
          grant_type: 'client_credentials',
          scope: 'invoices:refund',
          resource: 'https://billing.internal.example',
        },
        basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret },
        method: 'POST',
        url: app.broker.endpoints.token,
        sourceIp: null,
      });
      expect(res.body).toMatchObject({ error: 'authorization_pending' });
    } finally {
      await app.close();
    }
    const list = JSON.parse((await run(['--json', 'approvals', 'list', '--status', 'pending'])).stdout) as {
      items: Array<{ id: string }>;
    };
    expect(list.items).toHaveLength(1);
    return list.items[0]!.id;
  }

  it('list shows the pending request; approve records cli:$USER', async () => {
    const id = await pendingApproval();
    const list = await run(['approvals', 'list', '--status', 'pending']);
    expect(list.stdout).toMatch(
      new RegExp(`\\n${id}\\tpending\\tagt_\\w+\\tinvoices:refund\\thttps://billing.internal.example\\t`),
    );
    expect(await run(['approvals', 'approve', id, '--reason', 'ticket 42'])).toEqual({
      code: 0,
      stdout: `approved ${id} (invoices:refund) as cli:tester\n`,
      stderr: '',
    });
    expect((await run(['approvals', 'list', '--status', 'pending'])).stdout).toBe(
      'id\tstatus\tagent\tscopes\tresource\trequested\texpires\tdecided by\n',
    );
    const again = await run(['approvals', 'deny', id]);
    expect(again.code).toBe(2);
  });

  it('deny --as records the person', async () => {
    const id = await pendingApproval();
    const denied = await run(['--json', 'approvals', 'deny', id, '--as', 'farid@example.com']);
    expect(denied.code).toBe(0);
    expect(JSON.parse(denied.stdout)).toMatchObject({ id, status: 'denied', decidedBy: 'farid@example.com' });
  });

  it('bad inputs exit 2', async () => {
    expect((await run(['approvals', 'list', '--status', 'open'])).stderr).toBe(
      "keyward: --status: 'open' is not one of pending, approved, denied, expired\n",
    );
    expect(await run(['approvals', 'approve', 'apr_nope'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'keyward: no approval request with id apr_nope\n',
    });
  });
});

describe('revoke', () => {
  it('revokes by one selector and refuses none or two', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    expect(await run(['revoke', '--agent-type', 'support-agent', '--reason', 'incident 7'])).toEqual({
      code: 0,
      stdout: 'revoked: agent-type support-agent\n',
      stderr: '',
    });
    expect((await run(['revoke', '--issued-before', '2026-01-01'])).stdout).toBe(
      'revoked: issued-before 2026-01-01T00:00:00.000Z\n',
    );
    const none = {
      code: 2,
      stdout: '',
      stderr: 'keyward: give exactly one of --agent, --agent-type, --task, --jti and --issued-before\n',
    };
    expect(await run(['revoke'])).toEqual(none);
    expect(await run(['revoke', '--jti', 'a', '--task', 'b'])).toEqual(none);
    expect((await run(['revoke', '--issued-before', 'yesterday'])).stderr.split('\n')[0]).toBe(
      "error: option '--issued-before <time>' argument 'yesterday' is invalid. Expected a time such as 2026-01-01T10:00:00Z.",
    );
  });
});

describe('broker explain', () => {
  const args = ['broker', 'explain', '--agent-type', 'support-agent', '--resource', 'https://api.github.com'];

  it('prints the explanation; exit 0 when allowed, 1 when denied', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const allowed = await run([...args, '--scope', 'repo:read']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('Requested: repo:read\n');
    expect(allowed.stdout).toContain('Result: allow repo:read for 5m');
    // Each rule with the line of the file it was applied from (support-agent.yaml).
    expect(allowed.stdout.split('\n').slice(0, 6)).toEqual([
      `Agent type support-agent (${SUPPORT})`,
      'Resource:  https://api.github.com',
      'Requested: repo:read',
      '',
      'Scopes:',
      "  repo:read  allow  allow[0] (line 11): resource matches 'https://api.github.com' and scope matches 'repo:read'",
    ]);
    expect(allowed.stdout).toContain('  skip   tokens.requireDpop (line 8): ');
    const denied = await run([...args, '--scope', 'admin:write', 'repo:read', '--ip', '172.16.0.1']);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('Requested: admin:write repo:read\n');
    expect(denied.stdout).toContain('Result: deny');
    const json = await run(['--json', ...args, '--scope', 'repo:read']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      decision: { effect: 'allow', scopes: ['repo:read'] },
      agentType: { name: 'support-agent', policyVersion: 1 },
      reasons: expect.arrayContaining([expect.objectContaining({ rule: 'allow[0]', line: 11 })]),
    });
  });

  it('by agent client_id', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const reg = JSON.parse((await run(['--json', 'agents', 'register', 'support-agent'])).stdout) as {
      clientId: string;
    };
    const res = await run([
      'broker',
      'explain',
      '--agent',
      reg.clientId,
      '--scope',
      'repo:read',
      '--resource',
      'https://api.github.com',
      '--at',
      '2026-06-01T10:00:00Z',
    ]);
    expect(res.code).toBe(0);
  });

  it('bad inputs exit 2', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    expect(
      await run(['broker', 'explain', '--scope', 'repo:read', '--resource', 'https://api.github.com']),
    ).toEqual({ code: 2, stdout: '', stderr: 'keyward: give exactly one of --agent and --agent-type\n' });
    expect(
      (await run(['broker', 'explain', '--agent-type', 'x', '--scope', 'a'])).stderr.split('\n')[0],
    ).toBe("error: required option '--resource <url>' not specified");
    expect((await run([...args.slice(0, 4), '--scope', 'a', '--resource', 'r', '--at', 'soon'])).code).toBe(
      2,
    );
    expect(
      (await run(['broker', 'explain', '--agent-type', 'nope', '--scope', 'a', '--resource', 'r'])).stderr,
    ).toBe('keyward: no agent type "nope"\n');
  });
});

describe('rightsize', () => {
  it('prints the report; --json the report document', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const text = await run(['rightsize', '--window', '7d', '--strict']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Rightsizing from \S+ to \S+\.\n/);
    expect(text.stdout).toContain('support-agent: 0 tokens, 0 proxy calls');
    const json = JSON.parse((await run(['--json', 'rightsize'])).stdout) as {
      window: { from: string; to: string };
      agentTypes: Array<{ name: string }>;
    };
    expect(Date.parse(json.window.to) - Date.parse(json.window.from)).toBe(30 * 86_400_000);
    expect(json.agentTypes.map((t) => t.name)).toEqual(['support-agent']);
  });

  it('a bad --window exits 2 with the parser’s message', async () => {
    expect(await run(['rightsize', '--window', '30'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "keyward: --window: '30' is not a window length; write a whole number and a unit: 30d (days), 12h (hours) or 90m (minutes)\n",
    });
  });
});

describe('agents register --jwks', () => {
  it('refuses a private key, naming the file and the key', async () => {
    await run(['agent-types', 'apply', SUPPORT]);
    const jwks = file(
      'private.json',
      JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', d: 'BBBB', kid: 'k1' }] }),
    );
    const res = await run(['agents', 'register', 'support-agent', '--jwks', jwks]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(
      `${jwks}: jwks.keys[0]: holds private or symmetric key material; register the public key only`,
    );
    expect(res.stderr).not.toContain('BBBB');
  });
});

describe('rightsize with usage', () => {
  it('proposes removing a scope no token carried, as a diff', async () => {
    await run(['agent-types', 'apply', file('billing.yaml', BILLING)]);
    const reg = JSON.parse(
      (await run(['--json', 'agents', 'register', 'billing-agent', '--name', 'b'])).stdout,
    ) as { clientId: string; clientSecret: string };
    const app = await openApp(loadConfig({ env: {}, flags: { dataDir: dir } }));
    try {
      const res = await app.broker.token({
        params: {
          grant_type: 'client_credentials',
          scope: 'invoices:read',
          resource: 'https://billing.internal.example',
        },
        basicAuth: { clientId: reg.clientId, clientSecret: reg.clientSecret },
        method: 'POST',
        url: app.broker.endpoints.token,
        sourceIp: null,
      });
      expect(res.status).toBe(200);
    } finally {
      await app.close();
    }
    // 30 days on, the policy is older than the 14-day rule and the token is in a 60-day window.
    const later = () => new Date(Date.now() + 30 * 86_400_000);
    const report = await run(['rightsize', '--window', '60d'], {}, later);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('billing-agent: 1 token, 0 proxy calls');
    expect(report.stdout).toMatch(/invoices:refund .* unused +remove/);
    expect(report.stdout).toContain('--- billing-agent (current)');
    expect(report.stdout).toMatch(/\n +- +- invoices:refund\n/);
  });
});
