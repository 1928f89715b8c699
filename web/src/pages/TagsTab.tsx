// A repository's tags, one server page at a time (10,000 tags never load at once): filter,
// expandable multi-architecture rows, pull commands, and the tag actions.

import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import {
  Button,
  EmptyState,
  EmptyStateBody,
  Label,
  MenuToggle,
  Pagination,
  Popover,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { ActionsColumn, ExpandableRowContent, Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { EllipsisVIcon, LockIcon } from '@patternfly/react-icons';
import { api, repoPath, seg } from '../api';
import { formatBytes, formatDate, shortDigest } from '../format';
import { useAction, useLoad } from '../hooks';
import { useSession, useRegistryHost } from '../session';
import { useToast } from '../toasts';
import { ConfirmModal, CopyCommand, LoadError, Loading } from '../components/common';
import { imageSize, manifest, platformName, tagPage, type Descriptor, type Tag } from '../tags';
import type { RepositoryView } from './Repository';
import { AddTagModal, ExpirationModal } from './TagModals';
import { BulkActions, FilterInput } from '../components/TableToolbar';

export function TagsTab({ repository }: { repository: RepositoryView }) {
  const { namespace, name } = repository;
  const host = useRegistryHost();
  const toast = useToast();
  const navigate = useNavigate();
  const { feature } = useSession();
  const [params, setParams] = useSearchParams();
  const filter = params.get('filter_tag_name') ?? '';
  const [typed, setTyped] = useState(filter);
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(20);
  const [expanded, setExpanded] = useState<string[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const [adding, setAdding] = useState<Tag | null>(null);
  const [expiring, setExpiring] = useState<Tag[] | null>(null);
  const [removing, setRemoving] = useState<Tag[] | null>(null);

  // The filter reaches the server once typing pauses, and lives in the URL.
  useEffect(() => {
    const timer = window.setTimeout(() => {
      if (typed === filter) return;
      setPage(1);
      setParams(
        (now) => {
          const next = new URLSearchParams(now);
          if (typed) next.set('filter_tag_name', typed);
          else next.delete('filter_tag_name');
          return next;
        },
        { replace: true },
      );
    }, 250);
    return () => window.clearTimeout(timer);
  }, [typed, filter, setParams]);

  const { data, error, loading, reload } = useLoad(
    () => tagPage(namespace, name, { page, limit: perPage, onlyActive: true, filter: filter || undefined }),
    [namespace, name, page, perPage, filter],
  );
  const tags = data?.tags ?? [];
  // Oldest first (the page lists newest first; the sort keeps that order reversed for ties):
  // a comparison reads from the earlier tag to the later one.
  const chosen = tags
    .filter((tag) => selected.includes(tag.name))
    .reverse()
    .sort((a, b) => a.start_ts - b.start_ts);
  const itemCount = (page - 1) * perPage + tags.length + (data?.has_additional ? 1 : 0);
  const image = `${host}/${namespace}/${name}`;

  const changed = () => {
    setSelected([]);
    reload();
  };
  const act = useAction(reload);
  const toggleImmutable = (tag: Tag) =>
    act(`Tag ${tag.name} is now ${tag.immutable ? 'mutable' : 'immutable'}`, () =>
      api.put(repoPath(namespace, name, `/tag/${seg(tag.name)}`), { immutable: !tag.immutable }),
    );

  const pagination = (position: 'top' | 'bottom') => (
    <Pagination
      itemCount={itemCount}
      page={page}
      perPage={perPage}
      perPageOptions={[10, 20, 50, 100].map((value) => ({ title: String(value), value }))}
      onSetPage={(_, next) => setPage(next)}
      onPerPageSelect={(_, next) => {
        setPerPage(next);
        setPage(1);
      }}
      toggleTemplate={({ firstIndex, lastIndex }) => (
        <>
          <b>
            {firstIndex} - {lastIndex}
          </b>
          {data?.has_additional ? ' of many' : ''}
        </>
      )}
      isCompact={position === 'top'}
      variant={position}
      titles={{ paginationAriaLabel: `Tag pages, ${position}` }}
    />
  );

  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <FilterInput label="Filter by tag name" value={typed} onChange={setTyped} />
          </ToolbarItem>
          <ToolbarItem>
            <Button
              variant="secondary"
              isDisabled={chosen.length !== 2}
              onClick={() =>
                navigate(
                  `/repository/${namespace}/${name}/compare?a=${encodeURIComponent(chosen[0].name)}&b=${encodeURIComponent(chosen[1].name)}`,
                )
              }
            >
              Compare
            </Button>
          </ToolbarItem>
          {repository.can_write && (
            <ToolbarItem>
              <BulkActions
                label="Actions for the selected tags"
                disabled={chosen.length === 0}
                actions={[
                  { title: 'Set expiration', run: () => setExpiring(chosen) },
                  { title: 'Delete', danger: true, run: () => setRemoving(chosen) },
                ]}
              />
            </ToolbarItem>
          )}
          <ToolbarItem variant="pagination" align={{ default: 'alignEnd' }}>
            {pagination('top')}
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {error && <LoadError error={error} />}
      {loading && !data ? (
        <Loading what="tags" />
      ) : tags.length === 0 ? (
        <EmptyState titleText="There are no viewable tags for this repository" headingLevel="h2">
          <EmptyStateBody>
            {filter ? `No tag contains "${filter}".` : 'Push an image to add its first tag:'}
          </EmptyStateBody>
          {!filter && <CopyCommand command={`podman push ${image}:latest`} testId="push-command" />}
        </EmptyState>
      ) : (
        <Table aria-label="Tags" variant="compact" data-testid="tags-table">
          <Thead>
            <Tr>
              <Th screenReaderText="Expand" />
              <Th
                select={{
                  onSelect: (_, on) => setSelected(on ? tags.map((tag) => tag.name) : []),
                  isSelected: tags.length > 0 && tags.every((tag) => selected.includes(tag.name)),
                }}
                aria-label="Select all tags on this page"
              />
              <Th>Tag</Th>
              <Th>Size</Th>
              <Th>Last Modified</Th>
              <Th>Expires</Th>
              <Th>Manifest</Th>
              <Th>Pull</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          {tags.map((tag, index) => {
            const open = expanded.includes(tag.name);
            const removalBlocked = tag.immutable ? 'Cannot delete immutable tag' : undefined;
            return (
              <Tbody key={tag.name} isExpanded={open}>
                <Tr>
                  <Td
                    expand={
                      tag.is_manifest_list
                        ? {
                            rowIndex: index,
                            isExpanded: open,
                            onToggle: () =>
                              setExpanded((now) =>
                                open ? now.filter((other) => other !== tag.name) : [...now, tag.name],
                              ),
                            expandId: `tag-${tag.name}`,
                          }
                        : undefined
                    }
                  />
                  <Td
                    select={{
                      rowIndex: index,
                      onSelect: (_, on) =>
                        setSelected((now) => (on ? [...now, tag.name] : now.filter((other) => other !== tag.name))),
                      isSelected: selected.includes(tag.name),
                    }}
                  />
                  <Td dataLabel="Tag">
                    <Link to={`/repository/${namespace}/${name}/tag/${encodeURIComponent(tag.name)}`}>{tag.name}</Link>
                    {tag.immutable && (
                      <Label icon={<LockIcon />} isCompact className="pf-v6-u-ml-sm">
                        immutable
                      </Label>
                    )}
                  </Td>
                  <Td dataLabel="Size">{tag.is_manifest_list ? 'See child manifests' : formatBytes(tag.size)}</Td>
                  <Td dataLabel="Last Modified">{formatDate(tag.last_modified)}</Td>
                  <Td dataLabel="Expires">{tag.expiration ? formatDate(tag.expiration) : 'Never'}</Td>
                  <Td dataLabel="Manifest">
                    <span className="quay-mono" title={tag.manifest_digest}>
                      {shortDigest(tag.manifest_digest)}
                    </span>
                  </Td>
                  <Td dataLabel="Pull">
                    <PullPopover image={image} tag={tag} />
                  </Td>
                  <Td isActionCell>
                    {repository.can_write && (
                      <ActionsColumn
                        items={[
                          { title: 'Add new tag', onClick: () => setAdding(tag) },
                          ...(feature('CHANGE_TAG_EXPIRATION')
                            ? [{ title: 'Change expiration', onClick: () => setExpiring([tag]) }]
                            : []),
                          ...(feature('IMMUTABLE_TAGS')
                            ? [
                                {
                                  title: tag.immutable ? 'Make mutable' : 'Make immutable',
                                  onClick: () => void toggleImmutable(tag),
                                },
                              ]
                            : []),
                          {
                            title: 'Remove',
                            isDanger: true,
                            isAriaDisabled: removalBlocked !== undefined,
                            tooltipProps: removalBlocked ? { content: removalBlocked } : undefined,
                            onClick: () => setRemoving([tag]),
                          },
                        ]}
                        actionsToggle={({ toggleRef, onToggle, isOpen, isDisabled }) => (
                          <MenuToggle
                            ref={toggleRef}
                            onClick={onToggle}
                            isExpanded={isOpen}
                            isDisabled={isDisabled}
                            variant="plain"
                            aria-label={`Actions for ${tag.name}`}
                            icon={<EllipsisVIcon />}
                          />
                        )}
                      />
                    )}
                  </Td>
                </Tr>
                {tag.is_manifest_list && open && (
                  <Tr isExpanded>
                    <Td colSpan={9}>
                      <ExpandableRowContent>
                        <ChildManifests namespace={namespace} repository={name} digest={tag.manifest_digest} />
                      </ExpandableRowContent>
                    </Td>
                  </Tr>
                )}
              </Tbody>
            );
          })}
        </Table>
      )}
      {pagination('bottom')}
      {adding && (
        <AddTagModal repository={repository} source={adding} onClose={() => setAdding(null)} onDone={changed} />
      )}
      {expiring && (
        <ExpirationModal repository={repository} tags={expiring} onClose={() => setExpiring(null)} onDone={changed} />
      )}
      {removing && (
        <ConfirmModal
          title={removing.length === 1 ? `Remove tag ${removing[0].name}?` : `Delete ${removing.length} tags?`}
          action={removing.length === 1 ? 'Remove' : 'Delete'}
          typed={removing.length > 1 ? 'confirm' : undefined}
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            for (const tag of removing) {
              await api.delete(repoPath(namespace, name, `/tag/${seg(tag.name)}`));
            }
            toast('success', `Removed ${removing.map((tag) => tag.name).join(', ')}`);
            changed();
          }}
        >
          <p>
            {removing.map((tag) => tag.name).join(', ')} will be removed. They stay restorable from Tag history within
            the time machine's window.
          </p>
        </ConfirmModal>
      )}
    </>
  );
}

