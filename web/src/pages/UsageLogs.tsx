// Usage logs of a repository, namespace or the whole registry: a date range (the last month
// by default, never earlier nor into the future), a filter, a chart of entries per day.

import { useMemo, useState } from 'react';
import { Button, EmptyState, Toolbar, ToolbarContent, ToolbarItem } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api } from '../api';
import { formatDate } from '../format';
import { useLoad } from '../hooks';
import { describeLog } from '../logDescriptions';
import { LoadError, Loading } from '../components/common';
import { DateRange, FilterInput } from '../components/TableToolbar';

interface LogEntry {
  kind: string;
  metadata: Record<string, unknown>;
  ip: string | null;
  datetime: string;
  performer: { name: string; is_robot: boolean } | null;
}
interface LogList {
  logs: LogEntry[];
  next_page?: string | null;
}
interface Aggregated {
  aggregated: { kind: string; count: number; datetime: string }[];
}

const DAY_MS = 86_400_000;
const isoDay = (date: Date) => date.toISOString().slice(0, 10);
/** `YYYY-MM-DD` to the API's `MM/DD/YYYY`. */
const apiDay = (day: string) => {
  const [year, month, date] = day.split('-');
  return `${month}/${date}/${year}`;
};

/** `base` is the API path the logs hang off (`/api/v1/repository/ns/r`, `/api/v1/superuser`). */
export function UsageLogs({ base }: { base: string }) {
  const today = isoDay(new Date());
  // The server counts at most 31 days at once, both ends included.
  const earliest = isoDay(new Date(Date.now() - 30 * DAY_MS));
  const [start, setStart] = useState(earliest);
  const [end, setEnd] = useState(today);
  const [filter, setFilter] = useState('');
  const [chart, setChart] = useState(true);
  const [more, setMore] = useState<LogEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const range = `starttime=${encodeURIComponent(apiDay(start))}&endtime=${encodeURIComponent(apiDay(end))}`;

  const { data, error } = useLoad(async () => {
    const [page, aggregated] = await Promise.all([
      api.get<LogList>(`${base}/logs?${range}`),
      api.get<Aggregated>(`${base}/aggregatelogs?${range}`),
    ]);
    setMore([]);
    setNext(page.next_page ?? null);
    return { logs: page.logs, aggregated: aggregated.aggregated };
  }, [base, range]);

  const loadMore = async () => {
    if (!next) return;
    const page = await api.get<LogList>(`${base}/logs?${range}&next_page=${encodeURIComponent(next)}`);
    setMore((shown) => [...shown, ...page.logs]);
    setNext(page.next_page ?? null);
  };

  const rows = useMemo(() => {
    const all = [...(data?.logs ?? []), ...more].map((entry) => ({
      entry,
      description: describeLog(entry.kind, entry.metadata ?? {}),
    }));
    const wanted = filter.trim().toLowerCase();
    return wanted
      ? all.filter(
          ({ entry, description }) =>
            description.toLowerCase().includes(wanted) ||
            (entry.performer?.name ?? '').toLowerCase().includes(wanted) ||
            (entry.ip ?? '').includes(wanted),
        )
      : all;
  }, [data, more, filter]);

  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <DateRange
            from={start}
            to={end}
            earliest={earliest}
            latest={today}
            onChange={(first, last) => {
              if (first) setStart(first);
              if (last) setEnd(last);
            }}
          />
          <ToolbarItem>
            <FilterInput label="Filter logs" value={filter} onChange={setFilter} />
          </ToolbarItem>
          <ToolbarItem>
            <Button variant="secondary" onClick={() => setChart((shown) => !shown)}>
              {chart ? 'Hide Chart' : 'Show Chart'}
            </Button>
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {error && <LoadError error={error} />}
      {!data ? (
        <Loading what="usage logs" />
      ) : (
        <>
          {chart && <LogChart aggregated={data.aggregated} start={start} end={end} />}
          {rows.length === 0 ? (
            <EmptyState titleText="No log entries" headingLevel="h2" />
          ) : (
            <Table aria-label="Usage logs" variant="compact" data-testid="usage-logs-table">
              <Thead>
                <Tr>
                  <Th>Date &amp; Time</Th>
                  <Th>Description</Th>
                  <Th>Performed by</Th>
                  <Th>IP Address</Th>
                </Tr>
              </Thead>
              <Tbody>
                {rows.map(({ entry, description }, index) => (
                  <Tr key={`${entry.datetime}-${index}`}>
                    <Td dataLabel="Date & Time">{formatDate(entry.datetime)}</Td>
                    <Td dataLabel="Description">{description}</Td>
                    <Td dataLabel="Performed by">
                      {entry.performer
                        ? `${entry.performer.name}${entry.performer.is_robot ? ' (robot)' : ''}`
                        : '(anonymous)'}
                    </Td>
                    <Td dataLabel="IP Address">{entry.ip ?? ''}</Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          )}
          {next && (
            <Button variant="link" onClick={loadMore}>
              Load more
            </Button>
          )}
        </>
      )}
    </>
  );
}

/** Entries per day, as plain SVG bars (no charting library for one chart). */
function LogChart({ aggregated, start, end }: { aggregated: Aggregated['aggregated']; start: string; end: string }) {
  const perDay = new Map<string, number>();
  for (const row of aggregated) {
    const day = isoDay(new Date(row.datetime));
    perDay.set(day, (perDay.get(day) ?? 0) + row.count);
  }
  const days: string[] = [];
  for (
    let time = new Date(`${start}T00:00:00Z`).getTime();
    time <= new Date(`${end}T00:00:00Z`).getTime();
    time += DAY_MS
  ) {
    days.push(isoDay(new Date(time)));
  }
  const highest = Math.max(1, ...days.map((day) => perDay.get(day) ?? 0));
  const width = Math.max(days.length * 14, 200);
  const total = days.reduce((sum, day) => sum + (perDay.get(day) ?? 0), 0);
  return (
    <figure className="quay-chart" data-testid="usage-logs-chart">
      <svg
        viewBox={`0 0 ${width} 120`}
        width="100%"
        height="120"
        role="img"
        aria-label={`${total} log entries between ${start} and ${end}`}
        preserveAspectRatio="none"
      >
        {days.map((day, index) => {
          const count = perDay.get(day) ?? 0;
          const height = (count / highest) * 100;
          return (
            <rect key={day} className="bar" x={index * 14 + 2} y={105 - height} width={10} height={height}>
              <title>{`${day}: ${count} entries`}</title>
            </rect>
          );
        })}
        <text x="2" y="118">
          {start}
        </text>
        <text x={width - 2} y="118" textAnchor="end">
          {end}
        </text>
      </svg>
      <figcaption className="pf-v6-screen-reader">{`${total} entries in the range`}</figcaption>
    </figure>
  );
}
