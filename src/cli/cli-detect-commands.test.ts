import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliIn } from './cli-test-support.js';

const SIGMAHQ = join('src', 'detect', 'sigma', 'fixtures', 'sigmahq');
const CLOUDTRAIL = join('src', 'detect', 'events', 'fixtures', 'cloudtrail-delivery.json');

const ASSUME_ROLE = `title: AssumeRole by a CI user
id: 6f0c8b2e-0000-4000-8000-000000000001
status: test
level: high
tags: [attack.t1078.004, attack.privilege-escalation]
logsource: { product: aws, service: cloudtrail }
detection:
  selection:
    eventName: AssumeRole
    userIdentity.arn|endswith: ':user/ci-deployer'
  condition: selection
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-cli-detect-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]) {
  return runCliIn(dir, args);
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('keyward rules check', () => {
  it('loads SigmaHQ’s AWS and GitHub rules with no error', async () => {
    const r = await run(['rules', 'check', SIGMAHQ]);
    expect(r.code).toBe(0);
    const last = r.stdout.trimEnd().split('\n').pop();
    expect(last).toMatch(
      /^\d+ files, 72 rules: 72 ok, 0 with errors \(72 detections, 0 filters, 0 correlations\)$/,
    );
    expect(r.stdout).not.toMatch(/^error/m);
  });

  it('names file, line and field of a broken rule and exits 2', async () => {
    const bad = file(
      'bad.yml',
      `title: Bad
logsource: { product: aws }
detection:
  selection:
    eventName|contian: x
  condition: selection
---
title: Also bad
logsource: { product: aws }
detection:
  selection:
    eventName: x
  condition: selection and other
