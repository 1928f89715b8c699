// An organization's teams, members and collaborators (outside users with repository access).

import { useState } from 'react';
import { Link } from 'react-router-dom';
import {
  Button,
  FormGroup,
  TextInput,
  ToggleGroup,
  ToggleGroupItem,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, seg } from '../api';
import { useAction, useApi } from '../hooks';
import { useToast } from '../toasts';
import { LoadError, Loading } from '../components/common';
import { FieldRule, FormModal } from '../components/FormModal';
import { RoleSelect } from '../components/RoleSelect';
import type { OrganizationView } from './Organization';

const TEAM_ROLES = ['member', 'creator', 'admin'] as const;
const TEAM_NAME = /^[a-z][a-z0-9]{1,254}$/;

type View = 'teams' | 'members' | 'collaborators';

export function TeamsAndMembership({
  organization,
  onChange,
}: {
  organization: OrganizationView;
  onChange: () => void;
}) {
  const [view, setView] = useState<View>('teams');
  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <ToggleGroup aria-label="Show teams, members or collaborators">
              {(['teams', 'members', 'collaborators'] as View[]).map((name) => (
                <ToggleGroupItem
                  key={name}
                  text={name === 'teams' ? 'Team View' : name === 'members' ? 'Members View' : 'Collaborators View'}
                  isSelected={view === name}
                  onChange={() => setView(name)}
                />
              ))}
            </ToggleGroup>
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {view === 'teams' && <Teams organization={organization} onChange={onChange} />}
      {view === 'members' && <Members organization={organization.name} path="members" />}
      {view === 'collaborators' && <Members organization={organization.name} path="collaborators" />}
    </>
  );
}

function Teams({ organization, onChange }: { organization: OrganizationView; onChange: () => void }) {
  const act = useAction(onChange);
  const [creating, setCreating] = useState(false);
  const teams = Object.values(organization.teams ?? {});
  const base = `/api/v1/organization/${seg(organization.name)}/team`;
  const setRole = (team: string, role: string) =>
    act(`Team ${team} is now ${role}`, () => api.put(`${base}/${seg(team)}`, { role }));
  return (
    <>
      {organization.is_admin && (
        <Button onClick={() => setCreating(true)} className="pf-v6-u-mb-md">
          Create new team
        </Button>
      )}
      <Table aria-label="Teams" variant="compact" data-testid="teams-table">
        <Thead>
          <Tr>
            <Th>Team name</Th>
            <Th>Members</Th>
            <Th>Repositories</Th>
            <Th>Team role</Th>
          </Tr>
        </Thead>
        <Tbody>
          {teams.map((team) => (
            <Tr key={team.name}>
              <Td dataLabel="Team name">
                <Link to={`/organization/${organization.name}/teams/${team.name}`}>{team.name}</Link>
                {team.description && <div>{team.description}</div>}
              </Td>
              <Td dataLabel="Members">{team.member_count}</Td>
              <Td dataLabel="Repositories">{team.repo_count}</Td>
              <Td dataLabel="Team role">
                {organization.is_admin ? (
                  <RoleSelect
                    value={team.role}
                    roles={TEAM_ROLES}
                    label={`Role of team ${team.name}`}
                    onChange={(role) => void setRole(team.name, role)}
                  />
                ) : (
                  team.role
                )}
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {creating && (
        <CreateTeamModal
          base={base}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            onChange();
          }}
        />
      )}
    </>
  );
}

function CreateTeamModal({ base, onClose, onCreated }: { base: string; onClose: () => void; onCreated: () => void }) {
  const toast = useToast();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const invalid = name !== '' && !TEAM_NAME.test(name);
  const create = async () => {
    await api.put(`${base}/${seg(name)}`, { role: 'member', description });
    toast('success', `Created team ${name}`);
    onCreated();
  };
  return (
    <FormModal
      id="create-team"
      title="Create team"
      submit="Create team"
      canSubmit={name !== '' && !invalid}
      onSubmit={create}
      onClose={onClose}
    >
      <FormGroup label="Team name" fieldId="team-name" isRequired>
        <TextInput
          id="team-name"
          value={name}
          validated={invalid ? 'error' : 'default'}
          onChange={(_, value) => setName(value)}
        />
        <FieldRule broken={invalid}>2 to 255 lowercase letters and digits, starting with a letter.</FieldRule>
      </FormGroup>
      <FormGroup label="Description" fieldId="team-description">
        <TextInput id="team-description" value={description} onChange={(_, value) => setDescription(value)} />
      </FormGroup>
    </FormModal>
  );
}

interface Member {
  name: string;
  kind: string;
  teams?: { name: string }[];
  repositories?: string[];
}

function Members({ organization, path }: { organization: string; path: 'members' | 'collaborators' }) {
  const { data: answer, error } = useApi<{ members?: Member[]; collaborators?: Member[] }>(
    `/api/v1/organization/${seg(organization)}/${path}`,
  );
  if (error) return <LoadError error={error} />;
  if (!answer) return <Loading what={path} />;
  const data = { members: answer.members ?? answer.collaborators ?? [] };
  return (
    <Table aria-label={path === 'members' ? 'Members' : 'Collaborators'} variant="compact">
      <Thead>
        <Tr>
          <Th>Name</Th>
          <Th>{path === 'members' ? 'Teams' : 'Repositories'}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {data.members.length === 0 && (
          <Tr>
            <Td colSpan={2}>{path === 'members' ? 'No members.' : 'No outside collaborators.'}</Td>
          </Tr>
        )}
        {data.members.map((member) => (
          <Tr key={member.name}>
            <Td dataLabel="Name">{member.name}</Td>
            <Td>
              {path === 'members'
                ? (member.teams ?? []).map((team) => team.name).join(', ')
                : (member.repositories ?? []).join(', ')}
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
