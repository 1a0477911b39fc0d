/** Small shared pieces: severity and risk badges, and the loading / error / empty states of a page part. */
import type { ReactNode } from 'react';
import { riskBand } from '../lib/format.js';

/** A coloured badge for a finding severity or an alert level (`critical`, `high`, … `informational`). */
export function SeverityBadge({ level }: { level: string }) {
  return <span className={`badge sev-${level}`}>{level}</span>;
}

/** A risk score with its band as text (colour is never the only signal). */
export function RiskBadge({ score }: { score: number | null | undefined }) {
  const band = riskBand(score);
  return (
    <span className={`badge sev-${band === 'none' ? 'none' : band}`} title={`risk ${band}`}>
      {score ?? '—'} <span className="visually-hidden">({band})</span>
    </span>
  );
}

/**
 * Renders `children` when there is data, else a loading line, the error (with `role="alert"`), or `empty`.
 * @example
 * <Loadable state={findings} empty="No open findings.">{(page) => <FindingTable items={page.items} />}</Loadable>
 */
export function Loadable<T>({
  state,
  empty,
  isEmpty,
  children,
}: {
  state: { data: T | undefined; error: Error | undefined; loading: boolean };
  empty?: ReactNode;
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  if (state.error)
    return (
      <p className="error" role="alert">
        {state.error.message}
      </p>
    );
  if (state.data === undefined)
    return (
      <p className="muted" role="status">
        Loading…
      </p>
    );
  if (empty !== undefined && isEmpty?.(state.data)) return <p className="muted">{empty}</p>;
  return <>{children(state.data)}</>;
}
