// Robot accounts of an organization or of the user: list, create (a wizard: name, teams,
// repositories), credentials, regenerate, delete.

import { useState } from 'react';
import {
  Alert,
  Button,
  Checkbox,
  EmptyState,
  EmptyStateBody,
  Form,
  FormGroup,
  FormHelperText,
  HelperText,
  HelperTextItem,
  Modal,
  TextInput,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
  Wizard,
  WizardStep,
} from '@patternfly/react-core';
import { ActionsColumn, Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, messageOf, repoPath, seg } from '../api';
import { formatDate } from '../format';
import { useApi, useLoad } from '../hooks';
import { useToast } from '../toasts';
import { ConfirmModal, LoadError, Loading } from '../components/common';
import { RoleSelect } from '../components/RoleSelect';
import { allRepositories } from './RepositoriesList';
import { RobotCredentials } from './RobotCredentials';

export interface Robot {
  name: string;
  created: string;
  last_accessed: string | null;
  description: string;
  token: string | null;
  teams?: { name: string }[];
  repositories?: string[];
}

const ROBOT_SHORT_NAME = /^[a-z][a-z0-9_]{1,254}$/;

/** Where a namespace's robots live: an organization's, or the signed-in user's own. */
export const robotsBase = (namespace: string, isOrganization: boolean) =>
  isOrganization ? `/api/v1/organization/${seg(namespace)}/robots` : '/api/v1/user/robots';

export const shortName = (robot: string) => robot.slice(robot.indexOf('+') + 1);

