/**
 * Our own small SVG charts: horizontal bars (`BarChart`), horizontal stacked bars (`StackedBars`) and stacked
 * columns (`ColumnChart`). Each is an `<svg role="img">` whose `aria-label` states the numbers, with a legend
 * in words and a "Show data table" disclosure holding the same numbers as a table, so colour is never the
 * only signal. Colours come from CSS classes (`tone-critical`, …) so both themes apply.
 */
import type { ReactNode } from 'react';
import { Link } from 'react-router';

/** One stacked series: its key in each row's `values`, its name, and its colour (`critical`, `high`, …). */
export interface ChartSeries {
  key: string;
  label: string;
  tone: string;
}

/** A bar (or column) made of one value per series. */
export interface StackedDatum {
  key: string;
  label: string;
  /** Longer name for the table and the accessible label (`NHI1 Improper Offboarding`). */
  title?: string;
  /** Where the row's name in the data table links to. */
  href?: string;
  values: Record<string, number>;
}

/** A single-value bar. */
export interface BarDatum {
  key: string;
  label: string;
  value: number;
  tone: string;
  href?: string;
}

/** Width of the bar charts' drawing: about their width on screen in a two-column grid. */
const VIEW_WIDTH = 440;
/** Width of the column chart's drawing (it spans the page). */
const COLUMN_VIEW_WIDTH = 900;
const ROW_HEIGHT = 22;
const ROW_GAP = 8;
const CHAR_WIDTH = 6.6;

function total(d: StackedDatum, series: readonly ChartSeries[]): number {
  return series.reduce((s, x) => s + (d.values[x.key] ?? 0), 0);
}

