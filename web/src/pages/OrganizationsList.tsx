// The organizations the user is in (a superuser: all of them, and the users), with counts
// loaded only for the rows on screen.

import { useState } from 'react';
import { Link } from 'react-router-dom';
import {
  Button,
  EmptyState,
  FormGroup,
  Label,
  PageSection,
  TextInput,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { allPages, api, seg } from '../api';
import { useLoad } from '../hooks';
import { useSession, useUser } from '../session';
import { useToast } from '../toasts';
import { LoadError, Loading, PageHeader, QuotaBar, type QuotaReport } from '../components/common';
import { FieldRule, FormModal } from '../components/FormModal';
import { FilterInput, useLocalPages } from '../components/TableToolbar';
import { allRepositories } from './RepositoriesList';
import type { OrganizationView, Quota } from './Organization';
import { CreateUserModal, UserActions } from './SuperuserUsers';

const ORGANIZATION_NAME = /^([a-z0-9]+(?:[._-][a-z0-9]+)*)$/;

interface Row {
  name: string;
  kind: 'organization' | 'user';
  email?: string | null;
  enabled?: boolean;
}

const rowName = (row: Row) => row.name;

export function OrganizationsList() {
  const user = useUser();
  const { data, error, reload } = useLoad(async (): Promise<Row[]> => {
    if (!user.super_user) {
      return [
        { name: user.username, kind: 'user' },
        ...user.organizations.map((org) => ({ name: org.name, kind: 'organization' as const })),
      ];
    }
    const [organizations, users] = await Promise.all([
      allPages<{ name: string; email: string | null }>('/api/v1/superuser/organizations/', 'organizations'),
      allPages<{ username: string; email: string | null; enabled: boolean }>('/api/v1/superuser/users/', 'users'),
    ]);
    return [
      ...organizations.map((org) => ({
        name: org.name,
        kind: 'organization' as const,
        email: org.email,
      })),
      ...users.map((account) => ({
        name: account.username,
        kind: 'user' as const,
        email: account.email,
        enabled: account.enabled,
      })),
    ];
  }, [user]);
  const { filter, setFilter, shown, onPage, pagination } = useLocalPages(data, rowName);
  const [creating, setCreating] = useState<'organization' | 'user' | null>(null);

  return (
    <>
      <PageHeader title="Organizations" />
      <PageSection>
        <Toolbar>
          <ToolbarContent>
            <ToolbarItem>
              <FilterInput label="Filter by name" value={filter} onChange={setFilter} />
            </ToolbarItem>
            <ToolbarItem>
              <Button onClick={() => setCreating('organization')}>Create Organization</Button>
            </ToolbarItem>
            {user.super_user && (
              <ToolbarItem>
                <Button variant="secondary" onClick={() => setCreating('user')}>
                  Create User
                </Button>
              </ToolbarItem>
            )}
            <ToolbarItem variant="pagination" align={{ default: 'alignEnd' }}>
              {pagination}
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
        {error && <LoadError error={error} />}
        {!data ? (
          <Loading what="organizations" />
        ) : shown.length === 0 ? (
          <EmptyState titleText="No organizations" headingLevel="h2" />
        ) : (
          <Table aria-label="Organizations" variant="compact" data-testid="organizations-table">
            <Thead>
              <Tr>
                <Th>Name</Th>
                {user.super_user && <Th>Admin Email</Th>}
                <Th>Repo Count</Th>
                <Th>Teams</Th>
                <Th>Members</Th>
                <Th>Robots</Th>
                <Th>Size</Th>
                {user.super_user && <Th screenReaderText="Actions" />}
              </Tr>
            </Thead>
            <Tbody>
              {onPage.map((row) => (
                <OrganizationRow
                  key={`${row.kind}-${row.name}`}
                  row={row}
                  superuser={user.super_user}
                  own={row.name === user.username}
                  onChange={reload}
                />
              ))}
            </Tbody>
          </Table>
        )}
      </PageSection>
      {creating === 'organization' && (
        <CreateOrganizationModal
          onClose={() => setCreating(null)}
          onCreated={() => {
            setCreating(null);
            reload();
          }}
        />
      )}
      {creating === 'user' && <CreateUserModal onClose={() => setCreating(null)} onCreated={reload} />}
    </>
  );
}

interface Counts {
  repositories: number;
  teams?: number;
  members?: number;
  robots?: number;
  quota?: QuotaReport;
  limits?: Quota['limits'];
}

/** One row; its counts load when it is on screen (never for every organization at once). */
function OrganizationRow({
  row,
  superuser,
  own,
  onChange,
}: {
  row: Row;
  superuser: boolean;
  own: boolean;
  onChange: () => void;
}) {
  const { feature } = useSession();
  const { data } = useLoad(async (): Promise<Counts> => {
    const repositories = allRepositories(row.name)
      .then((list) => list.length)
      .catch(() => 0);
    if (row.kind === 'user') {
      const robots = own
        ? api
            .get<{ robots: unknown[] }>('/api/v1/user/robots')
            .then((answer) => answer.robots.length)
            .catch(() => undefined)
        : Promise.resolve(undefined);
      return { repositories: await repositories, robots: await robots };
    }
    const base = `/api/v1/organization/${seg(row.name)}`;
    const [count, organization, members, robots] = await Promise.all([
      repositories,
      api.get<OrganizationView>(base).catch(() => undefined),
      api
        .get<{ members: unknown[] }>(`${base}/members`)
        .then((answer) => answer.members.length)
        .catch(() => undefined),
      api
        .get<{ robots: unknown[] }>(`${base}/robots`)
        .then((answer) => answer.robots.length)
        .catch(() => undefined),
    ]);
    return {
      repositories: count,
      teams: organization?.teams ? Object.keys(organization.teams).length : undefined,
      members,
      robots,
      quota: organization?.quota_report,
      limits: organization?.quotas?.[0]?.limits,
    };
  }, [row.name, row.kind]);
  const link = row.kind === 'organization' ? `/organization/${row.name}` : `/user/${row.name}`;
  const shown = (value: number | undefined) => (data === undefined ? '…' : value === undefined ? 'N/A' : value);
  return (
    <Tr>
      <Td dataLabel="Name">
        <Link to={link}>{row.name}</Link> {row.kind === 'user' && <Label isCompact>user</Label>}{' '}
        {row.enabled === false && (
          <Label isCompact color="red">
            disabled
          </Label>
        )}
      </Td>
      {superuser && <Td dataLabel="Admin Email">{row.email ?? ''}</Td>}
      <Td dataLabel="Repo Count">{shown(data?.repositories)}</Td>
      <Td dataLabel="Teams">{shown(data?.teams)}</Td>
      <Td dataLabel="Members">{shown(data?.members)}</Td>
      <Td dataLabel="Robots">{shown(data?.robots)}</Td>
      <Td dataLabel="Size">
        {feature('QUOTA_MANAGEMENT') && data?.quota ? (
          <QuotaBar report={data.quota} label={`Size of ${row.name}`} limits={data.limits} />
        ) : (
          'N/A'
        )}
      </Td>
      {superuser && (
        <Td isActionCell>{row.kind === 'user' && !own && <UserActions user={row} onChange={onChange} />}</Td>
      )}
    </Tr>
  );
}

function CreateOrganizationModal({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const { refresh } = useSession();
  const toast = useToast();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const invalid = name !== '' && (!ORGANIZATION_NAME.test(name) || name.length < 2 || name.length > 255);
  const create = async () => {
    await api.post('/api/v1/organization/', { name, email: email || undefined });
    await refresh();
    toast('success', `Created organization ${name}`);
    onCreated();
  };
  return (
    <FormModal
      id="create-organization"
      title="Create Organization"
      submit="Create"
      canSubmit={name !== '' && !invalid}
      onSubmit={create}
      onClose={onClose}
    >
      <FormGroup label="Organization Name" fieldId="organization-name" isRequired>
        <TextInput
          id="organization-name"
          value={name}
          validated={invalid ? 'error' : 'default'}
          onChange={(_, value) => setName(value)}
        />
        <FieldRule broken={invalid}>
          {invalid
            ? 'Must be 2 to 255 lowercase letters and digits, separated by one of . _ or -'
            : 'This will also be the namespace for your repositories.'}
        </FieldRule>
      </FormGroup>
      <FormGroup label="Organization Email" fieldId="organization-email">
        <TextInput id="organization-email" type="email" value={email} onChange={(_, value) => setEmail(value)} />
      </FormGroup>
    </FormModal>
  );
}
