/**
 * Alerts in the formats other tools read: OCSF Detection Finding (class 2004) objects for JSON/NDJSON, and SARIF
 * 2.1.0 for code-scanning style consumers. Pure functions of the alerts and the rules that raised them.
 */
import { sarifLog, usedRules } from '../../core/sarif.js';
import type { Alert, Level, RuleMeta } from '../detect-types.js';

/** OCSF schema version the findings follow. */
export const OCSF_VERSION = '1.4.0';
const PRODUCT = { name: 'Keyward', vendor_name: 'Keyward' } as const;

/** OCSF severity_id per Sigma level (OCSF: 1 Informational … 5 Critical). */
const OCSF_SEVERITY: Record<Level, { id: number; name: string }> = {
  informational: { id: 1, name: 'Informational' },
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
};

/** An ATT&CK reference read from a Sigma tag. */
interface AttackRef {
  technique?: { uid: string };
  tactic?: { name: string; uid: string };
}

/** ATT&CK enterprise tactics by their Sigma tag form: OCSF's name and the ATT&CK id. */
const TACTICS: Record<string, { name: string; uid: string }> = {
  reconnaissance: { name: 'Reconnaissance', uid: 'TA0043' },
  resource_development: { name: 'Resource Development', uid: 'TA0042' },
  initial_access: { name: 'Initial Access', uid: 'TA0001' },
  execution: { name: 'Execution', uid: 'TA0002' },
  persistence: { name: 'Persistence', uid: 'TA0003' },
  privilege_escalation: { name: 'Privilege Escalation', uid: 'TA0004' },
  defense_evasion: { name: 'Defense Evasion', uid: 'TA0005' },
  credential_access: { name: 'Credential Access', uid: 'TA0006' },
  discovery: { name: 'Discovery', uid: 'TA0007' },
  lateral_movement: { name: 'Lateral Movement', uid: 'TA0008' },
  collection: { name: 'Collection', uid: 'TA0009' },
  exfiltration: { name: 'Exfiltration', uid: 'TA0010' },
  command_and_control: { name: 'Command and Control', uid: 'TA0011' },
  impact: { name: 'Impact', uid: 'TA0040' },
};

/**
 * ATT&CK techniques and tactics from Sigma tags (`attack.t1078.004` → technique T1078.004,
 * `attack.credential-access` → tactic Credential Access, TA0006); other tags are left out.
 */
export function attacksFromTags(tags: readonly string[]): AttackRef[] {
  const out: AttackRef[] = [];
  for (const tag of tags) {
    const m = /^attack\.(.+)$/i.exec(tag);
    if (!m) continue;
    const value = m[1]!.toLowerCase();
    const technique = /^t(\d{4})(?:\.(\d{3}))?$/.exec(value);
    if (technique) {
      out.push({ technique: { uid: `T${technique[1]}${technique[2] ? `.${technique[2]}` : ''}` } });
      continue;
    }
    const tactic = Object.hasOwn(TACTICS, value.replace(/-/g, '_'))
      ? TACTICS[value.replace(/-/g, '_')]
      : undefined;
    if (tactic) out.push({ tactic: { ...tactic } });
  }
  return out;
}

/** An alert as an OCSF Detection Finding (class_uid 2004, activity Create). */
export function toOcsfFinding(alert: Alert, rule?: RuleMeta): Record<string, unknown> {
  const severity = OCSF_SEVERITY[alert.level];
  const attacks = attacksFromTags(alert.tags);
  return {
    class_uid: 2004,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: 1,
    activity_name: 'Create',
    type_uid: 200401,
    time: alert.windowEnd,
    severity_id: severity.id,
    severity: severity.name,
    status_id: 1,
    status: 'New',
    is_alert: true,
    message: alert.summary,
    metadata: { version: OCSF_VERSION, product: PRODUCT, uid: alert.id },
    finding_info: {
      uid: alert.id,
      title: alert.ruleTitle,
      ...(rule?.description ? { desc: rule.description } : {}),
      first_seen_time: alert.windowStart,
      last_seen_time: alert.windowEnd,
      analytic: { uid: alert.ruleId, name: alert.ruleTitle, type_id: 1, type: 'Rule' },
      related_events: alert.eventIds.map((uid) => ({ uid })),
      ...(rule?.location ? { src_url: `${rule.location.file}:${rule.location.line}` } : {}),
    },
    ...(attacks.length > 0 ? { attacks } : {}),
    unmapped: { group_key: alert.groupKey, event_count: alert.eventCount, tags: alert.tags },
  };
}

/** SARIF result level per Sigma level. */
function sarifLevel(level: Level): 'error' | 'warning' | 'note' {
  return level === 'critical' || level === 'high' ? 'error' : level === 'medium' ? 'warning' : 'note';
}

/**
 * A SARIF 2.1.0 log of the alerts: one run whose driver lists the rules that raised them. Each result carries
 * the alert id as a partial fingerprint, so consumers deduplicate replays.
 */
export function toSarif(
  alerts: readonly Alert[],
  rules: ReadonlyMap<string, RuleMeta>,
  tool: { version: string },
): Record<string, unknown> {
  const { ids: used, index } = usedRules(alerts.map((a) => a.ruleId));
  return sarifLog({
    version: tool.version,
    rules: used.map((id) => {
      const rule = rules.get(id);
      const title = rule?.title ?? alerts.find((a) => a.ruleId === id)!.ruleTitle;
      return {
        id,
        name: title,
        shortDescription: { text: title },
        ...(rule?.description ? { fullDescription: { text: rule.description } } : {}),
        defaultConfiguration: { level: sarifLevel(rule?.level ?? 'medium') },
        properties: { tags: rule?.tags ?? [], ...(rule ? { level: rule.level } : {}) },
      };
    }),
    results: alerts.map((a) => ({
      ruleId: a.ruleId,
      ruleIndex: index.get(a.ruleId),
      level: sarifLevel(a.level),
      message: { text: a.summary },
      partialFingerprints: { keywardAlertId: a.id },
      properties: {
        groupKey: a.groupKey,
        windowStart: new Date(a.windowStart).toISOString(),
        windowEnd: new Date(a.windowEnd).toISOString(),
        eventCount: a.eventCount,
        eventIds: a.eventIds,
      },
    })),
  });
}

/** Alerts as a text table for a terminal: time, level, rule, group, count, summary. */
export function alertsTable(alerts: readonly Alert[]): string {
  if (alerts.length === 0) return 'no alerts\n';
  const rows = alerts.map((a) => [
    new Date(a.windowEnd).toISOString().replace('.000Z', 'Z'),
    a.level,
    a.ruleTitle,
    a.groupKey ? Object.values(a.groupKey).map(String).join(',') : '-',
    String(a.eventCount),
    a.summary,
  ]);
  const header = ['time', 'level', 'rule', 'group', 'events', 'summary'];
  const widths = header.map((h, i) =>
    i === header.length - 1 ? 0 : Math.min(48, Math.max(h.length, ...rows.map((r) => r[i]!.length))),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
