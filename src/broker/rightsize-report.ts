/**
 * Text output of `keyward rightsize`: per agent type a table of allowed scopes with their usage, verdict and the
 * proposal's action, then the proposed policy as a diff; and the proposed policy as a YAML file to review and
 * apply. The JSON form is the RightsizingReport itself.
 */
import type { AgentTypeRightsizing, RightsizingReport, ScopeRow } from './rightsize.js';
import { policyYaml } from './rightsize.js';

/** `2026-05-30T10:00:00Z` (milliseconds left out when zero); `-` for never. */
function when(iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.000Z$/, 'Z');
}

/** `2026-05-30 10:00` (UTC, to the minute) for table cells; `-` for never. */
function cell(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function action(row: ScopeRow): string {
  if (row.action === 'replace') return `replace by ${row.replaceWith!.join(' ')}`;
  return row.action;
}

/** Lays out rows in columns two spaces apart; columns named in `right` are right-aligned. */
function table(header: string[], rows: string[][], right: ReadonlySet<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function agentTypeSection(t: AgentTypeRightsizing): string[] {
  const out = [
    `${t.name}: ${t.tokensIssued} ${t.tokensIssued === 1 ? 'token' : 'tokens'}, ${t.proxyCalls} proxy ${t.proxyCalls === 1 ? 'call' : 'calls'}`,
  ];
  if (t.rows.length === 0) out.push('  The policy allows nothing.');
  else {
    const cells: string[][] = [];
    for (const r of t.rows) {
      cells.push([
        `allow[${r.rule}]`,
        r.scope,
        r.resource,
        String(r.issued),
        String(r.used),
        cell(r.lastIssued),
        cell(r.lastUsed),
        r.verdict,
        action(r),
      ]);
      for (const c of r.concrete ?? []) {
        cells.push([
          '',
          `  ${c.scope}`,
          '',
          String(c.issued),
          String(c.used),
          cell(c.lastIssued),
          cell(c.lastUsed),
          c.verdict,
          '',
        ]);
      }
    }
    const header = [
      'rule',
      'scope',
      'resource',
      'issued',
      'used',
      'last issued',
      'last used',
      'verdict',
      'proposal',
    ];
    out.push(...table(header, cells, new Set([3, 4])).map((l) => `  ${l}`));
    const notes = t.rows.filter((r) => r.note !== null);
    if (notes.length > 0) {
      out.push('  Notes:');
      for (const r of notes) out.push(`    allow[${r.rule}] ${r.scope}: ${r.note}`);
    }
  }
  if (t.agentsWithoutTokens.length > 0) {
    const names = t.agentsWithoutTokens.map(
      (a) => `${a.name} (${a.clientId}${a.status === 'active' ? '' : `, ${a.status}`})`,
    );
    out.push(`  Agents without a token in the window: ${names.join(', ')}`);
  }
  const p = t.proposal;
  if (p.changed) {
    out.push('  Proposed policy:');
    for (const l of p.diff.replace(/\n$/, '').split('\n')) out.push(`    ${l}`);
  } else {
    out.push(`  No change proposed: ${p.note ?? 'every allowed scope is used or kept'}.`);
  }
  return out;
}

/**
 * The report as text for a terminal or a file: a heading with the window, then one section per agent type.
 * @example
 * process.stdout.write(renderRightsizingText(computeRightsizing(input)));
 */
export function renderRightsizingText(report: RightsizingReport): string {
  const days = report.keepRecentDays === 1 ? '1 day' : `${report.keepRecentDays} days`;
  const out = [
    `Rightsizing from ${when(report.window.from)} to ${when(report.window.to)}.`,
    `Scopes added since ${when(report.keptSince)} (the last ${days}) are kept. Times are UTC.`,
  ];
  if (report.agentTypes.length === 0 && report.invalidAgentTypes.length === 0)
    out.push('', 'No agent types.');
  for (const t of report.agentTypes) out.push('', ...agentTypeSection(t));
  if (report.invalidAgentTypes.length > 0) {
    out.push('', 'Left out (their stored policy could not be read):');
    for (const t of report.invalidAgentTypes) out.push(`  ${t.name}: ${t.problem}`);
  }
  if (report.unreadableEvents > 0) {
    const n = report.unreadableEvents;
    out.push(
      '',
      `${n} token or proxy ${n === 1 ? 'event' : 'events'} in the window could not be read and ${n === 1 ? 'was' : 'were'} not counted.`,
    );
  }
  return `${out.join('\n')}\n`;
}

/**
 * The proposed policy of one agent type as a YAML file, with a comment saying where it comes from; apply it with
 * `keyward agent-types apply <file>` after review. Null when nothing is proposed.
 */
export function proposalYamlFile(report: RightsizingReport, agentType: AgentTypeRightsizing): string | null {
  if (!agentType.proposal.changed) return null;
  return [
    `# Proposed by keyward rightsize for ${agentType.name} from its usage ${when(report.window.from)} to ${when(report.window.to)}.`,
    '# Review it, then apply it with: keyward agent-types apply <this file>',
    policyYaml(agentType.proposal.document),
  ].join('\n');
}
