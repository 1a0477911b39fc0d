import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import type { BrokerPolicy } from './broker-policy.js';
import { MAX_POLICY_CHARS, parseBrokerPolicy, parseBrokerPolicyValue } from './broker-policy-parse.js';
import { policyToDocument } from './broker-policy-schema.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'policies');
const read = (kind: 'valid' | 'broken', name: string) => readFileSync(join(fixtures, kind, name), 'utf8');
const parseFixture = (name: string, options = {}) => parseBrokerPolicy(name, read('valid', name), options);

/** The ValidationError a parse throws, or a failure when it parses. */
function parseError(run: () => unknown): ValidationError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected the policy to be refused');
}

const SUPPORT_AGENT: BrokerPolicy = {
  agentType: 'support-agent',
  owner: 'farid@example.com',
  description: 'Answers support tickets',
  tokens: {
    maxTtlSeconds: 900,
    defaultTtlSeconds: 300,
    requireDpop: true,
    requireClaims: ['task', 'purpose'],
  },
  allow: [
    {
      resource: 'https://api.github.com',
      scopes: ['repo:read', 'issues:write'],
      approval: [],
      approvalTimeoutSeconds: null,
      description: null,
    },
    {
      resource: 'https://billing.internal.example',
      scopes: ['invoices:read', 'invoices:refund'],
      approval: ['invoices:refund'],
      approvalTimeoutSeconds: 600,
      description: null,
    },
    {
      resource: 'https://*.internal.example/*',
      scopes: ['docs:*'],
      approval: [],
      approvalTimeoutSeconds: null,
      description: null,
    },
  ],
  deny: [{ resource: '*', scopes: ['admin:*'], description: null }],
  conditions: {
    sourceCidrs: ['10.0.0.0/8', '192.168.1.0/24', '::1/128'],
    timeWindows: [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00', timezone: 'Europe/Berlin' },
    ],
  },
  exchange: { allowed: true, maxChainDepth: 2, subjectIssuers: ['https://keyward.example'] },
};

describe('parseBrokerPolicy: valid policies', () => {
  it('reads the YAML example into the normalised model', () => {
    const { policy, source } = parseFixture('support-agent.yaml');
    expect(policy).toEqual(SUPPORT_AGENT);
    expect(source.fileName).toBe('support-agent.yaml');
    expect(source.lines).toMatchObject({
      agentType: 2,
      'tokens.maxTtl': 6,
      'tokens.requireDpop': 8,
      'tokens.requireClaims': 9,
      allow: 10,
      'allow[0]': 11,
      'allow[1]': 13,
      'allow[1].approval': 15,
      'allow[2]': 17,
      'deny[0]': 20,
      'conditions.sourceCidrs': 23,
      'conditions.timeWindows': 24,
      'conditions.timeWindows[0]': 24,
      'exchange.maxChainDepth': 27,
    });
  });

  it('reads the same policy from JSON, with JSON lines', () => {
    const { policy, source } = parseFixture('support-agent.json');
    expect(policy).toEqual(SUPPORT_AGENT);
    expect(source.lines).toMatchObject({
      agentType: 2,
      'tokens.requireDpop': 8,
      'allow[0]': 12,
      'allow[1]': 13,
      'allow[1].approval': 16,
      'deny[0]': 21,
    });
  });

  it('fills in defaults: 15m max, defaultTtl = maxTtl up to 15m, no conditions, no exchange', () => {
    const { policy } = parseFixture('minimal.yaml');
    expect(policy).toEqual({
      agentType: 'ci-deployer',
      owner: 'platform-team',
      description: null,
      tokens: { maxTtlSeconds: 900, defaultTtlSeconds: 900, requireDpop: false, requireClaims: [] },
      allow: [
        {
          resource: 'https://deploy.internal.example',
          scopes: ['deploy:staging'],
          approval: [],
          approvalTimeoutSeconds: null,
          description: null,
        },
      ],
      deny: [],
      conditions: { sourceCidrs: null, timeWindows: null },
      exchange: { allowed: false, maxChainDepth: 1, subjectIssuers: [] },
    });
  });

  it('caps the default lifetime at 15m when maxTtl is longer, and defaults the time zone to UTC', () => {
    const { policy } = parseFixture('night-batch.yaml');
    expect(policy.tokens).toEqual({
      maxTtlSeconds: 7200,
      defaultTtlSeconds: 900,
      requireDpop: false,
      requireClaims: ['task'],
    });
    expect(policy.conditions.timeWindows).toEqual([
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '06:00', timezone: 'UTC' },
    ]);
    expect(policy.allow[0]!.description).toBe('All report scopes');
    expect(policy.exchange).toEqual({
      allowed: true,
      maxChainDepth: 3,
      subjectIssuers: ['https://keyward.example', 'https://token.actions.githubusercontent.com'],
    });
  });

  it('freezes what it returns', () => {
    const { policy, source } = parseFixture('support-agent.yaml');
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.allow[0]!.scopes)).toBe(true);
    expect(Object.isFrozen(source.lines)).toBe(true);
  });

  it('checks the agent type name when the caller names the type it applies the policy to', () => {
    expect(parseFixture('support-agent.yaml', { expectedAgentType: 'support-agent' }).policy.agentType).toBe(
      'support-agent',
    );
    const err = parseError(() => parseFixture('support-agent.yaml', { expectedAgentType: 'billing-agent' }));
    expect(err.message).toBe(
      "support-agent.yaml:2: agentType: is 'support-agent' but the policy is being applied to agent type 'billing-agent'; the names must match",
    );
  });

  it('round-trips through policyToDocument, as YAML and as a value', () => {
    for (const name of ['support-agent.yaml', 'minimal.yaml', 'night-batch.yaml']) {
      const { policy } = parseFixture(name);
      const doc = policyToDocument(policy);
      expect(parseBrokerPolicy('again.yaml', stringify(doc)).policy).toEqual(policy);
      expect(parseBrokerPolicyValue(JSON.parse(JSON.stringify(doc))).policy).toEqual(policy);
    }
  });
});

