/**
 * Demo activity: what a few weeks of use would have left in a Keyward installation, on top of the demo
 * company's inventory (`inventory.loadDemo`), so that every page of the dashboard has something to show.
 *
 * - the broker: two agent types from policies, an agent of each, tokens issued over the last days
 *   (`broker.token.issued`), three pending approval requests and one approved;
 * - detection: alerts over the last 30 days, two of them acknowledged (their contributing events are the
 *   demo's token events, so an alert's detail lists them);
 * - posture: two findings accepted with a reason (`finding.accepted`);
 * - scans: an npm gate run (`npm.scan.completed`, `npm.package.flagged`, `npm:package` resources), a secret scan
 *   (an `inventory.batch.applied` of kind `secret-scan`), and a dataset signed, verified and scanned.
 *
 * Everything is fictional and goes through the same recorders the real commands use; no secret value is kept
 * (the agents' client secrets are generated and dropped). Times are offsets from now. Call it once, after
 * `loadDemo` on an empty store (`serve --demo` does); it is not idempotent.
 */
import { emptyBatch, type InventoryBatch } from '../core/inventory-batch.js';
import type { NewEvent } from '../core/types.js';
import { recordDatasetRun } from '../datasets/index.js';
import type { Alert } from '../detect/detect-types.js';
import { buildDemoBatches } from '../inventory/index.js';
import { npmReportEvents, npmReportToInventoryBatch } from '../supplychain/index.js';
import type { NpmScanReport } from '../supplychain/npm-report.js';
import type { App } from './app.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What was added. */
export interface DemoActivityResult {
  agents: number;
  tokens: number;
  approvals: { pending: number; decided: number };
  alerts: { stored: number; acknowledged: number };
  acceptedFindings: number;
  scans: { npm: number; secrets: number; datasets: number };
}

/** The two agent types: policies as `keyward broker apply` reads them (names match demo identities). */
const AGENT_POLICIES = [
  {
    agentType: 'support-agent',
    owner: 'farid.haddad@kestrel-dynamics.example',
    description: 'Answers support tickets; refunds need a person',
    allow: [
      { resource: 'https://api.github.com', scopes: ['repo:read', 'issues:write'] },
      {
        resource: 'https://billing.internal.kestrel-dynamics.example',
        scopes: ['invoices:read', 'invoices:refund'],
        approval: ['invoices:refund'],
      },
    ],
  },
  {
    agentType: 'code-review-agent',
    owner: 'mei.tanaka@kestrel-dynamics.example',
    description: 'Reviews pull requests; merging needs a person',
    allow: [
      {
        resource: 'https://api.github.com',
        scopes: ['pull_requests:read', 'pull_requests:write', 'contents:merge'],
        approval: ['contents:merge'],
      },
    ],
  },
] as const;

/** The alerts: a real rule of the built-in pack each, days ago, and whether someone acknowledged it. */
const DEMO_ALERTS: Array<{
  ruleId: string;
  ruleTitle: string;
  level: Alert['level'];
  daysAgo: number;
  summary: string;
  acknowledged?: string;
}> = [
  {
    ruleId: 'keyward-new-network-then-privileged-token',
    ruleTitle: 'Token from a new network, then a privileged token within 10 minutes',
    level: 'high',
    daysAgo: 0,
    summary: 'support-agent-prod got a token from 203.0.113.40 (new), then a token with invoices:refund',
  },
  {
    ruleId: 'aws-access-key-two-countries',
    ruleTitle: 'One AWS access key used from two countries within an hour',
    level: 'high',
    daysAgo: 1,
    summary: 'AKIA…EXAMPLE of ci-deployer signed calls from DE and BR within 40 minutes',
  },
  {
    ruleId: 'github-token-two-countries',
    ruleTitle: 'One GitHub token used from two countries within an hour',
    level: 'high',
    daysAgo: 3,
    summary: 'the classic token of ops-scripts was used from NL and SG within an hour',
    acknowledged: 'the developer was travelling; token rotated',
  },
  {
    ruleId: 'keyward-upstream-401-storm',
    ruleTitle: 'Storm of upstream 401s through the Keyward proxy',
    level: 'medium',
    daysAgo: 6,
    summary: 'upstream billing answered 401 to 14 proxied calls within 5 minutes',
  },
  {
    ruleId: 'keyward-upstream-base-url-changed',
    ruleTitle: 'Keyward upstream base URL changed',
    level: 'critical',
    daysAgo: 12,
    summary:
      'the base URL of upstream billing changed to https://billing-eu.internal.kestrel-dynamics.example',
    acknowledged: 'planned migration to the EU billing cluster (CHG-2291)',
  },
  {
    ruleId: 'aws-access-key-two-countries',
    ruleTitle: 'One AWS access key used from two countries within an hour',
    level: 'low',
    daysAgo: 20,
    summary: 'AKIA…EXAMPLE of terraform-admin used from DE and FR (VPN egress)',
  },
];

