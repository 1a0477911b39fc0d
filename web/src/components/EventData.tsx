/** Event-log records: a table of them, and each record's data as one shortened line that expands to the JSON. */
import type { ReactNode } from 'react';
import { formatTime } from '../lib/format.js';
import type { EventRecord } from '../lib/types-ops.js';

/** The record's data as one line, cut at `max` characters. */
export function dataLine(data: Record<string, unknown>, max = 160): string {
  const s = JSON.stringify(data);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export function EventData({ data }: { data: Record<string, unknown> }) {
  const line = dataLine(data);
  if (!line.endsWith('…')) return <span className="mono small">{line}</span>;
  return (
    <details className="event-data">
      <summary className="mono small">{line}</summary>
      <pre className="mono small">{JSON.stringify(data, null, 2)}</pre>
    </details>
  );
}

/** Records of the event log in a table (sequence number, time, type, actor, subject, data). */
export function EventTable({
  events,
  label,
  children,
}: {
  events: EventRecord[];
  label?: string;
  /** Shown under the table (an empty-result note). */
  children?: ReactNode;
}) {
  return (
    <div className="table-wrap card">
      <table aria-label={label}>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Type</th>
            <th scope="col">Actor</th>
            <th scope="col">Subject</th>
            <th scope="col">Data</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{e.seq}</td>
              <td>{formatTime(e.time)}</td>
              <td className="mono">{e.type}</td>
              <td className="mono">{e.actor}</td>
              <td className="mono">{e.subject ?? '—'}</td>
              <td className="data-cell">
                <EventData data={e.data} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {children}
    </div>
  );
}
