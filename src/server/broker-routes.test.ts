import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from './test-support/test-server.js';

const YAML_POLICY = `agentType: tickets-agent
owner: ops@example.com
allow:
  - resource: keyward:upstream:tickets
    scopes: [tickets:read]
`;
const UPSTREAM_SECRET = 'tk_live_0123456789abcdef';

describe('broker admin API', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  const json = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.server.inject({
      method,
      url,
      headers: { ...t.auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });

  it('requires the admin token on every broker route', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/broker/agent-types'],
      ['PUT', '/api/v1/broker/agent-types/put-agent'],
      ['POST', '/api/v1/broker/agents'],
      ['GET', '/api/v1/broker/approvals'],
      ['POST', '/api/v1/broker/revocations'],
      ['GET', '/api/v1/broker/upstreams'],
      ['GET', '/api/v1/broker/usage'],
    ] as const) {
      const res = await t.server.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json()).toMatchObject({ code: 'KW_UNAUTHORIZED' });
    }
  });

  it('applies a policy from YAML text and from JSON, lists and reads agent types', async () => {
    const yaml = await t.server.inject({
      method: 'POST',
      url: '/api/v1/broker/agent-types?filename=tickets.yaml',
      headers: { ...t.auth, 'content-type': 'text/yaml' },
      payload: YAML_POLICY,
    });
    expect(yaml.statusCode).toBe(200);
    expect(yaml.json()).toMatchObject({ agentType: { name: 'tickets-agent', policySource: 'tickets.yaml' } });

    const fromJson = await json('POST', '/api/v1/broker/agent-types', {
      agentType: 'billing-agent',
      owner: 'fin@example.com',
      allow: [{ resource: 'https://billing.example', scopes: ['invoices:read'] }],
    });
    expect(fromJson.statusCode).toBe(200);

    const list = await json('GET', '/api/v1/broker/agent-types');
    expect(list.statusCode).toBe(200);
    expect((list.json() as { items: Array<{ name: string }> }).items.map((a) => a.name)).toEqual([
      'billing-agent',
      'tickets-agent',
    ]);
    expect((await json('GET', '/api/v1/broker/agent-types/tickets-agent')).statusCode).toBe(200);
    // The policy's text is kept for explain, but no answer carries it.
    expect(JSON.stringify(list.json())).not.toContain('policyText');
    expect(JSON.stringify(yaml.json())).not.toContain('policyText');
    expect((await json('GET', '/api/v1/broker/agent-types/tickets-agent')).json()).not.toHaveProperty(
      'policyText',
    );
    const missing = await json('GET', '/api/v1/broker/agent-types/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'KW_NOT_FOUND' });
  });

  it('PUT applies the policy of the agent type the path names, idempotently; another name is a 400 on agentType', async () => {
    const PUT_YAML =
      'agentType: put-agent\nowner: ops@example.com\nallow:\n  - resource: https://api.example\n    scopes: [a:read]\n';
    const put = (url: string, type: string, payload: string) =>
      t.server.inject({ method: 'PUT', url, headers: { ...t.auth, 'content-type': type }, payload });
    const url = '/api/v1/broker/agent-types/put-agent?filename=put.yaml';

    const created = await put(url, 'text/yaml', PUT_YAML);
    expect(created.statusCode).toBe(200);
    const first = created.json() as { agentType: { id: string; createdAt: string } };
    expect(first).toMatchObject({ created: true, changed: true, policy: { agentType: 'put-agent' } });
    expect(first.agentType).toEqual({
      id: expect.stringMatching(/^aty_/) as unknown,
      name: 'put-agent',
      owner: 'ops@example.com',
      description: null,
      policy: {
        agentType: 'put-agent',
        owner: 'ops@example.com',
        allow: [{ resource: 'https://api.example', scopes: ['a:read'] }],
      },
      policySource: 'put.yaml',
      policyVersion: 1,
      createdAt: first.agentType.createdAt,
      updatedAt: first.agentType.createdAt,
    });

    const again = await put(url, 'text/yaml', PUT_YAML);
    expect([again.statusCode, again.json()]).toEqual([200, { ...first, created: false, changed: false }]);

    // By id, as JSON: a changed policy gets a new version.
    const changed = await put(
      `/api/v1/broker/agent-types/${first.agentType.id}`,
      'application/json',
      JSON.stringify({
        agentType: 'put-agent',
        owner: 'ops@example.com',
        allow: [{ resource: 'https://api.example', scopes: ['a:write'] }],
      }),
    );
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      created: false,
      changed: true,
      agentType: { id: first.agentType.id, policySource: 'api', policyVersion: 2 },
    });

    const mismatch =
      "is 'put-agent' but the policy is being applied to agent type 'other-agent'; the names must match";
    const wrongYaml = await put(
      '/api/v1/broker/agent-types/other-agent?filename=put.yaml',
      'text/yaml',
      PUT_YAML,
    );
    expect(wrongYaml.statusCode).toBe(400);
    expect(wrongYaml.json()).toEqual({
      code: 'KW_VALIDATION',
      message: `put.yaml:1: agentType: ${mismatch}`,
      details: [{ path: 'put.yaml:1: agentType', message: mismatch }],
      requestId: expect.any(String) as unknown,
    });
    const wrongJson = await put(
      '/api/v1/broker/agent-types/other-agent',
      'application/json',
      JSON.stringify({
        agentType: 'put-agent',
        owner: 'ops@example.com',
        allow: [{ resource: 'https://a.example', scopes: ['x'] }],
      }),
    );
    expect(wrongJson.statusCode).toBe(400);
    expect(wrongJson.json()).toMatchObject({
      code: 'KW_VALIDATION',
      message: `policy.agentType: ${mismatch}`,
      details: [{ path: 'policy.agentType', message: mismatch }],
    });
    expect((await json('GET', '/api/v1/broker/agent-types/other-agent')).statusCode).toBe(404);
    expect((await json('GET', '/api/v1/broker/agent-types/put-agent')).json()).toMatchObject({
      policyVersion: 2,
    });

    const missing = await put('/api/v1/broker/agent-types/aty_missing', 'text/yaml', PUT_YAML);
    expect([missing.statusCode, (missing.json() as { code: string }).code]).toEqual([404, 'KW_NOT_FOUND']);
    const malformed = await put('/api/v1/broker/agent-types/put-agent', 'application/json', '{nope');
    expect([malformed.statusCode, malformed.json()]).toMatchObject([
      400,
      { code: 'KW_VALIDATION', details: [{ path: 'body', message: 'malformed JSON' }] },
    ]);
  });

  it('refuses an invalid policy with 400 naming the line', async () => {
    const res = await t.server.inject({
      method: 'POST',
      url: '/api/v1/broker/agent-types?filename=bad.yaml',
      headers: { ...t.auth, 'content-type': 'text/yaml' },
      payload: 'agentType: bad-agent\nowner: x@example.com\nallow: 3\n',
    });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { message: string }).message).toContain('bad.yaml');
  });

  it('registers an agent (secret shown once), lists agents without secrets and disables one', async () => {
    const res = await json('POST', '/api/v1/broker/agents', {
      agentType: 'tickets-agent',
      name: 'triage',
      withSecret: true,
    });
    expect(res.statusCode).toBe(201);
    const reg = res.json() as { clientId: string; clientSecret: string; agent: { id: string } };
    expect(reg.clientSecret).toMatch(/.{20,}/);

    const list = await json('GET', '/api/v1/broker/agents?agentType=tickets-agent');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(reg.clientSecret);
    expect((list.json() as { items: unknown[] }).items).toHaveLength(1);

    const disabled = await json('POST', `/api/v1/broker/agents/${reg.clientId}/disable`, { reason: 'test' });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ status: 'disabled' });
    expect((await json('GET', '/api/v1/broker/agents?status=disabled')).json()).toMatchObject({
      items: [{ id: reg.agent.id }],
    });
  });

  it('resets a client secret: the new one is shown once and works, the old one stops working', async () => {
    const reg = (
      await json('POST', '/api/v1/broker/agents', {
        agentType: 'tickets-agent',
        name: 'rotating',
        withSecret: true,
      })
    ).json() as { clientId: string; clientSecret: string; agent: { id: string } };
    const token = (secret: string) =>
      t.server.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${reg.clientId}:${secret}`).toString('base64')}`,
        },
        payload: 'grant_type=client_credentials&scope=tickets:read&resource=keyward:upstream:tickets',
      });
    expect((await token(reg.clientSecret)).statusCode).toBe(200);
    const reset = await json('POST', `/api/v1/broker/agents/${reg.clientId}/secret`);
    expect(reset.statusCode).toBe(200);
    const body = reset.json() as {
      clientId: string;
      clientSecret: string;
      clientSecretFingerprint: { preview: string };
    };
    expect(body.clientId).toBe(reg.clientId);
    expect(body.clientSecret).toMatch(/^kwcs_/);
    expect(body.clientSecret).not.toBe(reg.clientSecret);
    expect((await token(reg.clientSecret)).statusCode).toBe(401);
    expect((await token(body.clientSecret)).statusCode).toBe(200);
    const agent = await json('GET', `/api/v1/broker/agents?agentType=tickets-agent`);
    expect(agent.body).not.toContain(body.clientSecret);
    expect((await json('POST', '/api/v1/broker/agents/agt_nope/secret')).statusCode).toBe(404);
  });

  it('answers validation errors with KW_VALIDATION and the field paths', async () => {
    const res = await json('POST', '/api/v1/broker/agents', { agentType: 'tickets-agent', extra: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'KW_VALIDATION' });
    const paths = (res.json() as { details: Array<{ path: string }> }).details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.name']));

    const kind = await json('POST', '/api/v1/broker/revocations', { kind: 'everything', value: 'x' });
    expect(kind.statusCode).toBe(400);
    const decision = await json('POST', '/api/v1/broker/approvals/apr_x/maybe');
    expect(decision.statusCode).toBe(400);
  });

  it('saves upstreams without ever returning the credential', async () => {
    const saved = await json('POST', '/api/v1/broker/upstreams', {
      name: 'tickets',
      baseUrl: 'https://tickets.example',
      auth: { kind: 'bearer' },
      secret: UPSTREAM_SECRET,
      routes: [{ scope: 'tickets:read', methods: ['GET'], paths: ['/tickets/*'] }],
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.body).not.toContain(UPSTREAM_SECRET);
    const list = await json('GET', '/api/v1/broker/upstreams');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(UPSTREAM_SECRET);
    expect(list.json()).toMatchObject({ items: [{ name: 'tickets', secretPreview: expect.any(String) }] });
  });

  it('saves and lists federated issuers', async () => {
    const saved = await json('POST', '/api/v1/broker/federated-issuers', {
      issuer: 'https://token.actions.githubusercontent.com',
      jwksUri: 'https://token.actions.githubusercontent.com/.well-known/jwks',
      audience: 'keyward',
    });
    expect(saved.statusCode).toBe(200);
    expect((await json('GET', '/api/v1/broker/federated-issuers')).json()).toMatchObject({
      items: [{ issuer: 'https://token.actions.githubusercontent.com', audience: 'keyward' }],
    });
  });

  it('revokes, explains, lists approvals and reports usage', async () => {
    const revoked = await json('POST', '/api/v1/broker/revocations', {
      kind: 'jti',
      value: 'some-jti',
      reason: 'test',
    });
    expect(revoked.statusCode).toBe(201);

    const explained = await json(
      'GET',
      '/api/v1/broker/explain?agentType=tickets-agent&scope=tickets:read&resource=keyward:upstream:tickets',
    );
    expect(explained.statusCode).toBe(200);
    expect(explained.json()).toMatchObject({ agentType: { name: 'tickets-agent' } });
    // The rule is named with the line of the YAML text it was applied from (tickets.yaml).
    const body = explained.json() as { text: string; reasons: unknown[] };
    expect(body.reasons).toContainEqual({
      rule: 'allow[0]',
      line: 4,
      outcome: 'allow',
      scope: 'tickets:read',
      message: "resource matches 'keyward:upstream:tickets' and scope matches 'tickets:read'",
    });
    expect(body.text.split('\n').slice(0, 6)).toEqual([
      'Agent type tickets-agent (tickets.yaml)',
      'Resource:  keyward:upstream:tickets',
      'Requested: tickets:read',
      '',
      'Scopes:',
      "  tickets:read  allow  allow[0] (line 4): resource matches 'keyward:upstream:tickets' and scope matches 'tickets:read'",
    ]);

    const approvals = await json('GET', '/api/v1/broker/approvals?status=pending');
    expect(approvals.statusCode).toBe(200);
    expect(approvals.json()).toMatchObject({ items: [] });
    expect((await json('POST', '/api/v1/broker/approvals/apr_missing/approve')).statusCode).toBe(404);

    const usage = await json('GET', '/api/v1/broker/usage?window=7d');
    expect(usage.statusCode).toBe(200);
    expect(usage.json()).toMatchObject({ items: expect.any(Array) });
    expect((await json('GET', '/api/v1/broker/usage?window=forever')).statusCode).toBe(400);
  });
});