`,
    );
    const r = await run(['rules', 'check', bad]);
    expect(r.code).toBe(2);
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('error'));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(
      new RegExp(
        `^error  ${bad.replace(/[.]/g, '\\.')}:5 detection\\.selection\\.eventName\\|contian: .*contian`,
      ),
    );
    expect(errors[1]).toMatch(
      new RegExp(`^error  ${bad.replace(/[.]/g, '\\.')}:13 detection\\.condition: .*other`),
    );
    const json = await run(['--json', 'rules', 'check', bad]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, counts: { documents: 2, error: 2 } });
  });
});

describe('keyward detect', () => {
  it('runs rules over a CloudTrail file and prints alerts as a table, OCSF JSON, NDJSON and SARIF', async () => {
    const rules = file('assume.yml', ASSUME_ROLE);
    const table = await run(['detect', '--no-builtin', '--rules', rules, CLOUDTRAIL]);
    expect(table.code).toBe(0);
    // The fixture's sixth record has no eventTime: reported with its file, line and index, and skipped.
    expect(table.stderr).toContain(`keyward: skipped ${CLOUDTRAIL}:1: Records[5]: no timestamp (eventTime)`);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^time\s+level\s+rule\s+group\s+events\s+summary$/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(
      /\bhigh\s+AssumeRole by a CI user\b.*AssumeRole by a CI user: AssumeRole by ci-deployer from 203\.0\.113\.10 at 2026-05-10T09:00:00\.000Z$/,
    );
    expect(table.stderr).toMatch(
      /^keyward detect: 5 events from 1 files \(1 records skipped\), 1 rules, 1 alerts$/m,
    );

    const json = await run(['detect', '--no-builtin', '--rules', rules, '--output', 'json', CLOUDTRAIL]);
    const findings = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      class_uid: 2004,
      severity_id: 4,
      finding_info: { analytic: { uid: '6f0c8b2e-0000-4000-8000-000000000001' } },
    });
    const ndjson = await run(['detect', '--no-builtin', '--rules', rules, '--output', 'ndjson', CLOUDTRAIL]);
    expect(
      ndjson.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { class_uid: number }).class_uid),
    ).toEqual([2004]);
    const sarif = await run(['detect', '--no-builtin', '--rules', rules, '--output', 'sarif', CLOUDTRAIL]);
    expect(JSON.parse(sarif.stdout)).toMatchObject({
      version: '2.1.0',
      runs: [{ results: [{ ruleId: '6f0c8b2e-0000-4000-8000-000000000001', level: 'error' }] }],
    });
  });

  it('exits 1 when an alert reaches --fail-on, 0 below it', async () => {
    const rules = file('assume.yml', ASSUME_ROLE);
    expect(
      (await run(['detect', '--no-builtin', '--rules', rules, '--fail-on', 'high', CLOUDTRAIL])).code,
    ).toBe(1);
    expect(
      (await run(['detect', '--no-builtin', '--rules', rules, '--fail-on', 'critical', CLOUDTRAIL])).code,
    ).toBe(0);
  });

  it('reports broken records with file:line and goes on; bad options exit 2 with the option named', async () => {
    const rules = file('assume.yml', ASSUME_ROLE);
    const events = file(
      'events.ndjson',
      [
        '{"eventVersion":"1.08","eventTime":"2026-05-10T09:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/ci-deployer"},"eventID":"a1"}',
        '{"eventName": ',
        '{"eventVersion":"1.08","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"a2"}',
      ].join('\n'),
    );
    const r = await run(['detect', '--no-builtin', '--rules', rules, '--format', 'cloudtrail', events]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`keyward: skipped ${events}:2: `);
    expect(r.stderr).toContain(`keyward: skipped ${events}:3: `);
    expect(r.stderr).toMatch(/1 events from 1 files \(2 records skipped\), 1 rules, 1 alerts/);

    const badOutput = await run(['detect', '--no-builtin', '--rules', rules, '--output', 'xml', events]);
    expect(badOutput.code).toBe(2);
    expect(badOutput.stderr).toContain('--output must be one of table, json, ndjson, sarif');
    const badLevel = await run(['detect', '--no-builtin', '--rules', rules, '--fail-on', 'severe', events]);
    expect(badLevel.code).toBe(2);
    expect(badLevel.stderr).toContain('--fail-on must be one of informational, low, medium, high, critical');
    const missing = await run(['detect', '--no-builtin', '--rules', rules, join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`cannot read ${join(dir, 'nope.ndjson')}: no such file or directory`);
    const badMapping = await run([
      'detect',
      '--no-builtin',
      '--rules',
      rules,
      '--mapping',
      join(dir, 'nope.yaml'),
      events,
    ]);
    expect(badMapping.code).toBe(2);
    expect(badMapping.stderr).toMatch(/^keyward: --mapping: /m);
    const noRules = await run(['detect', '--no-builtin', events]);
    expect(noRules.code).toBe(2);
    expect(noRules.stderr).toContain('no detection rule loaded');
  });
});

describe('keyward alerts list', () => {
  it('lists the alerts keyward detect --store stored, filtered, and refuses bad filters', async () => {
    const rules = file('assume.yml', ASSUME_ROLE);
    expect((await run(['detect', '--no-builtin', '--store', '--rules', rules, CLOUDTRAIL])).code).toBe(0);
    // Stored once: a second run of the same input adds nothing.
    expect((await run(['detect', '--no-builtin', '--store', '--rules', rules, CLOUDTRAIL])).code).toBe(0);
    const list = await run(['alerts', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(list.stdout).toContain('AssumeRole by a CI user');
    const json = JSON.parse((await run(['--json', 'alerts', 'list', '--level', 'high'])).stdout) as {
      total: number;
      items: Array<{ source: string }>;
    };
    expect(json.total).toBe(1);
    expect(json.items[0]!.source).toBe('batch');
    expect((await run(['alerts', 'list', '--level', 'low'])).stdout).toBe('no alerts\n');
    expect((await run(['alerts', 'list', '--since', '2030-01-01T00:00:00Z'])).stdout).toBe('no alerts\n');
    const bad = await run(['alerts', 'list', '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since must be an ISO-8601 time');
  });
});

describe('placeholders', () => {
  it('rules check and detect take %placeholder% values from the config file (detect.placeholders)', async () => {
    const rule = file(
      'expand.yml',
      `title: Deploy roles assumed
id: 6f0c8b2e-0000-4000-8000-000000000002
level: medium
logsource: { product: aws, service: cloudtrail }
detection:
  selection:
    eventName: AssumeRole
    requestParameters.roleArn|expand: '%deploy_roles%'
  condition: selection
`,
    );
    const without = await run(['rules', 'check', rule]);
    expect(without.code).toBe(2);
    expect(without.stdout).toContain('deploy_roles');
    writeFileSync(
      join(dir, 'keyward.yaml'),
      'detect:\n  placeholders:\n    deploy_roles: ["arn:aws:iam::111122223333:role/deploy"]\n',
    );
    expect((await run(['rules', 'check', rule])).code).toBe(0);
    const found = await run(['detect', '--no-builtin', '--rules', rule, '--output', 'ndjson', CLOUDTRAIL]);
    expect(found.code).toBe(0);
    expect(found.stdout.trimEnd().split('\n')).toHaveLength(1);
  });
});
