// A mirror's status card: its state (the tab reads it again while a sync runs), the next
// sync, Sync Now, Cancel Sync, a dry run, and what the last sync did tag by tag.

import { useState } from 'react';
import {
  ActionList,
  ActionListItem,
  Button,
  Card,
  CardBody,
  CardTitle,
  Content,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Flex,
  FlexItem,
  Label,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api } from '../api';
import { formatDate, shortDigest } from '../format';
import { useAction, useLoad } from '../hooks';
import { LoadError, Loading } from '../components/common';
import { isSyncing, mirrorPath, statusWords, type Mirror, type SyncReport, type SyncStatus } from '../mirror';
import type { RepositoryView } from './Repository';

/** The state's icon and colour beside its words, never colour alone. */
const STATE_LOOK: Record<SyncStatus, 'success' | 'danger' | 'warning' | 'info' | undefined> = {
  NEVER_RUN: undefined,
  SYNC_NOW: 'info',
  SYNCING: 'info',
  SUCCESS: 'success',
  FAIL: 'danger',
  CANCEL: 'warning',
};

export function MirrorStatus({
  repository,
  mirror,
  onChange,
}: {
  repository: RepositoryView;
  mirror: Mirror;
  onChange: () => void;
}) {
  const path = mirrorPath(repository.namespace, repository.name);
  const act = useAction(onChange);
  const [dryRun, setDryRun] = useState(false);
  const syncing = isSyncing(mirror.sync_status);
  const facts: [string, string][] = [
    ['Next sync', mirror.is_enabled ? formatDate(mirror.sync_start_date) : 'None: scheduled mirroring is disabled'],
    // Quay's "Timeout": when the running sync is given up.
    ...(syncing && mirror.sync_expiration_date
      ? [['Timeout', formatDate(mirror.sync_expiration_date)] as [string, string]]
      : []),
    ['Retries remaining', String(mirror.sync_retries_remaining)],
  ];
  return (
    <Card data-testid="mirror-status">
      <CardTitle component="h2">Status</CardTitle>
      <CardBody>
        <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsLg' }}>
          <DescriptionList isHorizontal isCompact horizontalTermWidthModifier={{ default: '12rem' }}>
            <DescriptionListGroup>
              <DescriptionListTerm>State</DescriptionListTerm>
              <DescriptionListDescription>
                <Label
                  status={STATE_LOOK[mirror.sync_status]}
                  color={STATE_LOOK[mirror.sync_status] ? undefined : 'grey'}
                  data-testid="mirror-state"
                >
                  {statusWords(mirror)}
                </Label>
              </DescriptionListDescription>
            </DescriptionListGroup>
            {facts.map(([term, value]) => (
              <DescriptionListGroup key={term}>
                <DescriptionListTerm>{term}</DescriptionListTerm>
                <DescriptionListDescription>{value}</DescriptionListDescription>
              </DescriptionListGroup>
            ))}
          </DescriptionList>
          <ActionList>
            <ActionListItem>
              <Button
                data-testid="sync-now-btn"
                // The server refuses a second sync while one runs.
                isDisabled={syncing}
                onClick={() => void act('Sync scheduled', () => api.post(`${path}/sync-now`))}
              >
                Sync Now
              </Button>
            </ActionListItem>
            {syncing && (
              <ActionListItem>
                <Button
                  variant="danger"
                  data-testid="cancel-sync-btn"
                  onClick={() => void act('Sync cancelled', () => api.post(`${path}/sync-cancel`))}
                >
                  Cancel Sync
                </Button>
              </ActionListItem>
            )}
            <ActionListItem>
              <Button variant="secondary" data-testid="dry-run-btn" onClick={() => setDryRun(true)}>
                Dry run
              </Button>
            </ActionListItem>
          </ActionList>
          <FlexItem>
            <Title headingLevel="h3">Last sync</Title>
            {mirror.last_sync ? (
              <SyncReportView report={mirror.last_sync} label="Tags of the last sync" testId="last-sync" />
            ) : (
              <Content component="p">No sync has run yet.</Content>
            )}
          </FlexItem>
        </Flex>
      </CardBody>
      {dryRun && <DryRunModal path={path} onClose={() => setDryRun(false)} />}
    </Card>
  );
}

const OUTCOME_WORDS: Record<string, [string, 'success' | 'danger' | 'warning' | 'info']> = {
  success: ['Succeeded', 'success'],
  failed: ['Failed', 'danger'],
  cancelled: ['Cancelled', 'warning'],
  'dry run': ['Dry run', 'info'],
};

/** A sync's outcome, its counts and its tags; `planned` words them as what a sync would do. */
function SyncReportView({
  report,
  label,
  testId,
  planned = false,
}: {
  report: SyncReport;
  label: string;
  testId: string;
  planned?: boolean;
}) {
  const [outcome, look] = OUTCOME_WORDS[report.outcome] ?? [report.outcome, 'info'];
  const counts: [number, string, string][] = [
    [report.copied, 'copied', 'to copy'],
    [report.moved, 'moved', 'to move'],
    [report.removed, 'removed', 'to remove'],
    [report.unchanged, 'unchanged', 'unchanged'],
    [report.failed, 'failed', 'failing'],
  ];
  return (
    <div data-testid={testId}>
      <Content component="p">
        <Label status={look}>{outcome}</Label> {formatDate(report.started)} to {formatDate(report.finished)}
      </Content>
      {report.message && <Content component="p">{report.message}</Content>}
      <Content component="p" data-testid={`${testId}-counts`}>
        {counts.map(([count, done, toDo]) => `${count} ${planned ? toDo : done}`).join(', ')}
      </Content>
      {report.tags.length === 0 ? (
        <Content component="p">No tag matches the patterns.</Content>
      ) : (
        <Table aria-label={label} variant="compact">
          <Thead>
            <Tr>
              <Th>Tag</Th>
              <Th>Action</Th>
              <Th>Digest</Th>
            </Tr>
          </Thead>
          <Tbody>
            {report.tags.map((tag, index) => (
              <Tr key={`${tag.tag}-${index}`}>
                <Td dataLabel="Tag">{tag.tag}</Td>
                <Td dataLabel="Action">
                  {tag.action}
                  {tag.error && <div className="quay-diff-removed">{tag.error}</div>}
                </Td>
                <Td dataLabel="Digest" className="quay-mono">
                  <span title={tag.digest}>{tag.digest ? shortDigest(tag.digest) : ''}</span>
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
    </div>
  );
}

/** What a sync would do now, asked of the server when the dialog opens; nothing changes. */
function DryRunModal({ path, onClose }: { path: string; onClose: () => void }) {
  const { data, error } = useLoad(() => api.post<SyncReport>(`${path}/dry-run`), [path]);
  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-labelledby="dry-run-title">
      <ModalHeader
        title="Dry run"
        labelId="dry-run-title"
        description="The tags a sync would copy, move, remove or leave, changing nothing."
      />
      <ModalBody>
        {error ? (
          <LoadError error={error} />
        ) : !data ? (
          <Loading what="the dry run" />
        ) : (
          <SyncReportView report={data} label="Tags of the dry run" testId="dry-run-result" planned />
        )}
      </ModalBody>
      <ModalFooter>
        <Button onClick={onClose}>Close</Button>
      </ModalFooter>
    </Modal>
  );
}
