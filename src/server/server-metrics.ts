/** Prometheus metrics (text exposition format 0.0.4): HTTP traffic plus inventory gauges read from the store. */
import { SEVERITIES, type Severity } from '../core/types.js';
import type { Store, StoreStats } from '../store/index.js';

/** The Content-Type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Upper bounds (seconds) of the request latency histogram buckets. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** What the metrics need: the store for gauges, a clock for the gauge cache. */
export interface MetricsDeps {
  store: Pick<Store, 'stats' | 'listFindings'>;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** How long store-derived gauges are reused before the store is asked again (default 5000 ms). */
  cacheMs?: number;
}

interface StoreGauges {
  up: boolean;
  stats: StoreStats | null;
  findingsBySeverity: Record<Severity, number> | null;
}

interface Series {
  labels: string;
  value: number;
}

interface HistogramSeries {
  labels: string;
  buckets: number[];
  sum: number;
  count: number;
}

/** Escapes a label value per the text format: backslash, double quote and line feed. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Renders `{a="1",b="2"}` from ordered pairs. */
function labelText(pairs: ReadonlyArray<readonly [string, string]>): string {
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/** Formats a sample value the way Prometheus parses it. */
function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/**
 * Creates the metrics collector.
 * @example
 * const metrics = createMetrics({ store });
 * metrics.observeRequest('GET', '/api/v1/identities', 200, 0.012);
 * const text = await metrics.render();
 */
export function createMetrics(deps: MetricsDeps) {
  const now = deps.now ?? Date.now;
  const cacheMs = deps.cacheMs ?? 5000;
  const requests = new Map<string, Series>();
  const durations = new Map<string, HistogramSeries>();
  const byKey = new Map<string, { counter: Series; histogram: HistogramSeries }>();
  let cached: { at: number; gauges: StoreGauges } | null = null;
  let inflight: Promise<StoreGauges> | null = null;

  async function readStore(): Promise<StoreGauges> {
    try {
      const stats = await deps.store.stats();
      // Cumulative counts per threshold, then differences give the count at each exact severity.
      const atLeast = await Promise.all(
        SEVERITIES.map(
          async (s) => (await deps.store.listFindings({ minSeverity: s, status: 'open', limit: 1 })).total,
        ),
      );
      const findingsBySeverity = {} as Record<Severity, number>;
      SEVERITIES.forEach((s, i) => {
        findingsBySeverity[s] = atLeast[i]! - (atLeast[i + 1] ?? 0);
      });
      return { up: true, stats, findingsBySeverity };
    } catch {
      return { up: false, stats: null, findingsBySeverity: null };
    }
  }

  /** Store-derived gauges, re-read at most every `cacheMs` (concurrent scrapes share one read). */
  async function storeGauges(): Promise<StoreGauges> {
    const t = now();
    if (cached && t - cached.at < cacheMs) return cached.gauges;
    if (!inflight) {
      inflight = readStore().then((gauges) => {
        cached = { at: now(), gauges };
        inflight = null;
        return gauges;
      });
    }
    return inflight;
  }

  return {
    /** Counts one finished request and records its latency in seconds; `route` is the route template. */
    observeRequest(method: string, route: string, status: number, seconds: number): void {
      // The series of a (method, route, status) are looked up by a plain key; their label text is made once.
      const key = `${method} ${status} ${route}`;
      let series = byKey.get(key);
      if (!series) {
        const labels = labelText([
          ['method', method],
          ['route', route],
          ['status', String(status)],
        ]);
        let counter = requests.get(labels);
        if (!counter) {
          counter = { labels, value: 0 };
          requests.set(labels, counter);
        }
        let h = durations.get(labels);
        if (!h) {
          h = { labels, buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
          durations.set(labels, h);
        }
        series = { counter, histogram: h };
        byKey.set(key, series);
      }
      series.counter.value++;
      const h = series.histogram;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        if (seconds <= LATENCY_BUCKETS[i]!) h.buckets[i]!++;
      }
      h.sum += seconds;
      h.count++;
    },

    /** The whole exposition, in text format 0.0.4. */
    async render(): Promise<string> {
      const out: string[] = [];
      out.push(
        '# HELP keyward_http_requests_total HTTP requests served, by method, route template and status.',
      );
      out.push('# TYPE keyward_http_requests_total counter');
      for (const s of [...requests.values()].sort((a, b) => a.labels.localeCompare(b.labels))) {
        out.push(`keyward_http_requests_total${s.labels} ${num(s.value)}`);
      }

      out.push(
        '# HELP keyward_http_request_duration_seconds HTTP request latency, by method, route template and status.',
      );
      out.push('# TYPE keyward_http_request_duration_seconds histogram');
      for (const h of [...durations.values()].sort((a, b) => a.labels.localeCompare(b.labels))) {
        const inner = h.labels.slice(1, -1);
        LATENCY_BUCKETS.forEach((le, i) => {
          out.push(`keyward_http_request_duration_seconds_bucket{${inner},le="${le}"} ${num(h.buckets[i]!)}`);
        });
        out.push(`keyward_http_request_duration_seconds_bucket{${inner},le="+Inf"} ${num(h.count)}`);
        out.push(`keyward_http_request_duration_seconds_sum${h.labels} ${num(h.sum)}`);
        out.push(`keyward_http_request_duration_seconds_count${h.labels} ${num(h.count)}`);
      }

      const g = await storeGauges();
      out.push('# HELP keyward_store_up 1 when the last read of the store for these metrics succeeded.');
      out.push('# TYPE keyward_store_up gauge');
      out.push(`keyward_store_up ${g.up ? 1 : 0}`);
      if (g.stats) {
        out.push(
          '# HELP keyward_inventory_rows Rows per store table: identities, credentials, grants, resources, people, findings, events.',
        );
        out.push('# TYPE keyward_inventory_rows gauge');
        for (const [table, n] of Object.entries(g.stats)) {
          out.push(`keyward_inventory_rows${labelText([['table', table]])} ${num(n)}`);
        }
      }
      if (g.findingsBySeverity) {
        out.push('# HELP keyward_findings_open Open posture findings, by severity.');
        out.push('# TYPE keyward_findings_open gauge');
        for (const s of SEVERITIES) {
          out.push(`keyward_findings_open${labelText([['severity', s]])} ${num(g.findingsBySeverity[s])}`);
        }
      }
      return out.join('\n') + '\n';
    },
  };
}

/** The metrics collector's type. */
export type Metrics = ReturnType<typeof createMetrics>;