/** The findings accepted, by rule, with the reason a person gave. */
const ACCEPTED = [
  {
    ruleId: 'nhi1-identity-unused',
    reason: 'kept for the yearly disaster-recovery drill; reviewed by the platform team',
  },
  {
    ruleId: 'nhi4-static-password',
    reason: 'vendor appliance without token support; replacement ordered (PO-7731)',
  },
  { ruleId: 'nhi7-expiring-soon', reason: 'renewal scheduled with the certificate authority for next week' },
] as const;

/** An npm gate run over the web app's lockfile: three packages, one of them a typosquat. */
function npmReport(): NpmScanReport {
  const pkg = (name: string, version: string, level: 'none' | 'low' | 'high', score: number) => ({
    name,
    version,
    origin: {
      kind: 'registry' as const,
      location: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`,
    },
    level,
    score,
    findings: [] as NpmScanReport['packages'][number]['findings'],
    capabilities: [] as string[],
    stats: { files: 12, jsFiles: 8, jsAnalysed: 8, unparsed: 0, bytes: 48_000 },
    notes: [],
  });
  const typo = pkg('expresss', '4.19.2', 'high', 82);
  typo.capabilities = ['env-read', 'network'];
  typo.findings = [
    {
      id: 'demo-npm-1',
      ruleId: 'npm.metadata.typosquat',
      kind: 'metadata',
      category: 'typosquat',
      severity: 'high',
      baseSeverity: 'medium',
      raisedBecause: 'the package reads the environment and sends it over the network',
      message: 'the name is one edit away from the popular package "express"',
      file: 'package.json',
      line: 2,
      column: 3,
      snippet: '"name": "expresss"',
      contentHash: null,
    },
    {
      id: 'demo-npm-2',
      ruleId: 'npm.threat.env-serialise',
      kind: 'threat',
      category: 'env-serialise',
      severity: 'high',
      baseSeverity: 'medium',
      raisedBecause: 'network access in the same file',
      message: 'serialises process.env and posts it to a remote host at install time',
      file: 'lib/setup.js',
      line: 14,
      column: 5,
      snippet: 'fetch(u, { method: "POST", body: JSON.stringify(process.env) })',
      contentHash: null,
    },
  ];
  const low = pkg('left-pad-ng', '2.0.1', 'low', 12);
  return {
    packages: [pkg('react', '18.3.1', 'none', 0), low, typo],
    inputs: [{ path: 'web/package-lock.json', kind: 'lockfile', packages: 3 }],
    errors: [],
    suppressed: [],
    stats: { packages: 3, files: 36, bytes: 144_000, durationMs: 2100 },
  };
}

/**
 * Adds the demo activity (see the module comment) as of `app.clock.now()`.
 * @example
 * await app.inventory.loadDemo('cli');
 * await loadDemoActivity(app, 'cli');
 */
export async function loadDemoActivity(app: App, actor: string): Promise<DemoActivityResult> {
  const now = app.clock.now();
  const at = (msAgo: number): string => new Date(now.getTime() - msAgo).toISOString();
  const result: DemoActivityResult = {
    agents: 0,
    tokens: 0,
    approvals: { pending: 0, decided: 0 },
    alerts: { stored: 0, acknowledged: 0 },
    acceptedFindings: 0,
    scans: { npm: 0, secrets: 0, datasets: 0 },
  };

  // Broker: agent types, one agent each (the client secret is generated and dropped).
  const agents: Array<{ id: string; agentTypeId: string; clientId: string; name: string }> = [];
  for (const policy of AGENT_POLICIES) {
    await app.broker.applyAgentType({ value: policy, source: `demo/${policy.agentType}.yaml` }, actor);
    const registered = await app.broker.registerAgent(
      policy.agentType,
      { name: `${policy.agentType}-prod`, withSecret: true },
      actor,
    );
    agents.push({
      id: registered.agent.id,
      agentTypeId: registered.agent.agentTypeId,
      clientId: registered.agent.clientId,
      name: registered.agent.name,
    });
  }
  result.agents = agents.length;

  // Tokens issued over the last week, as the token endpoint logs them.
  const tokenEvents: NewEvent[] = [];
  const scopesOf = [
    ['repo:read', 'issues:write'],
    ['pull_requests:read', 'pull_requests:write'],
  ];
  for (let i = 0; i < 24; i++) {
    const a = agents[i % agents.length]!;
    const issued = at((i * 7 + 1) * HOUR);
    const scopes = i === 0 ? ['invoices:read', 'invoices:refund'] : scopesOf[i % agents.length]!;
    tokenEvents.push({
      time: issued,
      type: 'broker.token.issued',
      actor: a.id,
      subject: a.id,
      data: {
        jti: `demo-${String(i).padStart(4, '0')}`,
        agentId: a.id,
        agentTypeId: a.agentTypeId,
        clientId: a.clientId,
        grantType: 'client_credentials',
        authMethod: 'client_secret_basic',
        sub: a.id,
        scopes,
        resource: i === 0 ? 'https://billing.internal.kestrel-dynamics.example' : 'https://api.github.com',
        task: `TASK-${4100 + i}`,
        purpose: i % 2 ? 'review pull request' : 'answer ticket',
        iat: issued,
        exp: new Date(Date.parse(issued) + 5 * 60_000).toISOString(),
        dpopJkt: null,
        policyVersion: 1,
        sourceIp: i === 0 ? '203.0.113.40' : '10.20.0.15',
      },
    });
  }
  // Oldest first: the log is in time order.
  const logged = await app.store.appendEvents(tokenEvents.reverse());
  result.tokens = logged.length;

  // Approvals: three waiting for a person, one approved.
  const support = agents[0]!;
  const review = agents[1]!;
  const requests = [
    {
      agent: support,
      scopes: ['invoices:refund'],
      resource: 'https://billing.internal.kestrel-dynamics.example',
      task: 'TICKET-88213',
      purpose: 'refund a double charge of 49.00 EUR',
    },
    {
      agent: support,
      scopes: ['invoices:refund'],
      resource: 'https://billing.internal.kestrel-dynamics.example',
      task: 'TICKET-88240',
      purpose: 'refund a cancelled order',
    },
    {
      agent: review,
      scopes: ['contents:merge'],
      resource: 'https://api.github.com',
      task: 'PR-1422',
      purpose: 'merge the approved dependency update',
    },
    {
      agent: review,
      scopes: ['contents:merge'],
      resource: 'https://api.github.com',
      task: 'PR-1419',
      purpose: 'merge a reviewed fix',
    },
  ];
  for (const [i, r] of requests.entries()) {
    const approval = await app.store.createApproval(
      {
        agentId: r.agent.id,
        scopes: r.scopes,
        resource: r.resource,
        task: r.task,
        purpose: r.purpose,
        expiresAt: new Date(now.getTime() + 7 * DAY).toISOString(),
      },
      { time: at((4 - i) * 20 * 60_000), actor: r.agent.id },
    );
    if (i === 3) {
      await app.store.decideApproval(approval.id, {
        status: 'approved',
        decidedBy: 'mei.tanaka@kestrel-dynamics.example',
        reason: 'reviewed the diff',
        time: at(5 * 60_000),
      });
      result.approvals.decided++;
    } else result.approvals.pending++;
  }

  // Alerts over the last 30 days; the newest is made of the demo's first token events.
  const alerts: Alert[] = DEMO_ALERTS.map((d, i) => {
    const end = now.getTime() - d.daysAgo * DAY - (i + 1) * HOUR;
    const eventIds = i === 0 ? logged.slice(-2).map((e) => e.id) : [];
    return {
      id: `al_demo_${String(i + 1).padStart(2, '0')}`,
      ruleId: d.ruleId,
      ruleTitle: d.ruleTitle,
      level: d.level,
      tags: ['attack.t1078'],
      groupKey: null,
      windowStart: end - 10 * 60_000,
      windowEnd: end,
      eventIds,
      eventCount: Math.max(eventIds.length, 2),
      summary: d.summary,
    };
  });
  const stored = await app.store.saveAlerts(alerts, {
    source: 'batch',
    time: now.toISOString(),
    targets: [],
  });
  result.alerts.stored = stored.length;
  for (const [i, d] of DEMO_ALERTS.entries()) {
    if (!d.acknowledged) continue;
    await app.store.acknowledgeAlert(alerts[i]!.id, d.acknowledged, {
      time: now.toISOString(),
      actor: 'api:admin',
    });
    result.alerts.acknowledged++;
  }

  // Posture: accept the first finding of a few rules, as a person would.
  for (const a of ACCEPTED) {
    const [f] = (await app.store.listFindings({ ruleId: a.ruleId, status: 'open', limit: 1 })).items;
    if (!f) continue;
    await app.store.setFindingStatus(
      f.id,
      { status: 'accepted', reason: a.reason },
      { time: now.toISOString(), actor: 'api:admin' },
    );
    result.acceptedFindings++;
  }

  // An npm gate run, recorded as `keyward npm scan --record` records it.
  const report = npmReport();
  const scanned = at(2 * HOUR);
  await app.inventory.importBatch(npmReportToInventoryBatch(report, scanned), actor, {
    kind: 'npm-gate',
    command: 'scan',
    packages: report.stats.packages,
  });
  const npmEvents = await app.store.appendEvents(
    npmReportEvents(report, { actor, now: scanned, command: 'scan' }),
  );
  result.scans.npm = npmEvents.filter((e) => e.type === 'npm.scan.completed').length;

  // A secret scan that found the support agent's model key again, where the inventory has it.
  const secretBatch: InventoryBatch = emptyBatch();
  for (const { batch } of buildDemoBatches(app.fingerprinter, now)) {
    const found = batch.credentials.find(
      (c) => c.provider === 'openai' && c.locations?.some((l) => l.kind === 'file'),
    );
    if (found && secretBatch.credentials.length === 0) secretBatch.credentials.push(found);
  }
  // What `keyward scan --record` keeps of its findings (scanEvidence): counts, file, line and preview.
  const evidence = secretBatch.credentials.flatMap((c) =>
    (c.locations ?? [])
      .filter((l) => l.kind === 'file')
      .map((l) => ({
        ruleId: 'openai-api-key',
        severity: 'high',
        file: l.path,
        line: l.line ?? 1,
        preview: c.preview,
      })),
  );
  await app.inventory.importBatch(secretBatch, actor, {
    kind: 'secret-scan',
    findings: evidence.length,
    target: 'services/',
    bySeverity: { low: 0, medium: 0, high: evidence.length, critical: 0 },
    evidence,
  });
  result.scans.secrets = 1;

  // A training dataset: signed by its supplier, verified, then scanned (one credential found in it).
  const dataset = { name: 'support-tickets-2026q3', supplier: 'data-platform@kestrel-dynamics.example' };
  const rootDigest = `sha256:${'5e'.repeat(32)}`;
  const recorder = { store: app.store, importBatch: app.inventory.importBatch };
  await recordDatasetRun(recorder, {
    action: 'signed',
    ...dataset,
    rootDigest,
    result: 'ok',
    actor: 'data-platform',
    time: at(3 * DAY),
    details: { signer: 'kw-dataset-key-1', files: 1240 },
  });
  await recordDatasetRun(recorder, {
    action: 'verified',
    ...dataset,
    rootDigest,
    result: 'ok',
    actor,
    time: at(2 * DAY),
    details: { signer: 'kw-dataset-key-1', problems: 0, added: 0, missing: 0, modified: 0, renamed: 0 },
  });
  await recordDatasetRun(recorder, {
    action: 'scanned',
    ...dataset,
    rootDigest,
    result: 'failed',
    actor,
    time: at(1 * DAY),
    details: { files: 1240, findings: 1, rules: ['openai-api-key'] },
  });
  result.scans.datasets = 3;
  return result;
}