describe('parseBrokerPolicy: broken policies', () => {
  // Every file under fixtures/policies/broken, with the exact message a person sees.
  const cases: Record<string, string> = {
    'agent-type-name.yaml':
      'agent-type-name.yaml:1: agentType: must be lower-case letters, digits and single hyphens, such as support-agent',
    'approval-not-allowed.yaml':
      "approval-not-allowed.yaml:6: allow[0].approval[0]: 'invoices:refund' is not one of this rule's scopes; list it under scopes too (approval only marks allowed scopes)",
    'bad-time.yaml':
      'bad-time.yaml:8: conditions.timeWindows[0].days[1]: expected one of mon, tue, wed, thu, fri, sat, sun (and 2 more problems)',
    'bad-timezone.yaml':
      'bad-timezone.yaml:11: conditions.timeWindows[0].timezone: unknown time zone; use an IANA name such as Europe/Berlin or UTC',
    'cidr-host-bits.yaml':
      'cidr-host-bits.yaml:9: conditions.sourceCidrs[1]: has bits set after the /24 prefix; did you mean 192.168.1.0/24?',
    'cidr-ipv6-prefix.yaml':
      'cidr-ipv6-prefix.yaml:7: conditions.sourceCidrs[1]: the prefix length must be a whole number from 0 to 128',
    'cidr-not-an-address.yaml':
      'cidr-not-an-address.yaml:7: conditions.sourceCidrs[0]: expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32',
    'default-over-implicit-max.yaml':
      'default-over-implicit-max.yaml:4: tokens.defaultTtl: 1h is longer than tokens.maxTtl (15m, the default); shorten defaultTtl or raise maxTtl',
    'default-over-max.yaml':
      'default-over-max.yaml:5: tokens.defaultTtl: 30m is longer than tokens.maxTtl (15m); shorten defaultTtl or raise maxTtl',
    'duplicate-key.yaml': 'duplicate-key.yaml:6:1: invalid YAML: Map keys must be unique',
    'duration-no-unit.yaml':
      'duration-no-unit.yaml:4: tokens.maxTtl: expected a duration with a unit, such as 90s, 15m or 1h30m, got a number',
    'duration-words.yaml':
      "duration-words.yaml:4: tokens.maxTtl: '15 minutes' is not a duration; expected a duration with a unit, such as 90s, 15m or 1h30m",
    'empty-scope.yaml': 'empty-scope.yaml:12: allow[1].scopes[0]: must not be empty',
    'empty-window.yaml':
      'empty-window.yaml:7: conditions.timeWindows[0].to: equals from, so the window is empty; for a whole day write from: "00:00" and to: "24:00"',
    'empty.yaml': 'empty.yaml: the file is empty; expected a policy (agentType, owner, allow, …)',
    'exchange-without-issuers.yaml':
      'exchange-without-issuers.yaml:6: exchange: allowed is true, so subjectIssuers must list the issuers whose tokens may be exchanged (and 1 more problem)',
    'json-bad-field.json':
      "json-bad-field.json:8: allow[0].approval[0]: 'repo:write' is not one of this rule's scopes; list it under scopes too (approval only marks allowed scopes)",
    'json-missing-comma.json': 'json-missing-comma.json:4:3: invalid JSON: Missing , between flow map items',
    'many-problems.yaml': 'many-problems.yaml:2: owner: must not be empty (and 5 more problems)',
    'max-ttl-over-cap.yaml':
      'max-ttl-over-cap.yaml:4: tokens.maxTtl: must be at most 24h (the broker never issues longer-lived tokens)',
    'missing-allow.yaml': 'missing-allow.yaml:1: allow: is required',
    'not-a-mapping.yaml':
      'not-a-mapping.yaml:1: expected a mapping of policy fields (agentType, owner, allow, …), got a list',
    'relative-resource.yaml':
      'relative-resource.yaml:4: allow[0].resource: the resource must be an absolute URI such as https://api.example.com (RFC 8707) (and 1 more problem)',
    'scope-with-space.yaml':
      'scope-with-space.yaml:5: allow[0].scopes[0]: must be a scope: printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)',
    'unknown-field.yaml': 'unknown-field.yaml:4: allow[0].scopes: is required (and 1 more problem)',
    'yaml-syntax.yaml':
      'yaml-syntax.yaml:6:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  };

  it('has a case for every broken fixture', () => {
    expect(readdirSync(join(fixtures, 'broken')).sort()).toEqual(Object.keys(cases).sort());
  });

  it.each(Object.entries(cases))('%s', (name, message) => {
    const err = parseError(() => parseBrokerPolicy(name, read('broken', name)));
    expect(err.message).toBe(message);
    expect(err.code).toBe('KW_VALIDATION');
    expect(`${err.details[0]!.path}: ${err.details[0]!.message}`).toBe(
      message.replace(/ \(and \d+ more problems?\)$/, ''),
    );
  });

  it('lists every problem in file order', () => {
    const err = parseError(() =>
      parseBrokerPolicy('many-problems.yaml', read('broken', 'many-problems.yaml')),
    );
    expect(err.details).toEqual([
      { path: 'many-problems.yaml:2: owner', message: 'must not be empty' },
      { path: 'many-problems.yaml:4: tokens.requireDpop', message: 'expected true or false, got text' },
      { path: 'many-problems.yaml:5: tokens.requireClaims[1]', message: 'expected one of task, purpose' },
      { path: 'many-problems.yaml:8: allow[0].scopes', message: 'must list at least one scope' },
      {
        path: 'many-problems.yaml:11: deny[0].scopes[1]',
        message: "'admin:*' is listed twice (also at [0])",
      },
      {
        path: 'many-problems.yaml:12: extra',
        message:
          'unknown field; the fields here are agentType, owner, description, tokens, allow, deny, conditions, exchange',
      },
    ]);
  });

  it('suggests the field a misspelt one was meant to be', () => {
    const err = parseError(() =>
      parseBrokerPolicy('unknown-field.yaml', read('broken', 'unknown-field.yaml')),
    );
    expect(err.details).toEqual([
      { path: 'unknown-field.yaml:4: allow[0].scopes', message: 'is required' },
      { path: 'unknown-field.yaml:5: allow[0].scope', message: 'unknown field; did you mean scopes?' },
    ]);
  });

  it('reports the remaining problems of files with several', () => {
    expect(
      parseError(() => parseBrokerPolicy('bad-time.yaml', read('broken', 'bad-time.yaml'))).details,
    ).toEqual([
      {
        path: 'bad-time.yaml:8: conditions.timeWindows[0].days[1]',
        message: 'expected one of mon, tue, wed, thu, fri, sat, sun',
      },
      {
        path: 'bad-time.yaml:9: conditions.timeWindows[0].from',
        message: 'expected a time from 00:00 to 23:59 (HH:MM, 24-hour clock)',
      },
      {
        path: 'bad-time.yaml:10: conditions.timeWindows[0].to',
        message: 'expected a time from 00:01 to 24:00 (HH:MM, 24-hour clock)',
      },
    ]);
    const exchange = parseError(() =>
      parseBrokerPolicy('exchange-without-issuers.yaml', read('broken', 'exchange-without-issuers.yaml')),
    );
    expect(exchange.details[1]).toEqual({
      path: 'exchange-without-issuers.yaml:8: exchange.maxChainDepth',
      message: 'must be at most 10',
    });
    const relative = parseError(() =>
      parseBrokerPolicy('relative-resource.yaml', read('broken', 'relative-resource.yaml')),
    );
    expect(relative.details[1]).toEqual({
      path: 'relative-resource.yaml:7: deny[0].resource',
      message: 'a pattern must start with a scheme, such as https://*.example.com/*, or be * alone',
    });
  });

  it('stops listing after 20 problems', () => {
    const rules = Array.from({ length: 30 }, () => '  - resource: https://a.example\n    scopes: [""]').join(
      '\n',
    );
    const err = parseError(() => parseBrokerPolicy('big.yaml', `agentType: a\nowner: b\nallow:\n${rules}\n`));
    expect(err.details).toHaveLength(20);
    expect(err.message).toBe('big.yaml:5: allow[0].scopes[0]: must not be empty (and 19 more problems)');
  });

  it('counts lines the same with a byte-order mark and CRLF line ends', () => {
    const text =
      '\uFEFFagentType: a\r\nowner: b\r\nallow:\r\n  - resource: https://a.example\r\n    scopes: [""]\r\n';
    expect(parseError(() => parseBrokerPolicy('crlf.yaml', text)).message).toBe(
      'crlf.yaml:5: allow[0].scopes[0]: must not be empty',
    );
  });

  it('refuses oversized and binary text before parsing it', () => {
    expect(parseError(() => parseBrokerPolicy('huge.yaml', `#${'x'.repeat(MAX_POLICY_CHARS)}`)).message).toBe(
      'huge.yaml: the policy is larger than 256 KiB',
    );
    expect(parseError(() => parseBrokerPolicy('bin.yaml', 'agentType: a\nowner: \u0000')).message).toBe(
      'bin.yaml:2: the file contains a NUL byte; it is not YAML',
    );
  });

  it('refuses alias bombs and unknown tags', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    expect(parseError(() => parseBrokerPolicy('bomb.yaml', bomb)).message).toBe(
      'bomb.yaml: cannot read the YAML: Excessive alias count indicates a resource exhaustion attack',
    );
    expect(parseError(() => parseBrokerPolicy('tag.yaml', 'agentType: !secret a\n')).message).toBe(
      'tag.yaml:1:12: invalid YAML: Unresolved tag: !secret',
    );
  });

  it('does not let __proto__ through as an unknown field or a prototype', () => {
    const err = parseError(() =>
      parseBrokerPolicy('proto.json', '{"agentType":"a","owner":"b","allow":[],"__proto__":{"x":1}}'),
    );
    expect(err.message).toBe(
      'proto.json:1: __proto__: unknown field; the fields here are agentType, owner, description, tokens, allow, deny, conditions, exchange',
    );
  });
});

