import { describe, expect, it } from 'vitest';
import type { BatchResult } from '../core/inventory-batch.js';
import type { Credential, Finding, Grant, Identity } from '../core/types.js';
import {
  formatBytes,
  formatTime,
  paint,
  renderAuditVerify,
  renderDemoSummary,
  renderFindings,
  renderIdentities,
  renderIdentityDetail,
  renderImportSummary,
  renderPageFooter,
  renderTable,
  renderTree,
  truncate,
  type NamedFinding,
  type RenderOptions,
} from './cli-render.js';

const now = new Date('2025-06-01T12:00:00.000Z');
const pipe: RenderOptions = { tty: false, color: false, now };
const term: RenderOptions = { tty: true, color: false, now };
const colour: RenderOptions = { tty: true, color: true, now };

const identity = (over: Partial<Identity> = {}): Identity => ({
  id: 'idn_1',
  name: 'deploy-bot',
  kind: 'ci-pipeline',
  provider: 'github',
  externalId: 'acme/deploy',
  environment: 'prod',
  owner: 'alice@acme.test',
  sponsor: null,
  description: null,
  tags: [],
  attributes: {},
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-05-01T00:00:00.000Z',
  lastSeenAt: '2025-05-29T12:00:00.000Z',
  riskScore: 72,
  ...over,
});

const finding = (over: Partial<NamedFinding> = {}): NamedFinding => ({
  id: 'fnd_1',
  ruleId: 'secret-in-dotenv',
  owasp: 'NHI2',
  severity: 'high',
  title: 'Secret in a file',
  message: 'api-key OPENAI_API_KEY is stored in plaintext in app.env',
  remediation: 'move it to a vault',
  identityId: 'idn_1',
  credentialId: null,
  evidence: {},
  firstSeenAt: '2025-05-01T00:00:00.000Z',
  lastSeenAt: '2025-05-01T00:00:00.000Z',
  identityName: 'deploy-bot',
  ...over,
});

const counts = (created: number, updated = 0, unchanged = 0) => ({ created, updated, unchanged });
const batch = (over: Partial<BatchResult> = {}): BatchResult => ({
  identities: counts(1),
  credentials: counts(2),
  grants: counts(0),
  resources: counts(0),
  people: counts(0),
  eventSeq: 4,
  ...over,
});

describe('renderTable', () => {
  const cols = [{ header: 'name' }, { header: 'risk', align: 'right' as const }, { header: 'note' }];
  const rows = [
    ['a', '5', 'short'],
    ['longer-name', '100', 'tab\there'],
  ];

  it('prints tab-separated text with a header row when piped', () => {
    expect(renderTable(cols, rows, pipe)).toBe('name\trisk\tnote\na\t5\tshort\nlonger-name\t100\ttab here\n');
  });

  it('aligns columns with upper-case headers on a terminal', () => {
    expect(renderTable(cols, rows, term).split('\n')).toEqual([
      'NAME         RISK  NOTE',
      'a               5  short',
      'longer-name   100  tab here',
      '',
    ]);
  });

  it('shortens the last column to the terminal width', () => {
    const out = renderTable(
      [{ header: 'a' }, { header: 'msg' }],
      [['x', 'a long message that will not fit']],
      {
        ...term,
        width: 20,
      },
    );
    expect(out.split('\n')[1]).toBe('x  a long message t…');
  });

  it('colours styled cells and headers only when colour is on', () => {
    const out = renderTable([{ header: 's' }], [[{ text: 'high', style: 'red' }]], colour);
    expect(out).toBe('\u001b[1mS\u001b[22m\n\u001b[31mhigh\u001b[39m\n');
    expect(paint('x', 'red', false)).toBe('x');
  });
});

describe('small formatters', () => {
  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });

  it('formats times relative on a terminal and ISO when piped', () => {
    expect(formatTime('2025-05-29T12:00:00.000Z', term)).toBe('3d ago');
    expect(formatTime('2025-06-01T11:59:30.000Z', term)).toBe('just now');
    expect(formatTime('2025-08-01T12:00:00.000Z', term)).toBe('in 2mo');
    expect(formatTime('2025-05-29T12:00:00.000Z', pipe)).toBe('2025-05-29T12:00:00.000Z');
    expect(formatTime(null, pipe)).toBe('-');
  });

  it('formats byte sizes', () => {
    expect(formatBytes(312)).toBe('312 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1_048_576)).toBe('3.0 MiB');
  });
});

