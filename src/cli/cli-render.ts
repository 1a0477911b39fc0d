/**
 * Everything the CLI prints for people: tables, trees, summaries and detail views. Pure functions from values to
 * text; the commands decide where the text goes. Listings become aligned, coloured tables on a terminal and
 * tab-separated text (one header row, one record per line) when piped.
 */
import type { BatchResult, ChangeCounts } from '../core/inventory-batch.js';
import type { Credential, Finding, Grant, Identity, Severity } from '../core/types.js';
import type { IdentityGraph } from '../inventory/index.js';
import type { Page } from '../store/index.js';

/** How to render: for a terminal or for a pipe, with or without colour. */
export interface RenderOptions {
  /** True when stdout is a terminal: aligned tables instead of tab-separated text. */
  tty: boolean;
  /** ANSI colours (only ever on a terminal, and not with `--no-color` or `NO_COLOR`). */
  color: boolean;
  /** Terminal width; the last column of a table is shortened to fit. Absent: never shortened. */
  width?: number | undefined;
  /** The time "ago" values are measured from. */
  now: Date;
}

/** Text styles the CLI uses. */
export type Style = 'bold' | 'dim' | 'red' | 'boldRed' | 'yellow' | 'cyan' | 'green';

const ANSI: Record<Style, [string, string]> = {
  bold: ['\u001b[1m', '\u001b[22m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  red: ['\u001b[31m', '\u001b[39m'],
  boldRed: ['\u001b[1;31m', '\u001b[22;39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
  green: ['\u001b[32m', '\u001b[39m'],
};

/** Wraps text in an ANSI style when colour is on. */
export function paint(text: string, style: Style | undefined, color: boolean): string {
  if (!color || !style || text === '') return text;
  const [open, close] = ANSI[style];
  return `${open}${text}${close}`;
}

/** The style a severity is shown in. */
export function severityStyle(s: Severity): Style | undefined {
  switch (s) {
    case 'critical':
      return 'boldRed';
    case 'high':
      return 'red';
    case 'medium':
      return 'yellow';
    case 'low':
      return 'cyan';
    case 'info':
      return 'dim';
  }
}

/** A table cell: plain text, or text with a style. */
export type Cell = string | { text: string; style?: Style | undefined };

/** A table column: its header and alignment. */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

const cellText = (c: Cell): string => (typeof c === 'string' ? c : c.text);
const cellStyle = (c: Cell): Style | undefined => (typeof c === 'string' ? undefined : c.style);
/** Tabs and line breaks would break both layouts; values are shown on one line. */
const oneLine = (s: string): string => s.replace(/[\t\r\n]+/g, ' ');
const width = (s: string): number => [...s].length;

/** Shortens text to at most `max` characters, ending with `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  if (max <= 1) return chars.slice(0, Math.max(0, max)).join('');
  return `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Renders rows under headers. On a terminal: columns aligned with two spaces between them, upper-case bold
 * headers, styles applied, the last column shortened to the terminal width. Otherwise: tab-separated, the
 * header row first, no styles. Every line ends with a newline.
 */
export function renderTable(columns: Column[], rows: Cell[][], opts: RenderOptions): string {
  if (!opts.tty) {
    const lines = [columns.map((c) => c.header), ...rows.map((r) => r.map((c) => oneLine(cellText(c))))];
    return lines.map((l) => l.join('\t') + '\n').join('');
  }
  const texts = rows.map((r) => r.map((c) => oneLine(cellText(c))));
  const headers = columns.map((c) => c.header.toUpperCase());
  const widths = columns.map((_, i) => Math.max(width(headers[i]!), ...texts.map((r) => width(r[i] ?? ''))));
  const last = columns.length - 1;
  if (opts.width !== undefined && last >= 0) {
    const fixed = widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
    widths[last] = Math.max(Math.min(widths[last]!, opts.width - fixed), Math.min(widths[last]!, 12));
  }
  const line = (cells: string[], styles: (Style | undefined)[]): string =>
    cells
      .map((text, i) => {
        const w = widths[i]!;
        const t = truncate(text, w);
        const pad = ' '.repeat(w - width(t));
        const padded =
          columns[i]?.align === 'right'
            ? pad + paint(t, styles[i], opts.color)
            : paint(t, styles[i], opts.color) + (i === last ? '' : pad);
        return padded;
      })
      .join('  ')
      .trimEnd() + '\n';
  return (
    line(
      headers,
      headers.map(() => 'bold' as const),
    ) + rows.map((r, ri) => line(texts[ri]!, r.map(cellStyle))).join('')
  );
}

/** Key–value lines with the keys aligned, for detail views; empty values show as `-`. */
export function renderFields(
  fields: Array<[string, string | null | undefined]>,
  opts: RenderOptions,
  indent = '',
): string {
  const w = Math.max(0, ...fields.map(([k]) => width(k)));
  return fields
    .map(([k, v]) => `${indent}${paint(k.padEnd(w), 'dim', opts.color)}  ${oneLine(v ?? '') || '-'}\n`)
    .join('');
}

/** Aligned columns without headers, indented; used inside detail views on terminals and pipes alike. */
export function renderAligned(rows: Cell[][], opts: RenderOptions, indent = '  '): string {
  if (rows.length === 0) return `${indent}(none)\n`;
  const texts = rows.map((r) => r.map((c) => oneLine(cellText(c))));
  const n = Math.max(...texts.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) => Math.max(...texts.map((r) => width(r[i] ?? ''))));
  return rows
    .map(
      (r, ri) =>
        indent +
        texts[ri]!.map(
          (t, i) =>
            paint(t, cellStyle(r[i]!), opts.color) +
            (i === texts[ri]!.length - 1 ? '' : ' '.repeat(widths[i]! - width(t))),
        )
          .join('  ')
          .trimEnd() +
        '\n',
    )
    .join('');
}

/** A time as a terminal shows it (`3d ago`) or as a pipe gets it (ISO-8601); `-` when absent. */
export function formatTime(iso: string | null | undefined, opts: RenderOptions): string {
  if (!iso) return '-';
  if (!opts.tty) return iso;
  const ms = opts.now.getTime() - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const future = ms < 0;
  const abs = Math.abs(ms);
  const min = 60_000;
  const units: Array<[number, string]> = [
    [365 * 86_400_000, 'y'],
    [30 * 86_400_000, 'mo'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [min, 'm'],
  ];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      return future ? `in ${n}${unit}` : `${n}${unit} ago`;
    }
  }
  return 'just now';
}

/** First 12 hex characters of a fingerprint: enough to tell credentials apart, short enough to read. */
export function shortFingerprint(fp: string): string {
  return fp.slice(0, 12);
}

const dash = (v: string | number | null | undefined): string =>
  v === null || v === undefined || v === '' ? '-' : String(v);

/** The identity listing: name, kind, provider, environment, owner, risk, last seen. */
export function renderIdentities(page: Page<Identity>, opts: RenderOptions): string {
  if (opts.tty && page.items.length === 0) return 'no identities match\n';
  const rows: Cell[][] = page.items.map((i) => [
    i.name,
    i.kind,
    i.provider,
    dash(i.environment),
    dash(i.owner),
    { text: dash(i.riskScore), style: riskStyle(i.riskScore) },
    formatTime(i.lastSeenAt, opts),
  ]);
  return renderTable(
    [
      { header: 'name' },
      { header: 'kind' },
      { header: 'provider' },
      { header: 'environment' },
      { header: 'owner' },
      { header: 'risk', align: 'right' },
      { header: 'last seen' },
    ],
    rows,
    opts,
  );
}

/** The style of a risk score: red from 70, yellow from 40. */
export function riskStyle(score: number | null): Style | undefined {
  if (score === null) return undefined;
  if (score >= 70) return 'red';
  if (score >= 40) return 'yellow';
  return undefined;
}

/** A line under a listing that says more records exist than were shown (empty when all were shown). */
export function renderPageFooter(page: Page<unknown>, noun: string): string {
  const shown = page.items.length;
  if (page.offset + shown >= page.total) return '';
  const from = shown === 0 ? page.offset : page.offset + 1;
  return `showing ${from}–${page.offset + shown} of ${page.total} ${noun}; use --offset ${page.offset + shown} for more\n`;
}

/** A finding with the name of the identity it concerns. */
export type NamedFinding = Finding & { identityName: string | null };

/** The findings listing: severity, OWASP id, rule, identity, message. */
export function renderFindings(findings: NamedFinding[], opts: RenderOptions): string {
  if (opts.tty && findings.length === 0) return 'no findings match\n';
  return renderTable(
    [
      { header: 'severity' },
      { header: 'owasp' },
      { header: 'rule' },
      { header: 'identity' },
      { header: 'message' },
    ],
    findings.map((f) => [
      { text: f.severity, style: severityStyle(f.severity) },
      f.owasp,
      f.ruleId,
      f.identityName ?? f.identityId,
      f.message,
    ]),
    opts,
  );
}

const RECORD_TYPES = ['identities', 'credentials', 'grants', 'resources', 'people'] as const;

/** Sums change counts over several batches (the demo data set is loaded as several). */
export function sumBatchResults(results: BatchResult[]): Record<(typeof RECORD_TYPES)[number], ChangeCounts> {
  const out = Object.fromEntries(
    RECORD_TYPES.map((t) => [t, { created: 0, updated: 0, unchanged: 0 }]),
  ) as Record<(typeof RECORD_TYPES)[number], ChangeCounts>;
  for (const r of results) {
    for (const t of RECORD_TYPES) {
      out[t].created += r[t].created;
      out[t].updated += r[t].updated;
      out[t].unchanged += r[t].unchanged;
    }
  }
  return out;
}

/** Human-readable byte size (`312 B`, `1.2 KiB`, `3.4 MiB`). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1_048_576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1_048_576).toFixed(1)} MiB`;
}

/** Created / updated / unchanged per record type, then the open findings; the body of import and demo summaries. */
export function renderChanges(
  changes: Record<(typeof RECORD_TYPES)[number], ChangeCounts>,
  findings: { open: number; created: number; resolved: number },
  opts: RenderOptions,
): string {
  const rows: Cell[][] = [
    [
      { text: 'record', style: 'dim' },
      { text: 'created', style: 'dim' },
      { text: 'updated', style: 'dim' },
      { text: 'unchanged', style: 'dim' },
    ],
    ...RECORD_TYPES.map((t) => [
      t,
      String(changes[t].created),
      String(changes[t].updated),
      String(changes[t].unchanged),
    ]),
  ];
  return (
    renderAligned(rows, opts) +
    `findings: ${findings.open} open (${findings.created} new, ${findings.resolved} resolved)\n`
  );
}

/** The outcome of `keyward import`. */
export function renderImportSummary(
  result: {
    kind: string;
    file: string;
    sha256: string;
    bytes: number;
    changes: BatchResult;
    findings: { open: number; created: number; resolved: number };
  },
  opts: RenderOptions,
): string {
  return (
    `imported ${result.kind} file ${result.file} (${formatBytes(result.bytes)}, sha256 ${result.sha256.slice(0, 12)}…)\n` +
    renderChanges(sumBatchResults([result.changes]), result.findings, opts)
  );
}

/** The outcome of `keyward demo load`. */
export function renderDemoSummary(
  result: { changes: BatchResult[]; findings: { open: number; created: number; resolved: number } },
  opts: RenderOptions,
): string {
  return (
    `demo data set loaded (${result.changes.length} batches)\n` +
    renderChanges(sumBatchResults(result.changes), result.findings, opts)
  );
}

/** What `renderIdentityDetail` shows: an identity with its credentials, grants, findings and risk. */
export interface IdentityDetailView {
  identity: Identity;
  credentials: Credential[];
  grants: Grant[];
  findings: Finding[];
  risk: { score: number; factors: Array<{ name: string; points: number; detail: string }> };
}

/** Where a credential was seen, in one short phrase (`.env:3 (OPENAI_API_KEY)`). */
export function formatLocation(loc: Credential['locations'][number]): string {
  const at = loc.line !== null ? `${loc.path}:${loc.line}` : loc.path;
  return loc.key ? `${at} (${loc.key})` : at;
}

/** `keyward identity <id-or-name>`: fields, then credentials, grants, findings and risk factors. */
export function renderIdentityDetail(d: IdentityDetailView, opts: RenderOptions): string {
  const i = d.identity;
  const heading = (t: string): string => paint(t, 'bold', opts.color) + '\n';
  let out = renderFields(
    [
      ['name', i.name],
      ['id', i.id],
      ['kind', i.kind],
      ['provider', i.provider],
      ['external id', i.externalId],
      ['environment', i.environment],
      ['owner', i.owner],
      ['sponsor', i.sponsor],
      ['description', i.description],
      ['tags', i.tags.join(', ')],
      ['risk', i.riskScore === null ? null : `${i.riskScore}/100`],
      ['last seen', formatTime(i.lastSeenAt, opts)],
      ['created', formatTime(i.createdAt, opts)],
      ['updated', formatTime(i.updatedAt, opts)],
    ],
    opts,
  );
  out += '\n' + heading(`credentials (${d.credentials.length})`);
  out += renderAligned(
    d.credentials.map((c) => [
      c.type,
      c.preview,
      `fp ${shortFingerprint(c.fingerprint)}`,
      { text: c.status, style: c.status === 'active' ? undefined : 'dim' },
      c.expiresAt ? `expires ${formatTime(c.expiresAt, opts)}` : 'no expiry',
      c.lastUsedAt ? `used ${formatTime(c.lastUsedAt, opts)}` : 'never used',
      c.locations.map(formatLocation).join(', ') || dash(c.name ?? c.externalId),
    ]),
    opts,
  );
  out += '\n' + heading(`grants (${d.grants.length})`);
  out += renderAligned(
    d.grants.map((g) => [
      { text: g.effect, style: g.effect === 'deny' ? 'yellow' : undefined },
      g.actions.join(', '),
      `on ${g.resources.join(', ')}`,
      `from ${g.source}`,
      g.admin ? { text: 'admin', style: 'red' } : '',
    ]),
    opts,
  );
  out += '\n' + heading(`findings (${d.findings.length})`);
  out += renderAligned(
    d.findings.map((f) => [
      { text: f.severity, style: severityStyle(f.severity) },
      f.owasp,
      f.ruleId,
      f.message,
    ]),
    opts,
  );
  out += '\n' + heading(`risk ${d.risk.score}/100`);
  out += renderAligned(
    d.risk.factors.map((f) => [`+${f.points}`, f.name, f.detail]),
    opts,
  );
  return out;
}

/** One node of a tree: a label and its children. */
export interface TreeNode {
  label: Cell;
  children?: TreeNode[];
}

/** Renders a tree with box-drawing branches on a terminal and ASCII branches when piped. */
export function renderTree(root: TreeNode, opts: RenderOptions): string {
  const [tee, elbow, pipe, gap] = opts.tty ? ['├─ ', '└─ ', '│  ', '   '] : ['|- ', '`- ', '|  ', '   '];
  const label = (c: Cell): string => paint(oneLine(cellText(c)), cellStyle(c), opts.color);
  const lines: string[] = [label(root.label)];
  const walk = (nodes: TreeNode[], prefix: string): void => {
    nodes.forEach((n, idx) => {
      const lastChild = idx === nodes.length - 1;
      lines.push(prefix + (lastChild ? elbow : tee) + label(n.label));
      if (n.children?.length) walk(n.children, prefix + (lastChild ? gap : pipe));
    });
  };
  walk(root.children ?? [], '');
  return lines.map((l) => l + '\n').join('');
}

/** The result of checking the hash chain of the event log. */
export type AuditVerifyView =
  | { ok: true; checked: number; lastSeq: number; lastHash: string }
  | { ok: false; checked: number; problem: { seq: number; kind: string; message: string } };

/** `keyward audit verify`: one line saying the chain is intact, or where it first breaks. */
export function renderAuditVerify(r: AuditVerifyView, opts: RenderOptions): string {
  const records = (n: number): string => `${n} record${n === 1 ? '' : 's'}`;
  if (r.ok) {
    const ok = paint('ok', 'green', opts.color);
    if (r.checked === 0) return `${ok}: 0 records, the event log is empty\n`;
    return (
      `${ok}: ${records(r.checked)}, chain intact (last hash ${r.lastHash})\n` +
      `anchor: ${r.lastSeq}:${r.lastHash} (keep it outside the database; \`audit verify --anchor\` then also detects removal of the newest records)\n`
    );
  }
  return (
    `${paint('broken', 'boldRed', opts.color)}: record seq ${r.problem.seq} (${r.problem.kind}): ${r.problem.message}\n` +
    `${records(r.checked)} checked intact before it; the event log was changed outside Keyward\n`
  );
}

type GraphNode = IdentityGraph['nodes'][number];
type NodeOf<T extends GraphNode['type']> = Extract<GraphNode, { type: T }>;

/**
 * Turns an identity graph into a tree: the identity, its credentials (preview and fingerprint prefix), and its
 * grants with the resources each reaches and the actions it allows or denies there.
 */
export function graphToTree(graph: IdentityGraph): TreeNode {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const root = byId.get(graph.identityId) as NodeOf<'identity'> | undefined;
  const targets = (type: IdentityGraph['edges'][number]['type'][], from: string) =>
    graph.edges.filter((e) => type.includes(e.type) && e.from === from);
  const credentials = targets(['holds'], graph.identityId)
    .map((e) => byId.get(e.to))
    .filter((n): n is NodeOf<'credential'> => n?.type === 'credential')
    .map((c): TreeNode => ({
      label: `${c.label}  ${c.credentialType} ${c.preview}  fp ${c.fingerprint}${c.status === 'active' ? '' : `  ${c.status}`}${c.expiresAt ? `  expires ${c.expiresAt}` : ''}`,
    }));
  const grants = targets(['granted'], graph.identityId)
    .map((e) => byId.get(e.to))
    .filter((n): n is NodeOf<'grant'> => n?.type === 'grant')
    .map((g): TreeNode => ({
      label: g.admin
        ? { text: `${g.effect} via ${g.label}  [admin]`, style: 'red' }
        : `${g.effect} via ${g.label}`,
      children: targets(['allows', 'denies'], g.id).map((e): TreeNode => {
        const t = byId.get(e.to);
        const actions = (e.actions ?? g.actions).join(', ') || '-';
        if (t?.type === 'resource') {
          const where = [t.resourceType, t.environment].filter(Boolean).join(', ');
          const part = e.reach === 'part' ? `part of ${t.label} (through ${e.pattern ?? '?'})` : t.label;
          return { label: `${actions} on ${part} (${where})` };
        }
        return { label: `${actions} on ${t?.label ?? e.to} (no known resource)` };
      }),
    }));
  const facts = root
    ? [root.kind, root.provider, root.environment, root.riskScore === null ? null : `risk ${root.riskScore}`]
        .filter(Boolean)
        .join(', ')
    : '';
  return {
    label: { text: root ? `${root.label} (${facts})` : graph.identityId, style: 'bold' },
    children: [
      { label: `credentials (${credentials.length})`, children: credentials },
      { label: `grants (${grants.length})`, children: grants },
    ],
  };
}