describe('parseBrokerPolicyValue', () => {
  it('reports problems at field paths under where the value came from', () => {
    const err = parseError(() =>
      parseBrokerPolicyValue(
        {
          agentType: 'support-agent',
          owner: 'x',
          allow: [{ resource: 'https://a.example', scopes: [''] }],
          tokenz: {},
        },
        { where: 'body.policy' },
      ),
    );
    expect(err.details).toEqual([
      { path: 'body.policy.allow[0].scopes[0]', message: 'must not be empty' },
      { path: 'body.policy.tokenz', message: 'unknown field; did you mean tokens?' },
    ]);
    expect(parseError(() => parseBrokerPolicyValue('text')).message).toBe(
      'policy: expected a mapping of policy fields (agentType, owner, allow, …), got text',
    );
  });

  it('accepts every policy it writes (property)', () => {
    const scope = fc.stringMatching(/^[a-z]{1,6}(:[a-z*]{1,5})?$/);
    const policyArb = fc.record({
      agentType: fc.stringMatching(/^[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}$/),
      owner: fc.stringMatching(/^[a-z]{1,10}@example\.com$/),
      tokens: fc.integer({ min: 1, max: 86_400 }).chain((max) =>
        fc.record({
          maxTtl: fc.constant(max),
          defaultTtl: fc.integer({ min: 1, max }),
          dpop: fc.boolean(),
        }),
      ),
      allow: fc.array(
        fc.record({
          resource: fc.constantFrom('https://a.example', 'https://*.b.example/*', '*', 'urn:x:y'),
          scopes: fc.uniqueArray(scope, { minLength: 1, maxLength: 4 }),
        }),
        { maxLength: 4 },
      ),
      cidrs: fc.option(
        fc.uniqueArray(fc.constantFrom('10.0.0.0/8', '::1/128', '192.168.0.0/16'), { minLength: 1 }),
      ),
    });
    fc.assert(
      fc.property(policyArb, (p) => {
        const { policy } = parseBrokerPolicyValue({
          agentType: p.agentType,
          owner: p.owner,
          tokens: {
            maxTtl: `${p.tokens.maxTtl}s`,
            defaultTtl: `${p.tokens.defaultTtl}s`,
            requireDpop: p.tokens.dpop,
          },
          allow: p.allow.map((r) => ({ ...r, approval: [r.scopes[0]!] })),
          ...(p.cidrs ? { conditions: { sourceCidrs: p.cidrs } } : {}),
        });
        expect(policy.tokens.maxTtlSeconds).toBe(p.tokens.maxTtl);
        expect(parseBrokerPolicyValue(policyToDocument(policy)).policy).toEqual(policy);
        expect(parseBrokerPolicy('p.yaml', stringify(policyToDocument(policy))).policy).toEqual(policy);
      }),
      { numRuns: 100 },
    );
  });
});
