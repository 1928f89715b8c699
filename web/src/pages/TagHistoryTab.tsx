// Every tag change the time machine remembers (all of it, page after page, not Quay's first
// 50), with a restore for each earlier target.

import { useMemo, useState } from 'react';
import { Button, Checkbox, EmptyState, Toolbar, ToolbarContent, ToolbarItem } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, repoPath, seg } from '../api';
import { formatDate, shortDigest } from '../format';
import { useLoad } from '../hooks';
import { useToast } from '../toasts';
import { ConfirmModal, LoadError, Loading } from '../components/common';
import { allTags, type Tag } from '../tags';
import { DateRange, FilterInput } from '../components/TableToolbar';
import type { RepositoryView } from './Repository';

/** Two lifetimes of a name this close (seconds) are one move, not a delete and a create. */
const MOVE_WINDOW_S = 2;

export interface TagEvent {
  tag: string;
  /** Seconds since the epoch. */
  time: number;
  kind: 'created' | 'recreated' | 'moved' | 'reverted' | 'deleted' | 'expires';
  digest: string;
  /** A move's earlier target. */
  from?: string;
  /** The digest a restore would bring back, where one applies. */
  restorable?: string;
}

/** Folds lifetimes into what happened to each tag, newest first. */
function tagEvents(lifetimes: Tag[], now: number): TagEvent[] {
  const byName = new Map<string, Tag[]>();
  for (const lifetime of lifetimes) {
    byName.set(lifetime.name, [...(byName.get(lifetime.name) ?? []), lifetime]);
  }
  const events: TagEvent[] = [];
  for (const [name, list] of byName) {
    list.sort((a, b) => a.start_ts - b.start_ts);
    list.forEach((lifetime, index) => {
      const previous = list[index - 1];
      const next = list[index + 1];
      const continues = previous?.end_ts !== undefined && lifetime.start_ts - previous.end_ts <= MOVE_WINDOW_S;
      if (continues) {
        events.push({
          tag: name,
          time: lifetime.start_ts,
          kind: lifetime.reversion ? 'reverted' : 'moved',
          digest: lifetime.manifest_digest,
          from: previous.manifest_digest,
          restorable: previous.manifest_digest,
        });
      } else {
        events.push({
          tag: name,
          time: lifetime.start_ts,
          kind: previous ? 'recreated' : 'created',
          digest: lifetime.manifest_digest,
        });
      }
      const movedOn =
        next !== undefined && lifetime.end_ts !== undefined && next.start_ts - lifetime.end_ts <= MOVE_WINDOW_S;
      if (lifetime.end_ts !== undefined && !movedOn) {
        events.push({
          tag: name,
          time: lifetime.end_ts,
          kind: lifetime.end_ts > now ? 'expires' : 'deleted',
          digest: lifetime.manifest_digest,
          restorable: lifetime.end_ts > now ? undefined : lifetime.manifest_digest,
        });
      }
    });
  }
  return events.sort((a, b) => b.time - a.time);
}

function describe(event: TagEvent) {
  const digest = <span className="quay-mono">{shortDigest(event.digest)}</span>;
  switch (event.kind) {
    case 'created':
      return (
        <>
          {event.tag} was created pointing to {digest}
        </>
      );
    case 'recreated':
      return (
        <>
          {event.tag} was recreated pointing to {digest}
        </>
      );
    case 'moved':
      return (
        <>
          {event.tag} was moved to {digest} from <span className="quay-mono">{shortDigest(event.from ?? '')}</span>
        </>
      );
    case 'reverted':
      return (
        <>
          {event.tag} was reverted to {digest}
        </>
      );
    case 'deleted':
      return (
        <>
          {event.tag} was deleted (it pointed to {digest})
        </>
      );
    case 'expires':
      return (
        <>
          {event.tag} will expire (it points to {digest})
        </>
      );
  }
}

export function TagHistoryTab({ repository }: { repository: RepositoryView }) {
  const { namespace, name } = repository;
  const toast = useToast();
  const { data, error, reload } = useLoad(() => allTags(namespace, name, false), [namespace, name]);
  const [search, setSearch] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [showFuture, setShowFuture] = useState(false);
  const [restoring, setRestoring] = useState<TagEvent | null>(null);

  const events = useMemo(() => {
    const now = Date.now() / 1000;
    const start = from ? new Date(`${from}T00:00`).getTime() / 1000 : -Infinity;
    const end = to ? new Date(`${to}T23:59:59`).getTime() / 1000 : Infinity;
    return tagEvents(data ?? [], now).filter(
      (event) =>
        event.tag.includes(search.trim()) &&
        event.time >= start &&
        event.time <= end &&
        (showFuture || event.time <= now),
    );
  }, [data, search, from, to, showFuture]);

  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="tag history" />;
  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <FilterInput label="Search by tag name" value={search} onChange={setSearch} />
          </ToolbarItem>
          <DateRange
            from={from}
            to={to}
            onChange={(start, end) => {
              setFrom(start);
              setTo(end);
            }}
          />
          <ToolbarItem>
            <Checkbox
              id="show-future"
              label="Show future"
              isChecked={showFuture}
              onChange={(_, on) => setShowFuture(on)}
            />
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {events.length === 0 ? (
        <EmptyState titleText="No tag changes" headingLevel="h2" />
      ) : (
        <Table aria-label="Tag history" variant="compact" data-testid="tag-history-table">
          <Thead>
            <Tr>
              <Th>Tag change</Th>
              <Th>Date/Time</Th>
              <Th>Revert</Th>
            </Tr>
          </Thead>
          <Tbody>
            {events.map((event) => (
              <Tr key={`${event.tag}-${event.kind}-${event.time}-${event.digest}`}>
                <Td dataLabel="Tag change">{describe(event)}</Td>
                <Td dataLabel="Date/Time">{formatDate(event.time)}</Td>
                <Td dataLabel="Revert">
                  {event.restorable && repository.can_write && (
                    <Button variant="link" isInline onClick={() => setRestoring(event)}>
                      Restore to {shortDigest(event.restorable)}
                    </Button>
                  )}
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      {restoring?.restorable && (
        <ConfirmModal
          title="Restore Tag"
          action="Restore tag"
          danger={false}
          onClose={() => setRestoring(null)}
          onConfirm={async () => {
            await api.post(repoPath(namespace, name, `/tag/${seg(restoring.tag)}/restore`), {
              manifest_digest: restoring.restorable,
            });
            toast('success', `Restored tag ${restoring.tag} to digest ${shortDigest(restoring.restorable ?? '')}`);
            reload();
          }}
        >
          <p>
            Tag {restoring.tag} will point to {shortDigest(restoring.restorable)} again.
          </p>
        </ConfirmModal>
      )}
    </>
  );
}
