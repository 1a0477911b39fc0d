/** The data of an event-log record: one shortened line, expanding to the whole JSON on request. */

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
