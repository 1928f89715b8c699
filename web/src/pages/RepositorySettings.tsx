// A repository's settings: who may do what, notifications, auto-prune, visibility, deletion.

import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Button, Content, Tab, TabTitleText, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, repoPath, seg } from '../api';
import { useAction, useLoad } from '../hooks';
import { useSession } from '../session';
import { useToast } from '../toasts';
import { AutoPrunePolicies } from '../components/AutoPrunePolicies';
import { ConfirmModal, DangerLink, LoadError, Loading, SettingsTabs } from '../components/common';
import { EntitySearch, type Entity } from '../components/EntitySearch';
import { EventNotifications } from '../components/EventNotifications';
import { RoleSelect } from '../components/RoleSelect';
import type { RepositoryView } from './Repository';

export function RepositorySettings({ repository, onChange }: { repository: RepositoryView; onChange: () => void }) {
  const { feature } = useSession();
  const base = repoPath(repository.namespace, repository.name);
  return (
    <SettingsTabs label="Repository settings" initial={'permissions'}>
      <Tab eventKey="permissions" title={<TabTitleText>User and robot permissions</TabTitleText>}>
        <Permissions repository={repository} />
      </Tab>
      {feature('AUTO_PRUNE') && (
        <Tab eventKey="autoprune" title={<TabTitleText>Repository Auto-Prune Policies</TabTitleText>}>
          <AutoPrunePolicies base={`${base}/autoprunepolicy/`} />
        </Tab>
      )}
      <Tab eventKey="notifications" title={<TabTitleText>Events and notifications</TabTitleText>}>
        <EventNotifications base={`${base}/notification/`} events={['repo_push', 'repo_image_expiry']} />
      </Tab>
      <Tab eventKey="visibility" title={<TabTitleText>Repository visibility</TabTitleText>}>
        <Visibility repository={repository} onChange={onChange} />
      </Tab>
      <Tab eventKey="delete" title={<TabTitleText>Delete repository</TabTitleText>}>
        <DeleteRepository repository={repository} />
      </Tab>
    </SettingsTabs>
  );
}

interface Permission {
  role: string;
  name: string;
  is_robot?: boolean;
}
interface Row extends Permission {
  kind: 'user' | 'team';
}

function Permissions({ repository }: { repository: RepositoryView }) {
  const base = repoPath(repository.namespace, repository.name, '/permissions');
  const { data, error, reload } = useLoad(async () => {
    const [users, teams] = await Promise.all([
      api.get<{ permissions: Record<string, Permission> }>(`${base}/user/`),
      repository.is_organization
        ? api.get<{ permissions: Record<string, Permission> }>(`${base}/team/`)
        : Promise.resolve({ permissions: {} as Record<string, Permission> }),
    ]);
    const rows: Row[] = [
      ...Object.values(users.permissions).map((permission) => ({ ...permission, kind: 'user' as const })),
      ...Object.values(teams.permissions).map((permission) => ({ ...permission, kind: 'team' as const })),
    ];
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  }, [base]);

  const act = useAction(reload);
  const path = (kind: Row['kind'], name: string) => `${base}/${kind}/${seg(name)}`;
  const set = (kind: Row['kind'], name: string, role: string) =>
    act(`Set ${name}'s permission to ${role}`, () => api.put(path(kind, name), { role }));
  const remove = (row: Row) => act(`Removed ${row.name}'s permission`, () => api.delete(path(row.kind, row.name)));
  const add = (entity: Entity) => set(entity.kind === 'team' ? 'team' : 'user', entity.name, 'read');

  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="permissions" />;
  return (
    <>
      <Title headingLevel="h2">User and robot permissions</Title>
      <div className="pf-v6-u-my-md">
        <EntitySearch namespace={repository.namespace} includeTeams={repository.is_organization} onSelect={add} />
      </div>
      <Table aria-label="Permissions" variant="compact" data-testid="repository-permissions">
        <Thead>
          <Tr>
            <Th>Account</Th>
            <Th>Type</Th>
            <Th>Permissions</Th>
            <Th screenReaderText="Actions" />
          </Tr>
        </Thead>
        <Tbody>
          {data.map((row) => (
            <Tr key={`${row.kind}-${row.name}`}>
              <Td dataLabel="Account">{row.name}</Td>
              <Td dataLabel="Type">{row.kind === 'team' ? 'Team' : row.is_robot ? 'Robot' : 'User'}</Td>
              <Td dataLabel="Permissions">
                <RoleSelect
                  value={row.role}
                  label={`Permission of ${row.name}`}
                  onChange={(role) => void set(row.kind, row.name, role)}
                />
              </Td>
              <Td>
                <DangerLink onClick={() => remove(row)} />
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </>
  );
}

function Visibility({ repository, onChange }: { repository: RepositoryView; onChange: () => void }) {
  const act = useAction(onChange);
  const next = repository.is_public ? 'private' : 'public';
  const change = () =>
    act(`The repository is now ${next}`, () =>
      api.post(repoPath(repository.namespace, repository.name, '/changevisibility'), { visibility: next }),
    );
  return (
    <>
      <Title headingLevel="h2">Repository visibility</Title>
      <Content component="p">
        This repository is currently <strong>{repository.is_public ? 'public' : 'private'}</strong>.{' '}
        {repository.is_public
          ? 'Anyone can see and pull from it.'
          : 'Only those given permission can see and pull from it.'}
      </Content>
      <Button variant="secondary" onClick={change}>
        Make {next}
      </Button>
    </>
  );
}

function DeleteRepository({ repository }: { repository: RepositoryView }) {
  const toast = useToast();
  const navigate = useNavigate();
  const [asking, setAsking] = useState(false);
  const name = `${repository.namespace}/${repository.name}`;
  return (
    <>
      <Title headingLevel="h2">Delete repository</Title>
      <Content component="p">Deleting a repository removes all its tags and history. It cannot be undone.</Content>
      <Button variant="danger" onClick={() => setAsking(true)}>
        Delete repository
      </Button>
      {asking && (
        <ConfirmModal
          title={`Delete ${name}?`}
          action="Delete"
          typed={repository.name}
          onClose={() => setAsking(false)}
          onConfirm={async () => {
            await api.delete(repoPath(repository.namespace, repository.name));
            toast('success', `Deleted repository ${name}`);
            navigate('/repository');
          }}
        >
          <p>Type the repository's name to confirm.</p>
        </ConfirmModal>
      )}
    </>
  );
}