function PullPopover({ image, tag }: { image: string; tag: Tag }) {
  const byTag = `${image}:${tag.name}`;
  const byDigest = `${image}@${tag.manifest_digest}`;
  return (
    <Popover
      headerContent="Fetch Tag"
      hasAutoWidth
      bodyContent={
        <div data-testid="pull-popover">
          <p>Podman Pull (By Tag)</p>
          <CopyCommand command={`podman pull ${byTag}`} testId="copy-tag-podman" />
          <p>Docker Pull (By Tag)</p>
          <CopyCommand command={`docker pull ${byTag}`} testId="copy-tag-docker" />
          <p>Podman Pull (By Digest)</p>
          <CopyCommand command={`podman pull ${byDigest}`} testId="copy-digest-podman" />
          <p>Docker Pull (By Digest)</p>
          <CopyCommand command={`docker pull ${byDigest}`} testId="copy-digest-docker" />
        </div>
      }
    >
      <Button variant="link" isInline aria-label={`Pull commands for ${tag.name}`}>
        Pull
      </Button>
    </Popover>
  );
}

/** One row per platform of an index, with each image's own size. */
function ChildManifests({ namespace, repository, digest }: { namespace: string; repository: string; digest: string }) {
  const { data, error } = useLoad(async () => {
    const index = await manifest(namespace, repository, digest);
    const children: Descriptor[] = index.parsed.manifests ?? [];
    return Promise.all(
      children.map(async (child) => {
        const image = await manifest(namespace, repository, child.digest).catch(() => undefined);
        return { child, size: image ? imageSize(image.parsed) : undefined };
      }),
    );
  }, [namespace, repository, digest]);
  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="platforms" />;
  return (
    <Table aria-label="Platforms" variant="compact" borders={false}>
      <Thead>
        <Tr>
          <Th>Platform</Th>
          <Th>Size</Th>
          <Th>Manifest</Th>
        </Tr>
      </Thead>
      <Tbody>
        {data.map(({ child, size }) => (
          <Tr key={child.digest}>
            <Td dataLabel="Platform">{platformName(child.platform)}</Td>
            <Td dataLabel="Size">{size === undefined ? 'N/A' : formatBytes(size)}</Td>
            <Td dataLabel="Manifest">
              <span className="quay-mono" title={child.digest}>
                {shortDigest(child.digest)}
              </span>
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
