/**
 * Routes the web dashboard reads: the overview (posture score, counts, charts' data, the riskiest identities
 * and the credentials that are due), an identity's broker token activity, and the latest scan results.
 */
import { z } from 'zod';
import { OWASP_NHI_IDS } from '../core/types.js';
import { buildOverview } from './dashboard-overview.js';
import { latestScans } from './dashboard-scans.js';
import { identityTokens } from './dashboard-tokens.js';
import { identityRefParams } from './server-schemas.js';
import { route, type ApiRoute } from './server-routes.js';
import { apiSchemaRegistry } from './server-schemas.js';

const TAG = 'dashboard';
// Not API_PREFIX: server-routes.ts imports this module, so its constants are not initialised yet here.
const PREFIX = '/api/v1';
const count = z.number().int().min(0);
const severityCounts = {
  critical: count,
  high: count,
  medium: count,
  low: count,
  info: count,
};

/** GET /overview. */
export const overviewSchema = z.object({
  postureScore: z
    .number()
    .int()
    .min(0)
    .max(100)
    .describe('100 minus the mean severity weight of open findings per identity (docs/posture.md)'),
  counts: z.object({
    identities: count,
    credentials: count,
    openFindings: count.describe('Findings with status open'),
    openAlerts: count.describe('Alerts not acknowledged'),
    pendingApprovals: count,
  }),
  findingsByOwasp: z
    .array(z.object({ owasp: z.enum(OWASP_NHI_IDS), title: z.string(), ...severityCounts }))
    .describe('Open findings of each OWASP NHI Top 10 category, NHI1 to NHI10'),
  findingsBySeverity: z.object(severityCounts).describe('Open findings by severity'),
  identitiesByRisk: z
    .object({ critical: count, high: count, medium: count, low: count, none: count })
    .describe(
      'Identities by risk score: critical ≥ 80, high 60–79, medium 40–59, low 1–39, none 0 or unscored',
    ),
  alertsOverTime: z
    .array(
      z.object({
        day: z.string().describe('YYYY-MM-DD (UTC)'),
        total: count,
        critical: count,
        high: count,
        medium: count,
        low: count,
        informational: count,
      }),
    )
    .describe('Alerts by the day their window ended, the last 30 UTC days (today included), oldest first'),
  riskiestIdentities: z
    .array(
      z.object({
        id: z.string(),
        name: z.string(),
        kind: z.string(),
        provider: z.string(),
        environment: z.string().nullable(),
        owner: z.string().nullable(),
        riskScore: z.number().nullable(),
        openFindings: count,
      }),
    )
    .describe('The 10 identities with the highest risk score (above 0)'),
  credentialsDue: z
    .array(
      z.object({
        id: z.string(),
        identityId: z.string(),
        identityName: z.string(),
        type: z.string(),
        preview: z.string().describe('Redacted preview, never the value'),
        expiresAt: z.string().nullable(),
        lastRotatedAt: z.string().nullable(),
        due: z.enum(['expired', 'expiring', 'rotation-overdue']),
        days: count.describe(
          'expired: days since expiry; expiring: days left; rotation-overdue: days past the 90-day rotation',
        ),
      }),
    )
    .describe(
      'Active credentials: expired, expiring within 14 days, or not rotated for more than 90 days; most urgent first, at most 50',
    ),
});
apiSchemaRegistry.add(overviewSchema, { id: 'Overview' });

/** GET /identities/{id}/tokens. */
export const identityTokensSchema = z.object({
  agentIds: z
    .array(z.string())
    .describe(
      'Broker agents linked to the identity: its agent type or the agent has the identity name, or attributes.brokerAgentIds lists it',
    ),
  tokensIssued: count.describe('Tokens issued to those agents in the last 30 days'),
  scopesGranted: z.array(z.string()).describe("Scopes (or patterns) their agent types' policies allow"),
  scopesUsed: z.array(z.string()).describe('Scopes the tokens of the last 30 days carried'),
  recent: z
    .array(
      z.object({
        time: z.string(),
        jti: z.string(),
        scope: z.string().describe('Space-separated scopes'),
        audience: z.string().nullable().describe('The resource the token is for'),
        expiresAt: z.string().optional(),
      }),
    )
    .describe('The last 20 tokens, newest first'),
});
apiSchemaRegistry.add(identityTokensSchema, { id: 'IdentityTokens' });

const scanSummarySchema = z.object({
  seq: z.number().int().describe('The event log record it was read from'),
  time: z.string(),
  actor: z.string(),
  kind: z.enum(['npm', 'secrets', 'datasets']),
  type: z.string().describe('The event type'),
  target: z.string().nullable().describe('What was scanned (lockfile paths, scanned paths, the dataset)'),
  result: z
    .record(z.string(), z.unknown())
    .describe('The recorded event data: counts, verdicts, findings with evidence; never a secret value'),
});
apiSchemaRegistry.add(scanSummarySchema, { id: 'ScanSummary' });

/** GET /scans/latest. */
export const latestScansSchema = z.object({
  npm: scanSummarySchema.nullable().describe('The newest npm gate run, with `result.flagged` packages'),
  secrets: scanSummarySchema.nullable().describe('The newest recorded secret scan'),
  datasets: scanSummarySchema.nullable().describe('The newest dataset verification or scan'),
  recent: z.array(scanSummarySchema).describe('The last 20 scans of every kind, newest first'),
});
apiSchemaRegistry.add(latestScansSchema, { id: 'LatestScans' });

/** The dashboard routes. */
export const DASHBOARD_API_ROUTES: readonly ApiRoute[] = [
  route({
    operationId: 'getOverview',
    method: 'GET',
    path: `${PREFIX}/overview`,
    tag: TAG,
    summary:
      'The overview: posture score, counts, findings, alerts per day, riskiest identities, credentials due',
    auth: true,
    response: { status: 200, description: 'The overview', schema: overviewSchema },
    handler: async ({ app }) => buildOverview(app.store, app.clock.now()),
  }),
  route({
    operationId: 'getIdentityTokens',
    method: 'GET',
    path: `${PREFIX}/identities/:id/tokens`,
    tag: TAG,
    summary: "An identity's broker token activity: linked agents, tokens issued, scopes granted and used",
    description:
      '`{id}` is the identity id or its exact name. An identity no broker agent is linked to answers zeros and empty lists.',
    auth: true,
    params: identityRefParams,
    response: { status: 200, description: 'The token activity', schema: identityTokensSchema },
    errors: [404],
    handler: async ({ app, params }) =>
      identityTokens(app, await app.inventory.resolveIdentity(params.id), app.clock.now()),
  }),
  route({
    operationId: 'getLatestScans',
    method: 'GET',
    path: `${PREFIX}/scans/latest`,
    tag: TAG,
    summary: 'The newest recorded npm, secret and dataset scans, and the recent ones',
    description:
      'Read from the event log: `npm.scan.completed` (with the `npm.package.flagged` records of the run), `inventory.batch.applied` of a `secret-scan` source, `dataset.verified` and `dataset.scanned`.',
    auth: true,
    response: { status: 200, description: 'The latest scans', schema: latestScansSchema },
    handler: async ({ app }) => latestScans(app.store),
  }),
];
