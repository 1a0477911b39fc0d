/**
 * The broker's admin API under /api/v1/broker: agent types (policies), agents, federated issuers, approvals,
 * revocations, explain, upstreams and usage. Thin handlers over `app.broker`; the route table in server-routes.ts
 * includes these, so they get the admin token, validation, the error handler and OpenAPI like every other route.
 */
import { z } from 'zod';
import { loadUsageTotals, parseWindow, usageByAgent, windowEndingAt } from '../broker/index.js';
import { AGENT_STATUSES, APPROVAL_STATUSES, REVOCATION_KINDS } from '../core/broker-types.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { route, type ApiRoute, type RouteContext, type RouteDef } from './server-routes.js';

const PREFIX = '/api/v1/broker';
const TAG = 'broker';
const NOT_FOUND = [404];

/** Declares a broker route: tagged `broker`, behind the admin token. */
function brokerRoute<
  PS extends z.ZodObject | undefined = undefined,
  QS extends z.ZodObject | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
>(def: Omit<RouteDef<PS, QS, BS>, 'tag' | 'auth'>): ApiRoute {
  return route<PS, QS, BS>({ tag: TAG, auth: true, ...def });
}

const name = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u0008\u000a-\u001f\u007f]*$/, 'must not contain control characters');
const limit = z.coerce.number().int().min(1).max(1000).optional().describe('Page size, 1–1000 (default 100)');
const offset = z.coerce.number().int().min(0).optional().describe('How many to skip (default 0)');
const anyObject = z.record(z.string(), z.unknown());

const refParams = z.strictObject({ id: name(200).describe('Id, name or client id') });
const pageOnly = z.strictObject({ limit, offset });
const agentListQuery = z.strictObject({
  agentType: name(200).optional().describe('Only agents of this agent type (id or name)'),
  status: z.enum(AGENT_STATUSES).optional().describe('Only agents with this status'),
  limit,
  offset,
});
const registerAgentBody = z.strictObject({
  agentType: name(200).describe('The agent type (id or name)'),
  name: name(200).describe('The agent’s name'),
  withSecret: z.boolean().optional().describe('Issue a client secret (shown once in the answer)'),
  jwks: anyObject.optional().describe('Public keys for private_key_jwt'),
  federated: z.array(anyObject).optional().describe('Workload-token bindings: { issuer, claims }'),
});
const disableAgentBody = z
  .strictObject({
    reason: name(500).optional().describe('Why, recorded with the revocation'),
    revokeTokens: z.boolean().optional().describe('Revoke the tokens it holds (default true)'),
  })
  .optional();
const federatedIssuerBody = z.strictObject({
  issuer: name(2000).describe('The issuer URL (iss of its tokens)'),
  jwksUri: name(2000).nullable().optional().describe('Where its keys are published'),
  jwks: anyObject.nullable().optional().describe('Its public keys inline'),
  audience: name(2000).describe('The audience its tokens must carry for Keyward'),
});
const approvalListQuery = z.strictObject({
  status: z.enum(APPROVAL_STATUSES).optional().describe('Only requests with this status'),
  agentId: name(200).optional().describe('Only requests of this agent'),
  limit,
  offset,
});
const decisionParams = z.strictObject({
  id: name(200).describe('Approval request id'),
  decision: z.enum(['approve', 'deny']).describe('approve or deny'),
});
const decisionBody = z
  .strictObject({ reason: name(1000).optional().describe('Why, recorded with the decision') })
  .optional();
const revocationBody = z.strictObject({
  kind: z.enum(REVOCATION_KINDS).describe('What to revoke by'),
  value: name(500).describe('The jti, agent id, agent type, task, or ISO-8601 time (issued-before)'),
  reason: name(1000).optional().describe('Why, recorded with the revocation'),
});
const explainQuery = z.strictObject({
  agent: name(200).optional().describe('Agent id or client id (or give agentType)'),
  agentType: name(200).optional().describe('Agent type id or name (or give agent)'),
  scope: name(2000).describe('Space-separated scopes'),
  resource: name(2000).describe('The resource (audience) asked for'),
  sourceIp: name(100).optional().describe('The client address to evaluate conditions with'),
  at: name(100).optional().describe('Evaluate at this time (ISO-8601)'),
});
const usageQuery = z.strictObject({
  window: name(20).optional().describe('How far back, such as 30d or 12h (default 30d)'),
});
const applyQuery = z.strictObject({
  filename: name(255)
    .optional()
    .describe('Name of the policy file, for error locations (default policy.yaml)'),
});

const POLICY_BODY =
  'The policy: a JSON object (application/json) or the YAML or JSON file as text (text/*, application/octet-stream)';

/**
 * Applies the policy in a request body: JSON (application/json, kept with its text, source `api`) or a file as
 * text, named by `?filename=`. With `expectedAgentType`, the policy must be for that agent type.
 */
