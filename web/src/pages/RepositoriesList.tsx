// Repositories of every namespace the user is in, or of one (an organization's tab):
// filter, create, change visibility, delete.

import { useState } from 'react';
import { Link } from 'react-router-dom';
import {
  Button,
  EmptyState,
  EmptyStateBody,
  Label,
  PageSection,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { allPages, api, repoPath, seg } from '../api';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import { useToast } from '../toasts';
import { ConfirmModal, LoadError, Loading, PageHeader, QuotaBar, type QuotaReport } from '../components/common';
import { BulkActions, FilterInput, useLocalPages } from '../components/TableToolbar';
import { CreateRepositoryModal } from './CreateRepositoryModal';

export interface RepositorySummary {
  namespace: string;
  name: string;
  description: string | null;
  is_public: boolean;
  kind: string;
  state: string;
  quota_report?: QuotaReport;
}

/**
 * Every repository of a namespace, or without one every repository the user may read (theirs,
 * their organizations', those shared with them, the public ones), following `next_page`.
 */
export function allRepositories(namespace?: string): Promise<RepositorySummary[]> {
  const scope = namespace === undefined ? 'public=true' : `namespace=${seg(namespace)}&public=false`;
  return allPages<RepositorySummary>(`/api/v1/repository?${scope}`, 'repositories');
}

const fullName = (repository: RepositorySummary) => `${repository.namespace}/${repository.name}`;

export function RepositoriesList() {
  return (
    <>
      <PageHeader title="Repositories" />
      <PageSection>
        <RepositoriesTable />
      </PageSection>
    </>
  );
}

export function RepositoriesTable({ namespace }: { namespace?: string }) {
  const { feature } = useSession();
  const toast = useToast();
  const { data, error, loading, reload } = useLoad(() => allRepositories(namespace), [namespace]);
  const { filter, setFilter, shown, onPage, pagination } = useLocalPages(data, fullName);
  const [selected, setSelected] = useState<string[]>([]);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<RepositorySummary[] | null>(null);
  const chosen = (data ?? []).filter((repository) => selected.includes(fullName(repository)));
  const quota = feature('QUOTA_MANAGEMENT');

  const setVisibility = async (visibility: 'public' | 'private') => {
    for (const repository of chosen) {
      await api.post(repoPath(repository.namespace, repository.name, '/changevisibility'), { visibility });
    }
    toast('success', `Made ${chosen.length} repositories ${visibility}`);
    setSelected([]);
    reload();
  };

  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <FilterInput label="Filter by name" value={filter} onChange={setFilter} />
          </ToolbarItem>
          <ToolbarItem>
            <Button onClick={() => setCreating(true)} data-testid="create-repository-button">
              Create Repository
            </Button>
          </ToolbarItem>
          <ToolbarItem>
            <BulkActions
              label="Actions for the selected repositories"
              disabled={chosen.length === 0}
              actions={[
                { title: 'Make public', run: () => void setVisibility('public') },
                { title: 'Make private', run: () => void setVisibility('private') },
                { title: 'Delete', danger: true, run: () => setDeleting(chosen) },
              ]}
            />
          </ToolbarItem>
          <ToolbarItem variant="pagination" align={{ default: 'alignEnd' }}>
            {pagination}
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {error && <LoadError error={error} />}
      {loading && !data ? (
        <Loading what="repositories" />
      ) : shown.length === 0 ? (
        <EmptyState titleText="There are no viewable repositories" headingLevel="h2">
          <EmptyStateBody>Create one here, or push an image: a push creates its repository.</EmptyStateBody>
        </EmptyState>
      ) : (
        <Table aria-label="Repositories" variant="compact">
          <Thead>
            <Tr>
              <Th
                select={{
                  onSelect: (_, on) => setSelected(on ? onPage.map(fullName) : []),
                  isSelected:
                    onPage.length > 0 && onPage.every((repository) => selected.includes(fullName(repository))),
                }}
                aria-label="Select all on this page"
              />
              <Th>Name</Th>
              <Th>Visibility</Th>
              {quota && <Th>Size</Th>}
            </Tr>
          </Thead>
          <Tbody>
            {onPage.map((repository, index) => {
              const name = fullName(repository);
              return (
                <Tr key={name}>
                  <Td
                    select={{
                      rowIndex: index,
                      onSelect: (_, on) =>
                        setSelected((now) => (on ? [...now, name] : now.filter((other) => other !== name))),
                      isSelected: selected.includes(name),
                    }}
                  />
                  <Td dataLabel="Name">
                    <Link to={`/repository/${name}`}>{namespace ? repository.name : name}</Link>
                  </Td>
                  <Td dataLabel="Visibility">
                    <Label color={repository.is_public ? 'green' : 'grey'}>
                      {repository.is_public ? 'public' : 'private'}
                    </Label>
                  </Td>
                  {quota && (
                    <Td dataLabel="Size">
                      {repository.quota_report ? (
                        <QuotaBar report={repository.quota_report} label={`Size of ${name}`} />
                      ) : (
                        'N/A'
                      )}
                    </Td>
                  )}
                </Tr>
              );
            })}
          </Tbody>
        </Table>
      )}
      {creating && (
        <CreateRepositoryModal
          namespace={namespace}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmModal
          title="Delete repositories?"
          action="Delete"
          typed="confirm"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            for (const repository of deleting) {
              await api.delete(repoPath(repository.namespace, repository.name));
            }
            toast('success', `Deleted ${deleting.length} repositories`);
            setSelected([]);
            reload();
          }}
        >
          <p>These repositories and all their tags will be deleted: {deleting.map(fullName).join(', ')}.</p>
        </ConfirmModal>
      )}
    </>
  );
}