describe('renderIdentities', () => {
  const page = {
    items: [
      identity(),
      identity({
        id: 'idn_2',
        name: 'mcp-fs',
        kind: 'mcp-server',
        provider: 'mcp',
        environment: null,
        owner: null,
        riskScore: null,
        lastSeenAt: null,
      }),
    ],
    total: 2,
    limit: 100,
    offset: 0,
  };

  it('prints one tab-separated line per identity when piped', () => {
    expect(renderIdentities(page, pipe)).toBe(
      'name\tkind\tprovider\tenvironment\towner\trisk\tlast seen\n' +
        'deploy-bot\tci-pipeline\tgithub\tprod\talice@acme.test\t72\t2025-05-29T12:00:00.000Z\n' +
        'mcp-fs\tmcp-server\tmcp\t-\t-\t-\t-\n',
    );
  });

  it('prints a table on a terminal, and a sentence when nothing matches', () => {
    expect(renderIdentities(page, term).split('\n')[1]).toBe(
      'deploy-bot  ci-pipeline  github    prod         alice@acme.test    72  3d ago',
    );
    expect(renderIdentities({ items: [], total: 0, limit: 100, offset: 0 }, term)).toBe(
      'no identities match\n',
    );
    expect(renderIdentities({ items: [], total: 0, limit: 100, offset: 0 }, pipe)).toBe(
      'name\tkind\tprovider\tenvironment\towner\trisk\tlast seen\n',
    );
  });

  it('says when more pages exist', () => {
    expect(renderPageFooter({ items: [1, 2], total: 5, limit: 2, offset: 2 }, 'identities')).toBe(
      'showing 3–4 of 5 identities; use --offset 4 for more\n',
    );
    expect(renderPageFooter({ items: [1], total: 1, limit: 2, offset: 0 }, 'identities')).toBe('');
  });
});

describe('renderFindings', () => {
  it('prints severity, OWASP id, rule, identity and message', () => {
    expect(
      renderFindings([finding(), finding({ identityName: null, severity: 'low', owasp: 'NHI7' })], pipe),
    ).toBe(
      'severity\towasp\trule\tidentity\tmessage\n' +
        'high\tNHI2\tsecret-in-dotenv\tdeploy-bot\tapi-key OPENAI_API_KEY is stored in plaintext in app.env\n' +
        'low\tNHI7\tsecret-in-dotenv\tidn_1\tapi-key OPENAI_API_KEY is stored in plaintext in app.env\n',
    );
    expect(renderFindings([], term)).toBe('no findings match\n');
  });

  it('colours the severity on a terminal', () => {
    expect(renderFindings([finding({ severity: 'critical' })], colour)).toContain(
      '\u001b[1;31mcritical\u001b[22;39m',
    );
  });
});

describe('summaries', () => {
  it('summarises an import', () => {
    const out = renderImportSummary(
      {
        kind: 'dotenv',
        file: 'app.env',
        sha256: 'ab'.repeat(32),
        bytes: 120,
        changes: batch(),
        findings: { open: 3, created: 3, resolved: 0 },
      },
      pipe,
    );
    expect(out.split('\n')).toEqual([
      'imported dotenv file app.env (120 B, sha256 abababababab…)',
      '  record       created  updated  unchanged',
      '  identities   1        0        0',
      '  credentials  2        0        0',
      '  grants       0        0        0',
      '  resources    0        0        0',
      '  people       0        0        0',
      'findings: 3 open (3 new, 0 resolved)',
      '',
    ]);
  });

  it('sums the demo batches', () => {
    const out = renderDemoSummary(
      {
        changes: [batch(), batch({ identities: counts(0, 1, 2) })],
        findings: { open: 9, created: 0, resolved: 1 },
      },
      pipe,
    );
    expect(out.split('\n').slice(0, 3)).toEqual([
      'demo data set loaded (2 batches)',
      '  record       created  updated  unchanged',
      '  identities   1        1        2',
    ]);
    expect(out.endsWith('findings: 9 open (0 new, 1 resolved)\n')).toBe(true);
  });
});

