/**
 * Continuous detection in the server: the loaded rules run over Keyward's own event log (tailed from a stored
 * checkpoint) and over events posted to the API; alerts are stored (a replay stores nothing twice) and queued
 * for the configured webhooks, which a deliverer sends.
 *
 * Correlation state lives in memory: a restart forgets pending windows (the log tail resumes from its
 * checkpoint, so its own events are not read twice, and alerts already stored are not stored again).
 */
import type { Clock } from '../core/time.js';
import type { Store } from '../store/index.js';
import type { DetectConfig } from './detect-config.js';
import { createDetector, loadDetectionRules, type Detector, type LoadedRules } from './detect-service.js';
import type { AdapterName, Alert, BrokenRecord, DetectEvent } from './detect-types.js';
import { eventFromKeywardRecord, isBrokenRecord, normalizeRecord } from './events/index.js';
import { createAlertDeliverer } from './webhooks.js';

/** The setting that holds the seq of the last log record detection read. */
export const LOG_CHECKPOINT = 'detect.log_seq';
const LOG_BATCH = 1000;
const ALERT_FLUSH_MS = 200;

/** What POST /api/v1/detect/events answers. */
export interface IngestResult {
  accepted: number;
  /** Lines that were not events (1-based line of the body and the reason), at most 100. */
  broken: Array<{ line: number; reason: string }>;
  brokenCount: number;
}

export interface DetectionServiceDeps {
  store: Store;
  config: DetectConfig;
  clock: Clock;
  onError: (err: unknown) => void;
  /** Webhook sending (default: the global fetch). */
  fetch?: typeof fetch;
}

/**
 * Creates the service; nothing runs until `start()`.
 * @example
 * const detection = createDetectionService({ store, config: config.detect, clock, onError });
 * await detection.start();
 */
export function createDetectionService(deps: DetectionServiceDeps) {
  const { store, config } = deps;
  let rules: LoadedRules | null = null;
  let detector: Detector | null = null;
  let pending: Alert[] = [];
  let flushTimer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let tailTimer: NodeJS.Timeout | null = null;
  let tailing: Promise<void> | null = null;
  let seq = 0;
  let running = false;
  const counters = { ingested: 0, fromLog: 0, brokenIngest: 0, alertsStored: 0 };
  const targets = config.webhooks.map((w) => w.name);
  const deliverer = createAlertDeliverer({
    store,
    targets: config.webhooks,
    clock: deps.clock,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    onError: (err) => deps.onError(err),
  });

  /** Stores the alerts raised so far (one transaction), queueing their webhook deliveries. */
  const flushAlerts = (): Promise<void> => {
    flushing = flushing.then(async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      try {
        const stored = await store.saveAlerts(batch, {
          source: 'stream',
          time: deps.clock.now().toISOString(),
          targets,
        });
        counters.alertsStored += stored.length;
      } catch (err) {
        // Kept for the next flush: an alert is not lost because the store was briefly down.
        pending = [...batch, ...pending];
        deps.onError(err);
      }
    });
    return flushing;
  };

  const onAlert = (alert: Alert): void => {
    pending.push(alert);
    flushTimer ??= setTimeout(() => {
      flushTimer = null;
      void flushAlerts();
    }, ALERT_FLUSH_MS).unref();
  };

  const push = (event: DetectEvent): void => {
    detector?.push(event);
  };

  /** Reads new records of the event log into detection, then moves the checkpoint. */
  const tail = async (): Promise<void> => {
    for (;;) {
      const records = await store.readEvents(seq, LOG_BATCH);
      if (records.length === 0) return;
      for (const r of records) {
        push(eventFromKeywardRecord(r));
        counters.fromLog++;
      }
      seq = records[records.length - 1]!.seq;
      // Alerts first, then the checkpoint: a crash in between reads the records again, and their alerts
      // (same ids) are not stored twice.
      await flushAlerts();
      // Several processes tail the same log: the checkpoint only moves forward.
      const stored = Number((await store.getSetting(LOG_CHECKPOINT)) ?? 0);
      if (!(stored >= seq)) await store.setSetting(LOG_CHECKPOINT, String(seq));
      if (records.length < LOG_BATCH) return;
    }
  };

  const scheduleTail = (): void => {
    if (!running) return;
    tailTimer = setTimeout(() => {
      tailing = tail()
        .catch(deps.onError)
        .finally(() => {
          tailing = null;
          scheduleTail();
        });
    }, config.logPollIntervalMs).unref();
  };

  return {
    /** Loads the rules, starts tailing the event log and sending webhooks. Throws when no rule loads. */
    async start(): Promise<LoadedRules> {
      rules = await loadDetectionRules(config.rules, {
        builtin: config.builtinRules,
        placeholders: config.placeholders,
      });
      detector = createDetector(rules, {
        allowedLatenessMs: config.allowedLatenessMs,
        maxStateEntries: config.maxStateEntries,
        onAlert,
      });
      const saved = await store.getSetting(LOG_CHECKPOINT);
      seq = saved === null ? 0 : Number(saved) || 0;
      running = true;
      scheduleTail();
      deliverer.start();
      return rules;
    },

    /**
     * Evaluates records posted to the API (NDJSON lines already split): each becomes an event of `adapter`
     * (or is reported by line); alerts are stored before this resolves.
     */
    async ingest(lines: string[], adapter: AdapterName): Promise<IngestResult> {
      const result: IngestResult = { accepted: 0, broken: [], brokenCount: 0 };
      const bad = (line: number, reason: string): void => {
        result.brokenCount++;
        counters.brokenIngest++;
        if (result.broken.length < 100) result.broken.push({ line, reason });
      };
      lines.forEach((text, i) => {
        if (text.trim() === '') return;
        let record: unknown;
        try {
          record = JSON.parse(text);
        } catch {
          bad(i + 1, 'not JSON');
          return;
        }
        const event = normalizeRecord(adapter, record, { line: i + 1, seq: counters.ingested + 1 });
        if (isBrokenRecord(event)) {
          bad(i + 1, (event as BrokenRecord).reason);
          return;
        }
        push(event);
        counters.ingested++;
        result.accepted++;
      });
      await flushAlerts();
      return result;
    },

    /** Rules loaded (null before start) and counters. */
    status() {
      return {
        running,
        rules: rules
          ? {
              detections: rules.detections.length,
              correlations: rules.correlations.length,
              errors: rules.errors,
            }
          : null,
        logSeq: seq,
        ...counters,
        engine: detector?.stats() ?? null,
      };
    },

    /** The loaded rules' report (for GET /api/v1/detect/rules). */
    report: () => rules?.report ?? null,

    /** Stops tailing and sending, and stores the alerts raised so far. */
    async stop(): Promise<void> {
      running = false;
      if (tailTimer) clearTimeout(tailTimer);
      if (flushTimer) clearTimeout(flushTimer);
      await tailing;
      await flushAlerts();
      await deliverer.stop();
    },
  };
}

/** The detection service's interface. */
export type DetectionService = ReturnType<typeof createDetectionService>;
