/** Test support for the dashboard routes: a broker agent with a pending approval, straight through the store. */
import type { Approval } from '../../core/broker-types.js';
import type { Finding } from '../../core/types.js';
import type { Store } from '../../store/index.js';
import { TEST_TIME } from './test-server.js';

/** Creates (once) an agent type and an agent, and returns the agent's id. */
export async function seedAgent(store: Store, time: string, name = 'worker-1'): Promise<string> {
  const { agentType } = await store.upsertAgentType(
    {
      name: 'support-agent',
      owner: 'team-support@example.test',
      // A valid policy document, as the broker stores what it parsed.
      policy: {
        agentType: 'support-agent',
        owner: 'team-support@example.test',
        allow: [{ resource: 'https://api.example.test/*', scopes: ['tickets:read'] }],
      },
      policySource: 'support-agent.yaml',
    },
    { time, actor: 'test' },
  );
  const existing = (await store.listAgents({ agentTypeId: agentType.id })).items.find((a) => a.name === name);
  if (existing) return existing.id;
  const agent = await store.createAgent(
    { agentTypeId: agentType.id, name, auth: { secretHash: null, jwks: null, federated: [] } },
    { time, actor: 'test' },
  );
  return agent.id;
}

/** A pending approval request of the agent, due an hour after `time`. */
export async function seedApproval(store: Store, agentId: string, time: string): Promise<Approval> {
  return store.createApproval(
    {
      agentId,
      scopes: ['tickets:delete'],
      resource: 'https://api.example.test/tickets',
      task: 'TASK-42',
      purpose: 'close duplicate tickets',
      expiresAt: new Date(Date.parse(time) + 3_600_000).toISOString(),
    },
    { time, actor: agentId },
  );
}

/** A posture finding of an identity, first and last seen at TEST_TIME: a long-lived secret, high severity. */
export function testFinding(over: Partial<Finding> & Pick<Finding, 'id' | 'identityId'>): Finding {
  return {
    ruleId: 'NHI7-long-lived',
    owasp: 'NHI7',
    severity: 'high',
    title: 'Long-lived secret',
    message: 'rotate it',
    remediation: 'Rotate the key.',
    credentialId: null,
    evidence: {},
    firstSeenAt: TEST_TIME,
    lastSeenAt: TEST_TIME,
    ...over,
  };
}