export function RobotAccounts({ namespace, isOrganization }: { namespace: string; isOrganization: boolean }) {
  const toast = useToast();
  const base = robotsBase(namespace, isOrganization);
  const { data, error, reload } = useApi<{ robots: Robot[] }>(`${base}?permissions=true&token=false`);
  const [creating, setCreating] = useState(false);
  const [showing, setShowing] = useState<Robot | null>(null);
  const [deleting, setDeleting] = useState<Robot | null>(null);

  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="robot accounts" />;
  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <Button onClick={() => setCreating(true)} data-testid="create-robot-account-btn">
              Create robot account
            </Button>
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {data.robots.length === 0 ? (
        <EmptyState titleText="No robot accounts" headingLevel="h2">
          <EmptyStateBody>
            Robot accounts let automation (CI, Kubernetes) pull and push without a person's password.
          </EmptyStateBody>
        </EmptyState>
      ) : (
        <Table aria-label="Robot accounts" variant="compact" data-testid="robot-accounts-table">
          <Thead>
            <Tr>
              <Th>Robot account name</Th>
              <Th>Teams</Th>
              <Th>Repositories</Th>
              <Th>Last accessed</Th>
              <Th>Created</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          <Tbody>
            {data.robots.map((robot) => (
              <Tr key={robot.name}>
                <Td dataLabel="Robot account name">
                  <Button variant="link" isInline onClick={() => setShowing(robot)}>
                    {robot.name}
                  </Button>
                  {robot.description && <div>{robot.description}</div>}
                </Td>
                <Td dataLabel="Teams">{robot.teams?.map((team) => team.name).join(', ') || 'None'}</Td>
                <Td dataLabel="Repositories">{robot.repositories?.join(', ') || 'None'}</Td>
                <Td dataLabel="Last accessed">{formatDate(robot.last_accessed)}</Td>
                <Td dataLabel="Created">{formatDate(robot.created)}</Td>
                <Td isActionCell>
                  <ActionsColumn
                    items={[
                      { title: 'View credentials', onClick: () => setShowing(robot) },
                      { title: 'Delete', isDanger: true, onClick: () => setDeleting(robot) },
                    ]}
                  />
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      {creating && (
        <CreateRobotWizard
          namespace={namespace}
          isOrganization={isOrganization}
          onClose={() => setCreating(false)}
          onCreated={(robot) => {
            setCreating(false);
            setShowing(robot);
            reload();
          }}
        />
      )}
      {showing && (
        <RobotCredentials
          robot={showing}
          base={base}
          onClose={() => {
            setShowing(null);
            reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmModal
          title={`Delete robot account ${deleting.name}?`}
          action="Delete"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await api.delete(`${base}/${seg(shortName(deleting.name))}`);
            toast('success', `Deleted robot account ${deleting.name}`);
            reload();
          }}
        >
          <p>Clients using its credentials will no longer be able to sign in.</p>
        </ConfirmModal>
      )}
    </>
  );
}

function CreateRobotWizard({
  namespace,
  isOrganization,
  onClose,
  onCreated,
}: {
  namespace: string;
  isOrganization: boolean;
  onClose: () => void;
  onCreated: (robot: Robot) => void;
}) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [teams, setTeams] = useState<string[]>([]);
  const [roles, setRoles] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const invalid = name !== '' && !ROBOT_SHORT_NAME.test(name);
  const { data: organization } = useApi<{ teams?: Record<string, unknown> }>(
    isOrganization ? `/api/v1/organization/${seg(namespace)}` : null,
  );
  const { data: repositories } = useLoad(() => allRepositories(namespace), [namespace]);
  const teamNames = Object.keys(organization?.teams ?? {});

  const finish = async () => {
    setError(undefined);
    try {
      const base = robotsBase(namespace, isOrganization);
      const robot = await api.put<Robot>(`${base}/${seg(name)}`, { description });
      for (const team of teams) {
        await api.put(`/api/v1/organization/${seg(namespace)}/team/${seg(team)}/members/${seg(robot.name)}`);
      }
      for (const [repository, role] of Object.entries(roles)) {
        if (role === 'none') continue;
        await api.put(repoPath(namespace, repository, `/permissions/user/${seg(robot.name)}`), { role });
      }
      onCreated(robot);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  return (
    <Modal isOpen variant="large" onClose={onClose} aria-label="Create robot account">
      <Wizard title="Create robot account" onClose={onClose} onSave={finish} height={480}>
        <WizardStep name="Robot name and description" id="robot-name" footer={{ isNextDisabled: !name || invalid }}>
          <Form onSubmit={(event) => event.preventDefault()}>
            <FormGroup label="Provide a name for your robot account" fieldId="robot-name-input" isRequired>
              <TextInput
                id="robot-name-input"
                value={name}
                validated={invalid ? 'error' : 'default'}
                onChange={(_, value) => setName(value)}
              />
              <FormHelperText>
                <HelperText>
                  <HelperTextItem variant={invalid ? 'error' : 'default'}>
                    2 to 255 lowercase letters, digits and _, starting with a letter. It will be {namespace}+
                    {name || 'name'}.
                  </HelperTextItem>
                </HelperText>
              </FormHelperText>
            </FormGroup>
            <FormGroup label="Provide an optional description for your robot account" fieldId="robot-description">
              <TextInput id="robot-description" value={description} onChange={(_, value) => setDescription(value)} />
            </FormGroup>
          </Form>
        </WizardStep>
        {isOrganization ? (
          <WizardStep name="Add to team (optional)" id="robot-teams">
            {teamNames.length === 0
              ? 'This organization has no teams.'
              : teamNames.map((team) => (
                  <Checkbox
                    key={team}
                    id={`robot-team-${team}`}
                    label={team}
                    isChecked={teams.includes(team)}
                    onChange={(_, on) =>
                      setTeams((now) => (on ? [...now, team] : now.filter((other) => other !== team)))
                    }
                  />
                ))}
          </WizardStep>
        ) : null}
        <WizardStep name="Add to repository (optional)" id="robot-repositories">
          {!repositories ? (
            <Loading what="repositories" />
          ) : repositories.length === 0 ? (
            'There are no repositories in this namespace yet.'
          ) : (
            <Table aria-label="Repository permissions of the robot" variant="compact">
              <Thead>
                <Tr>
                  <Th>Repository</Th>
                  <Th>Permission</Th>
                </Tr>
              </Thead>
              <Tbody>
                {repositories.map((repository) => (
                  <Tr key={repository.name}>
                    <Td dataLabel="Repository">{repository.name}</Td>
                    <Td dataLabel="Permission">
                      <RoleSelect
                        value={roles[repository.name] ?? 'none'}
                        roles={['none', 'read', 'write', 'admin']}
                        label={`Permission on ${repository.name}`}
                        onChange={(role) => setRoles((now) => ({ ...now, [repository.name]: role }))}
                      />
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          )}
        </WizardStep>
        <WizardStep name="Review and Finish" id="robot-review" footer={{ nextButtonText: 'Create robot account' }}>
          {error && <Alert variant="danger" isInline title={error} />}
          <p>
            Robot{' '}
            <strong>
              {namespace}+{name}
            </strong>
            {description ? ` (${description})` : ''}
          </p>
          <p>Teams: {teams.join(', ') || 'none'}</p>
          <p>
            Repositories:{' '}
            {Object.entries(roles)
              .filter(([, role]) => role !== 'none')
              .map(([repository, role]) => `${repository} (${role})`)
              .join(', ') || 'none'}
          </p>
        </WizardStep>
      </Wizard>
    </Modal>
  );
}
