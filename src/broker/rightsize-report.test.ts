import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBrokerPolicy } from './broker-policy-parse.js';
import { computeRightsizing, type RightsizingReport } from './rightsize.js';
import { proposalYamlFile, renderRightsizingText } from './rightsize-report.js';
import { idleType, NOW, supportEvents, supportType, WINDOW } from './rightsize-test-support.js';

function report(): RightsizingReport {
  return computeRightsizing({
    agentTypes: [supportType(), idleType()],
    events: supportEvents(),
    window: WINDOW,
    now: NOW,
  });
}

describe('renderRightsizingText', () => {
  it('prints a table per agent type, then the proposal as a diff', () => {
    expect(renderRightsizingText(report())).toBe(
      `Rightsizing from 2026-05-02T00:00:00Z to 2026-06-01T00:00:00Z.
Scopes added since 2026-05-18T00:00:00Z (the last 14 days) are kept. Times are UTC.

idle-bot: 0 tokens, 0 proxy calls
  rule      scope   resource                 issued  used  last issued  last used  verdict  proposal
  allow[0]  a:read  https://api.example.com       0     0  -            -          unused   keep
  Agents without a token in the window: idle-1 (kwc_idle0001)
  No change proposed: no token was issued to agents of this type in the window, so there is no usage to narrow the policy to.

support-agent: 3 tokens, 3 proxy calls
  rule      scope            resource                          issued  used  last issued       last used         verdict          proposal
  allow[0]  repo:read        keyward:upstream:github                1     2  2026-05-10 09:00  2026-05-10 09:02  used             keep
  allow[0]  issues:write     keyward:upstream:github                1     0  2026-05-10 09:00  -                 issued-not-used  keep
  allow[0]  pulls:write      keyward:upstream:github                0     0  -                 -                 kept-recent      keep
  allow[1]  invoices:read    https://billing.internal.example       1     0  2026-05-20 10:00  -                 issued-not-used  keep
  allow[1]  invoices:refund  https://billing.internal.example       0     0  -                 -                 unused           remove
  allow[2]  docs:*           keyward:upstream:docs                  2     1  2026-05-21 10:00  2026-05-21 10:05  wildcard         replace by docs:read docs:search
              docs:read                                             1     1  2026-05-21 10:00  2026-05-21 10:05  used
              docs:search                                           1     0  2026-05-21 10:00  -                 issued-not-used
  allow[3]  search:query     https://search.internal.example        0     0  -                 -                 kept-recent      keep
  Agents without a token in the window: gamma (kwc_gamma001, disabled)
  Proposed policy:
    --- support-agent (current)
    +++ support-agent (proposed)
    @@ -9,13 +9,10 @@
       - resource: https://billing.internal.example
         scopes:
           - invoices:read
    -      - invoices:refund
    -    approval:
    -      - invoices:refund
    -    approvalTimeout: 10m
       - resource: keyward:upstream:docs
         scopes:
    -      - docs:*
    +      - docs:read
    +      - docs:search
       - resource: https://search.internal.example
         scopes:
           - search:query
`,
    );
  });

  it('lists notes, agent types left out and unreadable events', () => {
    const r = report();
    r.agentTypes = [r.agentTypes[1]!];
    r.agentTypes[0]!.rows[4]!.note = 'kept: a note';
    r.invalidAgentTypes = [
      { id: 'aty_x', name: 'broken', problem: 'policy.allow: expected a list of allow rules' },
    ];
    r.unreadableEvents = 2;
    const text = renderRightsizingText(r);
    expect(text).toContain('\n  Notes:\n    allow[1] invoices:refund: kept: a note\n');
    expect(text).toMatch(
      /\n\nLeft out \(their stored policy could not be read\):\n {2}broken: policy\.allow: expected a list of allow rules\n\n2 token or proxy events in the window could not be read and were not counted\.\n$/,
    );
  });

  it('prints the example shown in docs/broker-rightsize.md', () => {
    const doc = readFileSync(new URL('../../docs/broker-rightsize.md', import.meta.url), 'utf8');
    const block = /```text\n(support-agent: [\s\S]*?)```/.exec(doc)?.[1];
    const text = renderRightsizingText(report());
    expect(text.slice(text.indexOf('support-agent: '))).toBe(block);
  });

  it('says when there is nothing to report', () => {
    const empty = computeRightsizing({ agentTypes: [], events: [], window: WINDOW, now: NOW });
    expect(renderRightsizingText(empty)).toBe(
      'Rightsizing from 2026-05-02T00:00:00Z to 2026-06-01T00:00:00Z.\n' +
        'Scopes added since 2026-05-18T00:00:00Z (the last 14 days) are kept. Times are UTC.\n\nNo agent types.\n',
    );
  });
});

describe('proposalYamlFile', () => {
  it('writes the proposed policy as a file that parses back to the proposal', () => {
    const r = report();
    const support = r.agentTypes[1]!;
    const text = proposalYamlFile(r, support)!;
    expect(text.split('\n').slice(0, 3)).toEqual([
      '# Proposed by keyward rightsize for support-agent from its usage 2026-05-02T00:00:00Z to 2026-06-01T00:00:00Z.',
      '# Review it, then apply it with: keyward agent-types apply <this file>',
      'agentType: support-agent',
    ]);
    expect(parseBrokerPolicy('support.yaml', text).document).toEqual(support.proposal.document);
    expect(proposalYamlFile(r, r.agentTypes[0]!)).toBeNull();
  });
});
