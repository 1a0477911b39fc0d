/**
 * Sends stored alerts to webhooks, from the store's outbox (`detect_deliveries`): JSON (the alert and its OCSF
 * Detection Finding) or a Slack-compatible message. Deliveries are claimed with a lease, so several server
 * processes can run deliverers against one PostgreSQL; a failed attempt is retried with exponential backoff
 * until `maxAttempts`, a refusal that retrying cannot change (4xx other than 408 and 429) is given up at once.
 *
 * A webhook URL can itself be a secret (Slack's are): it is never logged, stored or put in an error; targets
 * are known by name.
 */
import { z } from 'zod';
import type { Clock } from '../core/time.js';
import type { AlertDelivery, AlertStore, StoredAlert } from '../store/store-types.js';
import { toOcsfFinding } from './output/alert-output.js';

/** A webhook as configured (`detect.webhooks` in the config file). */
export const webhookTargetSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and hyphens (at most 63)')
      .describe(
        'How the webhook is known in logs and the outbox (its URL may be a secret and is never shown)',
      ),
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'must be an http or https URL')
      .describe('Where alerts are POSTed'),
    format: z
      .enum(['json', 'slack'])
      .default('json')
      .describe('json: the alert and its OCSF finding; slack: a message'),
    minLevel: z
      .enum(['informational', 'low', 'medium', 'high', 'critical'])
      .default('low')
      .describe('Alerts below this level are not sent'),
  })
  .strict();

export type WebhookTarget = z.output<typeof webhookTargetSchema>;

const LEVEL_RANK = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 } as const;

/** What the deliverer needs. */
export interface DelivererDeps {
  store: Pick<AlertStore, 'claimDeliveries' | 'finishDelivery'>;
  targets: readonly WebhookTarget[];
  clock: Clock;
  /** The fetch to send with (tests pass their own); default the global fetch (undici). */
  fetch?: typeof fetch;
  /** Told about failed attempts (name of the target and the reason; never the URL). */
  onError?: (err: unknown, context: { target: string; alertId: string; attempt: number }) => void;
  /** Attempts before a delivery is given up (default 8). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs (defaults 2 s and 10 min). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a claimed delivery is hidden from other deliverers (default 30 s). */
  leaseMs?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
}

/** The body a target gets for an alert. */
export function webhookBody(target: WebhookTarget, alert: StoredAlert): Record<string, unknown> {
  if (target.format === 'slack') {
    const when = new Date(alert.windowEnd).toISOString();
    return {
      text: `[${alert.level.toUpperCase()}] ${alert.ruleTitle}: ${alert.summary} (${when}, alert ${alert.id})`,
    };
  }
  return { alert, finding: toOcsfFinding(alert) };
}

/** Why an answer failed, and whether to try again. */
function judge(status: number): { retry: boolean; error: string } {
  const retry = status >= 500 || status === 408 || status === 429;
  return { retry, error: `HTTP ${status}` };
}

/**
 * Creates a deliverer.
 * @example
 * const deliverer = createAlertDeliverer({ store, targets: config.detect.webhooks, clock });
 * deliverer.start(2000);
 */
export function createAlertDeliverer(deps: DelivererDeps) {
  const send = deps.fetch ?? fetch;
  const maxAttempts = deps.maxAttempts ?? 8;
  const base = deps.baseBackoffMs ?? 2000;
  const cap = deps.maxBackoffMs ?? 600_000;
  const leaseMs = deps.leaseMs ?? 30_000;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const byName = new Map(deps.targets.map((t) => [t.name, t]));
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;

  const deliver = async (d: AlertDelivery): Promise<'sent' | 'retry' | 'failed'> => {
    const now = deps.clock.now();
    const target = byName.get(d.target);
    const fail = async (error: string, retry: boolean): Promise<'retry' | 'failed'> => {
      const again = retry && d.attempts < maxAttempts;
      const delay = Math.min(cap, base * 2 ** (d.attempts - 1));
      await deps.store.finishDelivery(d.alertId, d.target, {
        ok: false,
        error,
        retryAt: again ? new Date(now.getTime() + delay).toISOString() : null,
      });
      deps.onError?.(new Error(`webhook ${d.target}: ${error}`), {
        target: d.target,
        alertId: d.alertId,
        attempt: d.attempts,
      });
      return again ? 'retry' : 'failed';
    };
    if (!target) return fail('no webhook of this name is configured any more', false);
    if (LEVEL_RANK[d.alert.level] < LEVEL_RANK[target.minLevel]) {
      // Below the target's level: settled without a request.
      await deps.store.finishDelivery(d.alertId, d.target, { ok: true, time: now.toISOString() });
      return 'sent';
    }
    let status: number;
    try {
      const res = await send(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'keyward-alerts' },
        body: JSON.stringify(webhookBody(target, d.alert)),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
    } catch (err) {
      // The URL is not part of the reason: undici's messages name only the failure.
      const reason = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'could not connect';
      return fail(reason, true);
    }
    if (status >= 200 && status < 300) {
      await deps.store.finishDelivery(d.alertId, d.target, {
        ok: true,
        time: deps.clock.now().toISOString(),
      });
      return 'sent';
    }
    const verdict = judge(status);
    return fail(verdict.error, verdict.retry);
  };

  /** Sends what is due now; resolves with counts. */
  const runOnce = async (limit = 100): Promise<{ sent: number; retry: number; failed: number }> => {
    const due = await deps.store.claimDeliveries(deps.clock.now().toISOString(), leaseMs, limit, [
      ...byName.keys(),
    ]);
    const counts = { sent: 0, retry: 0, failed: 0 };
    const outcomes = await Promise.all(due.map(deliver));
    for (const o of outcomes) counts[o]++;
    return counts;
  };

  return {
    runOnce,
    /** Polls the outbox every `intervalMs` (the timer does not keep the process alive). */
    start(intervalMs = 2000): void {
      if (timer || deps.targets.length === 0) return;
      const tick = (): void => {
        running = runOnce()
          .catch((err: unknown) => deps.onError?.(err, { target: '*', alertId: '*', attempt: 0 }))
          .finally(() => {
            running = null;
            if (timer) timer = setTimeout(tick, intervalMs).unref();
          });
      };
      timer = setTimeout(tick, 0).unref();
    },
    async stop(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
