/**
 * The dashboard's overview: posture score, counts, open findings by OWASP category and severity, identities
 * by risk band, alerts per day, the riskiest identities and the credentials that are due. Read from the
 * store's aggregates; nothing here holds a secret value (credentials are previews).
 */
import { OWASP_NHI_IDS, OWASP_NHI_TITLES, SEVERITIES, type Severity } from '../core/types.js';
import { LEVELS, type Level } from '../detect/detect-types.js';
import { postureScore } from '../inventory/index.js';
import type { CredentialDue, Store } from '../store/index.js';

const DAY_MS = 86_400_000;

/** Days of alert history in `alertsOverTime`, today (UTC) included. */
export const OVERVIEW_ALERT_DAYS = 30;
/** A credential whose expiry comes within this many days is `expiring`. */
export const EXPIRING_WITHIN_DAYS = 14;
/** An active credential not rotated (or, never rotated, created) for more than this many days is `rotation-overdue`. */
export const ROTATION_MAX_DAYS = 90;
/** At most this many credentials are listed in `credentialsDue`, and identities in `riskiestIdentities`. */
export const MAX_CREDENTIALS_DUE = 50;
export const MAX_RISKIEST = 10;

type SeverityCounts = Record<Severity, number>;

/** What GET /api/v1/overview answers. */
export interface Overview {
  postureScore: number;
  counts: {
    identities: number;
    credentials: number;
    openFindings: number;
    openAlerts: number;
    pendingApprovals: number;
  };
  findingsByOwasp: Array<{ owasp: string; title: string } & SeverityCounts>;
  findingsBySeverity: SeverityCounts;
  identitiesByRisk: { critical: number; high: number; medium: number; low: number; none: number };
  alertsOverTime: Array<{ day: string; total: number } & Record<Level, number>>;
  riskiestIdentities: Array<{
    id: string;
    name: string;
    kind: string;
    provider: string;
    environment: string | null;
    owner: string | null;
    riskScore: number | null;
    openFindings: number;
  }>;
  credentialsDue: Array<{
    id: string;
    identityId: string;
    identityName: string;
    type: string;
    preview: string;
    expiresAt: string | null;
    lastRotatedAt: string | null;
    due: CredentialDue;
    days: number;
  }>;
}

const zeroSeverities = (): SeverityCounts => ({ critical: 0, high: 0, medium: 0, low: 0, info: 0 });

type OverviewStore = Pick<
  Store,
  | 'stats'
  | 'findingCounts'
  | 'listAlerts'
  | 'listApprovals'
  | 'listIdentities'
  | 'alertCountsByDay'
  | 'listCredentialsDue'
>;

/**
 * Builds the overview as of `now`.
 * @example
 * const overview = await buildOverview(app.store, app.clock.now());
 */
export async function buildOverview(store: OverviewStore, now: Date): Promise<Overview> {
  const nowMs = now.getTime();
  const firstDayMs = Math.floor(nowMs / DAY_MS) * DAY_MS - (OVERVIEW_ALERT_DAYS - 1) * DAY_MS;
  const total = async (p: Promise<{ total: number }>): Promise<number> => (await p).total;
  const [stats, counts, openAlerts, pendingApprovals, riskAtLeast, riskiest, alertDays, due] =
    await Promise.all([
      store.stats(),
      store.findingCounts(),
      total(store.listAlerts({ acknowledged: false, limit: 1 })),
      total(store.listApprovals({ status: 'pending', limit: 1 })),
      Promise.all([80, 60, 40, 1].map((minRisk) => total(store.listIdentities({ minRisk, limit: 1 })))),
      store.listIdentities({ sort: 'risk', minRisk: 1, limit: MAX_RISKIEST }),
      store.alertCountsByDay(firstDayMs),
      store.listCredentialsDue({
        now: now.toISOString(),
        expiringBefore: new Date(nowMs + EXPIRING_WITHIN_DAYS * DAY_MS).toISOString(),
        rotatedBefore: new Date(nowMs - ROTATION_MAX_DAYS * DAY_MS).toISOString(),
        limit: MAX_CREDENTIALS_DUE,
      }),
    ]);

  const open = counts.filter((c) => c.status === 'open');
  const byOwasp = new Map(OWASP_NHI_IDS.map((id) => [id, zeroSeverities()]));
  const bySeverity = zeroSeverities();
  const openByIdentity = new Map<string, number>();
  for (const c of open) {
    byOwasp.get(c.owasp)![c.severity] += c.count;
    bySeverity[c.severity] += c.count;
    openByIdentity.set(c.identityId, (openByIdentity.get(c.identityId) ?? 0) + c.count);
  }
  const [atLeast80, atLeast60, atLeast40, atLeast1] = riskAtLeast as [number, number, number, number];

  const days = new Map<string, { day: string; total: number } & Record<Level, number>>();
  for (let i = 0; i < OVERVIEW_ALERT_DAYS; i++) {
    const day = new Date(firstDayMs + i * DAY_MS).toISOString().slice(0, 10);
    days.set(day, {
      day,
      total: 0,
      ...(Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>),
    });
  }
  for (const d of alertDays) {
    const row = days.get(d.day);
    if (!row) continue;
    row[d.level] += d.count;
    row.total += d.count;
  }

  const daysBetween = (fromMs: number, toMs: number): number =>
    Math.max(0, Math.floor((toMs - fromMs) / DAY_MS));
  const credentialsDue = due.slice(0, MAX_CREDENTIALS_DUE).map((c) => {
    let n: number;
    if (c.due === 'expired') n = daysBetween(Date.parse(c.expiresAt!), nowMs);
    else if (c.due === 'expiring') n = daysBetween(nowMs, Date.parse(c.expiresAt!));
    else n = daysBetween(Date.parse(c.lastRotatedAt ?? c.createdAt!) + ROTATION_MAX_DAYS * DAY_MS, nowMs);
    return {
      id: c.id,
      identityId: c.identityId,
      identityName: c.identityName,
      type: c.type,
      preview: c.preview,
      expiresAt: c.expiresAt,
      lastRotatedAt: c.lastRotatedAt,
      due: c.due,
      days: n,
    };
  });

  return {
    postureScore: postureScore(counts, stats.identities),
    counts: {
      identities: stats.identities,
      credentials: stats.credentials,
      openFindings: open.reduce((n, c) => n + c.count, 0),
      openAlerts,
      pendingApprovals,
    },
    findingsByOwasp: OWASP_NHI_IDS.map((owasp) => ({
      owasp,
      title: OWASP_NHI_TITLES[owasp],
      ...byOwasp.get(owasp)!,
    })),
    findingsBySeverity: Object.fromEntries(
      [...SEVERITIES].reverse().map((s) => [s, bySeverity[s]]),
    ) as SeverityCounts,
    identitiesByRisk: {
      critical: atLeast80,
      high: atLeast60 - atLeast80,
      medium: atLeast40 - atLeast60,
      low: atLeast1 - atLeast40,
      none: stats.identities - atLeast1,
    },
    alertsOverTime: [...days.values()],
    riskiestIdentities: riskiest.items.map((i) => ({
      id: i.id,
      name: i.name,
      kind: i.kind,
      provider: i.provider,
      environment: i.environment,
      owner: i.owner,
      riskScore: i.riskScore,
      openFindings: openByIdentity.get(i.id) ?? 0,
    })),
    credentialsDue,
  };
}