async function applyPolicyBody(
  {
    app,
    query,
    body,
    request,
    actor,
  }: RouteContext<unknown, z.output<typeof applyQuery>, Buffer | undefined>,
  expectedAgentType?: string,
): Promise<unknown> {
  const text = (body as Buffer).toString('utf8');
  const expected = expectedAgentType === undefined ? {} : { expectedAgentType };
  const type = String(request.headers['content-type'] ?? '');
  if (/^application\/json\b/i.test(type)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ValidationError('the request body is not valid JSON', {
        details: [{ path: 'body', message: 'malformed JSON' }],
      });
    }
    return app.broker.applyAgentType({ value, source: 'api', text, ...expected }, actor);
  }
  return app.broker.applyAgentType({ fileName: query.filename ?? 'policy.yaml', text, ...expected }, actor);
}

/** The broker's admin routes. */
export const BROKER_API_ROUTES: readonly ApiRoute[] = [
  brokerRoute({
    operationId: 'applyAgentType',
    method: 'POST',
    path: `${PREFIX}/agent-types`,
    summary: 'Create or update an agent type from its policy',
    description:
      'The body is the policy: a JSON object (Content-Type application/json) or the YAML file as text (text/*, application/octet-stream). ' +
      'It is validated in full (errors name file:line and the field path); an unchanged policy writes nothing.',
    query: applyQuery,
    rawBody: true,
    rawBodyDescription: POLICY_BODY,
    response: { status: 200, description: 'The stored agent type', schema: anyObject },
    handler: async (ctx) => applyPolicyBody(ctx),
  }),
  brokerRoute({
    operationId: 'putAgentType',
    method: 'PUT',
    path: `${PREFIX}/agent-types/:id`,
    summary: 'Create or update the agent type named in the path from its policy (idempotent)',
    description:
      'As POST /agent-types, for the agent type the path names (its name, or the id of an existing one): the policy’s agentType must be that name, ' +
      'else 400 naming the agentType field. Sending the same policy again writes nothing (changed: false).',
    params: refParams,
    query: applyQuery,
    rawBody: true,
    rawBodyDescription: POLICY_BODY,
    response: {
      status: 200,
      description: 'The stored agent type; created says whether it is new',
      schema: anyObject,
    },
    errors: NOT_FOUND,
    handler: async (ctx) => {
      const ref = ctx.params.id;
      let expected = ref;
      if (ref.startsWith('aty_')) {
        const type = await ctx.app.broker.getAgentType(ref);
        if (!type) throw new NotFoundError(`no agent type "${ref}"`);
        expected = type.name;
      }
      return applyPolicyBody(ctx, expected);
    },
  }),
  brokerRoute({
    operationId: 'listAgentTypes',
    method: 'GET',
    path: `${PREFIX}/agent-types`,
    summary: 'List agent types',
    query: pageOnly,
    response: { status: 200, description: 'A page of agent types', schema: anyObject },
    handler: async ({ app, query }) => app.broker.listAgentTypes(query),
  }),
  brokerRoute({
    operationId: 'getAgentType',
    method: 'GET',
    path: `${PREFIX}/agent-types/:id`,
    summary: 'One agent type with its policy',
    params: refParams,
    response: { status: 200, description: 'The agent type', schema: anyObject },
    errors: NOT_FOUND,
    handler: async ({ app, params }) => {
      const type = await app.broker.getAgentType(params.id);
      if (!type) throw new NotFoundError(`no agent type "${params.id}"`);
      return type;
    },
  }),
  brokerRoute({
    operationId: 'registerAgent',
    method: 'POST',
    path: `${PREFIX}/agents`,
    summary: 'Register an agent; its client secret, when asked for, is in this answer only',
    body: registerAgentBody,
    response: { status: 201, description: 'The agent, its client id and secret', schema: anyObject },
    errors: NOT_FOUND,
    handler: async ({ app, body, actor }) => {
      const { agentType, withSecret, jwks, federated, ...rest } = body;
      return app.broker.registerAgent(
        agentType,
        {
          ...rest,
          withSecret: withSecret ?? false,
          ...(jwks === undefined ? {} : { jwks }),
          ...(federated === undefined ? {} : { federated: federated as never }),
        },
        actor,
      );
    },
  }),
  brokerRoute({
    operationId: 'listAgents',
    method: 'GET',
    path: `${PREFIX}/agents`,
    summary: 'List agents (never their secrets)',
    query: agentListQuery,
    response: { status: 200, description: 'A page of agents', schema: anyObject },
    errors: NOT_FOUND,
    handler: async ({ app, query }) => app.broker.listAgents(query),
  }),
  brokerRoute({
    operationId: 'disableAgent',
    method: 'POST',
    path: `${PREFIX}/agents/:id/disable`,
    summary: 'Disable an agent and revoke the tokens it holds',
    params: refParams,
    body: disableAgentBody,
    response: { status: 200, description: 'The agent', schema: anyObject },
    errors: NOT_FOUND,
    handler: async ({ app, params, body, actor }) =>
      app.broker.disableAgent(params.id, actor, {
        ...(body?.reason === undefined ? {} : { reason: body.reason }),
        ...(body?.revokeTokens === undefined ? {} : { revokeTokens: body.revokeTokens }),
      }),
  }),
  brokerRoute({
    operationId: 'resetAgentSecret',
    method: 'POST',
    path: `${PREFIX}/agents/:id/secret`,
    summary:
      'Replace an agent’s client secret; the new one is in this answer only, the old one stops working',
    params: refParams,
    response: { status: 200, description: 'The agent, its client id and the new secret', schema: anyObject },
    errors: NOT_FOUND,
    handler: async ({ app, params, actor }) => {
      const r = await app.broker.resetClientSecret(params.id, actor);
      return {
        agent: r.agent,
        clientId: r.clientId,
        clientSecret: r.clientSecret,
        clientSecretFingerprint: r.clientSecretFingerprint,
      };
    },
  }),
  brokerRoute({
    operationId: 'saveFederatedIssuer',
    method: 'POST',
    path: `${PREFIX}/federated-issuers`,
    summary: 'Trust a workload-token issuer (GitHub Actions, Kubernetes, any OIDC issuer)',
    body: federatedIssuerBody,
    response: { status: 200, description: 'The stored issuer', schema: anyObject },
    handler: async ({ app, body, actor }) => app.broker.saveFederatedIssuer(body, actor),
  }),
  brokerRoute({
    operationId: 'listFederatedIssuers',
    method: 'GET',
    path: `${PREFIX}/federated-issuers`,
    summary: 'List trusted workload-token issuers',
    response: { status: 200, description: 'The issuers', schema: anyObject },
    handler: async ({ app }) => ({ items: await app.broker.listFederatedIssuers() }),
  }),
  brokerRoute({
    operationId: 'listApprovals',
    method: 'GET',
    path: `${PREFIX}/approvals`,
    summary: 'List approval requests, newest first',
    query: approvalListQuery,
    response: { status: 200, description: 'A page of approval requests', schema: anyObject },
    handler: async ({ app, query }) => app.broker.listApprovals(query),
  }),
  brokerRoute({
    operationId: 'decideApproval',
    method: 'POST',
    path: `${PREFIX}/approvals/:id/:decision`,
    summary: 'Approve or deny a pending request (the approver is the admin token’s actor)',
    params: decisionParams,
    body: decisionBody,
    response: { status: 200, description: 'The decided request', schema: anyObject },
    errors: [404, 409],
    handler: async ({ app, params, body, actor }) =>
      app.broker.decideApproval(params.id, params.decision, actor, body?.reason ?? null),
  }),
  brokerRoute({
    operationId: 'revokeTokens',
    method: 'POST',
    path: `${PREFIX}/revocations`,
    summary: 'Revoke tokens by jti, agent, agent type, task, or issue time',
    body: revocationBody,
    response: { status: 201, description: 'The revocation', schema: anyObject },
    errors: NOT_FOUND,
    handler: async ({ app, body, actor }) => app.broker.revoke(body, actor),
  }),
  brokerRoute({
    operationId: 'explainBrokerDecision',
    method: 'GET',
    path: `${PREFIX}/explain`,
    summary: 'Which rule allows or denies each requested scope, and why',
    query: explainQuery,
    response: { status: 200, description: 'The explanation', schema: anyObject },
    errors: NOT_FOUND,
    handler: async ({ app, query }) => app.broker.explain(query),
  }),
  brokerRoute({
    operationId: 'saveUpstream',
    method: 'POST',
    path: `${PREFIX}/upstreams`,
    summary: 'Save an API behind the credential-injecting proxy (the credential is never returned)',
    description:
      'The body is the upstream definition with its credential in `secret`; the credential is sealed and only its fingerprint and preview are kept readable.',
    body: anyObject,
    response: { status: 200, description: 'The upstream without its credential', schema: anyObject },
    handler: async ({ app, body, actor }) => app.broker.saveUpstream(body, actor),
  }),
  brokerRoute({
    operationId: 'listUpstreams',
    method: 'GET',
    path: `${PREFIX}/upstreams`,
    summary: 'List upstreams (fingerprints and previews, never credentials)',
    response: { status: 200, description: 'The upstreams', schema: anyObject },
    handler: async ({ app }) => ({ items: await app.broker.listUpstreams() }),
  }),
  brokerRoute({
    operationId: 'brokerUsage',
    method: 'GET',
    path: `${PREFIX}/usage`,
    summary: 'Per agent: last use, scopes used and calls per upstream in a window',
    query: usageQuery,
    response: { status: 200, description: 'Usage by agent', schema: anyObject },
    handler: async ({ app, query }) => {
      const window = windowEndingAt(app.clock.now(), parseWindow(query.window ?? '30d', 'window'));
      const totals = await loadUsageTotals(app.store, { window });
      return { window, items: usageByAgent(totals) };
    },
  }),
];