describe('renderIdentityDetail', () => {
  const credential: Credential = {
    id: 'crd_1',
    identityId: 'idn_1',
    type: 'api-key',
    provider: 'openai',
    fingerprint: '0123456789abcdef'.repeat(4),
    fingerprintSource: 'value',
    preview: 'sk-p…9xQz',
    externalId: null,
    name: 'OPENAI_API_KEY',
    scopes: [],
    status: 'active',
    createdAt: null,
    expiresAt: null,
    lastUsedAt: null,
    lastRotatedAt: null,
    attributes: {},
    locations: [
      {
        kind: 'env',
        path: 'app.env',
        line: 3,
        key: 'OPENAI_API_KEY',
        firstSeenAt: '2025-05-01T00:00:00.000Z',
        lastSeenAt: '2025-05-01T00:00:00.000Z',
      },
    ],
    recordedAt: '2025-05-01T00:00:00.000Z',
    updatedAt: '2025-05-01T00:00:00.000Z',
  };
  const grant: Grant = {
    id: 'grt_1',
    identityId: 'idn_1',
    effect: 'allow',
    actions: ['s3:GetObject', 's3:PutObject'],
    resources: ['arn:aws:s3:::data/*'],
    source: 'arn:aws:iam::aws:policy/AdministratorAccess',
    key: 'k',
    admin: true,
    attributes: {},
    createdAt: '2025-05-01T00:00:00.000Z',
    updatedAt: '2025-05-01T00:00:00.000Z',
  };
  const detail = {
    identity: identity(),
    credentials: [credential],
    grants: [grant],
    findings: [finding() as Finding],
    risk: { score: 72, factors: [{ name: 'secret-leak', points: 30, detail: 'plaintext secret in a file' }] },
  };

  it('shows fields, credentials with preview and fingerprint prefix, grants, findings and risk factors', () => {
    const out = renderIdentityDetail(detail, pipe);
    const lines = out.split('\n');
    expect(lines).toContain('name         deploy-bot');
    expect(lines).toContain('sponsor      -');
    expect(lines).toContain('risk         72/100');
    expect(lines).toContain('credentials (1)');
    expect(lines).toContain(
      '  api-key  sk-p…9xQz  fp 0123456789ab  active  no expiry  never used  app.env:3 (OPENAI_API_KEY)',
    );
    expect(lines).toContain(
      '  allow  s3:GetObject, s3:PutObject  on arn:aws:s3:::data/*  from arn:aws:iam::aws:policy/AdministratorAccess  admin',
    );
    expect(lines).toContain(
      '  high  NHI2  secret-in-dotenv  api-key OPENAI_API_KEY is stored in plaintext in app.env',
    );
    expect(lines).toContain('risk 72/100');
    expect(lines).toContain('  +30  secret-leak  plaintext secret in a file');
    expect(out).not.toContain(credential.fingerprint);
  });

  it('says (none) for empty sections', () => {
    const out = renderIdentityDetail(
      { ...detail, credentials: [], grants: [], findings: [], risk: { score: 0, factors: [] } },
      pipe,
    );
    expect(out).toContain('credentials (0)\n  (none)\n');
    expect(out).toContain('risk 0/100\n  (none)\n');
  });
});

describe('renderTree', () => {
  const tree = {
    label: 'deploy-bot',
    children: [
      { label: 'credentials', children: [{ label: 'api-key' }, { label: 'pat' }] },
      { label: 'grants', children: [{ label: 'allow *', children: [{ label: 'arn:aws:s3:::data' }] }] },
    ],
  };

  it('draws box branches on a terminal', () => {
    expect(renderTree(tree, term).split('\n')).toEqual([
      'deploy-bot',
      '├─ credentials',
      '│  ├─ api-key',
      '│  └─ pat',
      '└─ grants',
      '   └─ allow *',
      '      └─ arn:aws:s3:::data',
      '',
    ]);
  });

  it('draws ASCII branches when piped', () => {
    expect(renderTree(tree, pipe).split('\n').slice(0, 3)).toEqual([
      'deploy-bot',
      '|- credentials',
      '|  |- api-key',
    ]);
  });
});

describe('renderAuditVerify', () => {
  it('prints ok with the count and the last hash', () => {
    expect(renderAuditVerify({ ok: true, checked: 12, lastSeq: 12, lastHash: 'f'.repeat(64) }, pipe)).toBe(
      `ok: 12 records, chain intact (last hash ${'f'.repeat(64)})\n` +
        `anchor: 12:${'f'.repeat(64)} (keep it outside the database; \`audit verify --anchor\` then also detects removal of the newest records)\n`,
    );
  });

  it('says so when the log is empty, and counts one record in the singular', () => {
    expect(renderAuditVerify({ ok: true, checked: 0, lastSeq: 0, lastHash: '0'.repeat(64) }, pipe)).toBe(
      'ok: 0 records, the event log is empty\n',
    );
    expect(renderAuditVerify({ ok: true, checked: 1, lastSeq: 1, lastHash: 'a'.repeat(64) }, pipe)).toBe(
      `ok: 1 record, chain intact (last hash ${'a'.repeat(64)})\n` +
        `anchor: 1:${'a'.repeat(64)} (keep it outside the database; \`audit verify --anchor\` then also detects removal of the newest records)\n`,
    );
  });

  it('names the first bad record', () => {
    expect(
      renderAuditVerify(
        {
          ok: false,
          checked: 1,
          problem: { seq: 2, kind: 'hash-mismatch', message: 'stored hash does not match' },
        },
        pipe,
      ),
    ).toBe(
      'broken: record seq 2 (hash-mismatch): stored hash does not match\n' +
        '1 record checked intact before it; the event log was changed outside Keyward\n',
    );
  });
});