/** Shortens `text` to about `width` units of 12px text. */
export function fitText(text: string, width: number): string {
  const max = Math.max(1, Math.floor(width / CHAR_WIDTH));
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** `3 (1 critical, 2 high)`: a total and its non-zero parts in words. */
export function describeParts(d: StackedDatum, series: readonly ChartSeries[]): string {
  const parts = series
    .filter((s) => (d.values[s.key] ?? 0) > 0)
    .map((s) => `${d.values[s.key]} ${s.label.toLowerCase()}`);
  const sum = total(d, series);
  return parts.length > 1 ? `${sum} (${parts.join(', ')})` : parts.length === 1 ? parts[0]! : '0';
}

function Legend({ series }: { series: readonly ChartSeries[] }) {
  return (
    <ul className="chart-legend" aria-hidden>
      {series.map((s) => (
        <li key={s.key}>
          <span className={`swatch tone-${s.tone}`} /> {s.label}
        </li>
      ))}
    </ul>
  );
}

function RowName({ d }: { d: { label: string; title?: string; href?: string } }) {
  const text = d.title ?? d.label;
  return d.href ? <Link to={d.href}>{text}</Link> : <>{text}</>;
}

function DataTable({
  caption,
  rowHeader,
  columns,
  rows,
}: {
  caption: string;
  rowHeader: string;
  columns: string[];
  rows: Array<{ key: string; name: ReactNode; cells: number[] }>;
}) {
  return (
    <details className="chart-table">
      <summary>Show data table</summary>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{rowHeader}</th>
              {columns.map((c) => (
                <th key={c} scope="col" className="num">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.name}</th>
                {r.cells.map((v, i) => (
                  <td key={columns[i]} className="num">
                    {v}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/**
 * Horizontal stacked bars, one row per datum, segments in `series` order; the total is written at the end.
 * @example
 * <StackedBars title="Open findings by OWASP NHI category" rows={rows} series={SEVERITY_SERIES} />
 */
export function StackedBars({
  title,
  rows,
  series,
  labelWidth = 150,
  rowHeader = 'Category',
}: {
  title: string;
  rows: readonly StackedDatum[];
  series: readonly ChartSeries[];
  labelWidth?: number;
  rowHeader?: string;
}) {
  const totals = rows.map((r) => total(r, series));
  const max = Math.max(1, ...totals);
  const barArea = VIEW_WIDTH - labelWidth - 44;
  const height = Math.max(1, rows.length * (ROW_HEIGHT + ROW_GAP) - ROW_GAP);
  const label = `${title}: ${rows.map((r) => `${r.title ?? r.label} ${describeParts(r, series)}`).join('; ')}.`;
  return (
    <figure className="chart">
      <svg
        role="img"
        aria-label={label}
        viewBox={`0 0 ${VIEW_WIDTH} ${height}`}
        width="100%"
        preserveAspectRatio="xMinYMin meet"
      >
        {rows.map((r, i) => {
          const y = i * (ROW_HEIGHT + ROW_GAP);
          let x = labelWidth;
          return (
            <g key={r.key}>
              <text x={labelWidth - 8} y={y + ROW_HEIGHT / 2} className="chart-label" textAnchor="end">
                {fitText(r.label, labelWidth - 8)}
              </text>
              <rect x={labelWidth} y={y} width={barArea} height={ROW_HEIGHT} className="chart-track" />
              {series.map((s) => {
                const v = r.values[s.key] ?? 0;
                if (v <= 0) return null;
                const w = (v / max) * barArea;
                const seg = (
                  <g key={s.key}>
                    <rect x={x} y={y} width={w} height={ROW_HEIGHT} className={`tone-${s.tone}`}>
                      <title>{`${r.title ?? r.label}: ${v} ${s.label.toLowerCase()}`}</title>
                    </rect>
                    {w >= 8 + String(v).length * CHAR_WIDTH && (
                      <text
                        x={x + w / 2}
                        y={y + ROW_HEIGHT / 2}
                        className="chart-seg-label"
                        textAnchor="middle"
                      >
                        {v}
                      </text>
                    )}
                  </g>
                );
                x += w;
                return seg;
              })}
              <text x={labelWidth + barArea + 6} y={y + ROW_HEIGHT / 2} className="chart-label">
                {totals[i]}
              </text>
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
      <DataTable
        caption={title}
        rowHeader={rowHeader}
        columns={[...series.map((s) => s.label), 'Total']}
        rows={rows.map((r, i) => ({
          key: r.key,
          name: <RowName d={r} />,
          cells: [...series.map((s) => r.values[s.key] ?? 0), totals[i]!],
        }))}
      />
    </figure>
  );
}

/**
 * Horizontal bars of single values, each in its own colour, with the value written after the bar.
 * @example
 * <BarChart title="Identities by risk band" rows={[{ key: 'high', label: 'High', value: 4, tone: 'high' }]} />
 */
export function BarChart({
  title,
  rows,
  labelWidth = 110,
  rowHeader = 'Band',
}: {
  title: string;
  rows: readonly BarDatum[];
  labelWidth?: number;
  rowHeader?: string;
}) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const barArea = VIEW_WIDTH - labelWidth - 56;
  const height = Math.max(1, rows.length * (ROW_HEIGHT + ROW_GAP) - ROW_GAP);
  const label = `${title}: ${rows.map((r) => `${r.label} ${r.value}`).join('; ')}.`;
  return (
    <figure className="chart">
      <svg
        role="img"
        aria-label={label}
        viewBox={`0 0 ${VIEW_WIDTH} ${height}`}
        width="100%"
        preserveAspectRatio="xMinYMin meet"
      >
        {rows.map((r, i) => {
          const y = i * (ROW_HEIGHT + ROW_GAP);
          const w = (r.value / max) * barArea;
          return (
            <g key={r.key}>
              <text x={labelWidth - 8} y={y + ROW_HEIGHT / 2} className="chart-label" textAnchor="end">
                {fitText(r.label, labelWidth - 8)}
              </text>
              <rect x={labelWidth} y={y} width={barArea} height={ROW_HEIGHT} className="chart-track" />
              {r.value > 0 && (
                <rect x={labelWidth} y={y} width={w} height={ROW_HEIGHT} className={`tone-${r.tone}`}>
                  <title>{`${r.label}: ${r.value}`}</title>
                </rect>
              )}
              <text x={labelWidth + w + 6} y={y + ROW_HEIGHT / 2} className="chart-label">
                {r.value}
              </text>
            </g>
          );
        })}
      </svg>
      <DataTable
        caption={title}
        rowHeader={rowHeader}
        columns={['Count']}
        rows={rows.map((r) => ({ key: r.key, name: <RowName d={r} />, cells: [r.value] }))}
      />
    </figure>
  );
}

/** A round upper bound for an axis: 1, 2, 5, 10, 20, 50, … at or above `n`. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/**
 * Stacked columns over a sequence (days), with a y axis (0, half, max), gridlines, and every
 * `labelEvery`-th column named under the axis.
 * @example
 * <ColumnChart title="Alerts over the last 30 days" columns={days} series={ALERT_SERIES} />
 */
export function ColumnChart({
  title,
  columns,
  series,
  labelEvery = 5,
  rowHeader = 'Day',
  formatLabel = (s) => s,
}: {
  title: string;
  columns: readonly StackedDatum[];
  series: readonly ChartSeries[];
  labelEvery?: number;
  rowHeader?: string;
  /** Short form of a column's label under the axis (`11-29` for `2026-11-29`). */
  formatLabel?: (label: string) => string;
}) {
  const height = 200;
  const left = 34;
  const bottom = 22;
  const top = 8;
  const plotH = height - top - bottom;
  const plotW = COLUMN_VIEW_WIDTH - left - 4;
  const totals = columns.map((c) => total(c, series));
  const sum = totals.reduce((s, v) => s + v, 0);
  const max = niceMax(Math.max(0, ...totals));
  const slot = plotW / Math.max(1, columns.length);
  const barW = Math.max(1, slot * 0.7);
  const busiest = totals.indexOf(Math.max(...totals));
  const label =
    columns.length === 0
      ? `${title}: no data.`
      : `${title}: ${sum} in ${columns.length} ${columns.length === 1 ? 'day' : 'days'}, from ${columns[0]!.label} to ${columns[columns.length - 1]!.label}` +
        (sum > 0
          ? `; most on ${columns[busiest]!.label} with ${describeParts(columns[busiest]!, series)}.`
          : '.');
  const y = (v: number) => top + plotH - (v / max) * plotH;
  return (
    <figure className="chart">
      <div className="chart-scroll">
        <svg
          role="img"
          aria-label={label}
          viewBox={`0 0 ${COLUMN_VIEW_WIDTH} ${height}`}
          width="100%"
          preserveAspectRatio="xMinYMin meet"
        >
          {[0, max / 2, max].map((t) => (
            <g key={t}>
              <line x1={left} x2={COLUMN_VIEW_WIDTH - 4} y1={y(t)} y2={y(t)} className="chart-grid" />
              <text x={left - 6} y={y(t)} className="chart-label" textAnchor="end">
                {Number.isInteger(t) ? t : t.toFixed(1)}
              </text>
            </g>
          ))}
          {columns.map((c, i) => {
            const x = left + i * slot + (slot - barW) / 2;
            let acc = 0;
            return (
              <g key={c.key}>
                <title>{`${c.title ?? c.label}: ${describeParts(c, series)}`}</title>
                {series.map((s) => {
                  const v = c.values[s.key] ?? 0;
                  if (v <= 0) return null;
                  const y1 = y(acc + v);
                  const h = y(acc) - y1;
                  acc += v;
                  return (
                    <rect key={s.key} x={x} y={y1} width={barW} height={h} className={`tone-${s.tone}`} />
                  );
                })}
                {i % labelEvery === 0 && (
                  <text x={x + barW / 2} y={height - 10} className="chart-label" textAnchor="middle">
                    {formatLabel(c.label)}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <Legend series={series} />
      <DataTable
        caption={title}
        rowHeader={rowHeader}
        columns={[...series.map((s) => s.label), 'Total']}
        rows={columns.map((c, i) => ({
          key: c.key,
          name: <RowName d={c} />,
          cells: [...series.map((s) => c.values[s.key] ?? 0), totals[i]!],
        }))}
      />
    </figure>
  );
}
