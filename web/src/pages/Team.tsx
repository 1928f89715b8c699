// One team: its members (add through the typeahead, remove) and repository permissions.

import { useParams } from 'react-router-dom';
import { PageSection, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, seg } from '../api';
import { useAction, useApi } from '../hooks';
import { DangerLink, LoadError, Loading, PageHeader } from '../components/common';
import { EntitySearch, type Entity } from '../components/EntitySearch';

interface TeamMembers {
  name: string;
  members: { name: string; kind: string; is_robot: boolean; invited: boolean }[];
  can_edit: boolean;
}
interface TeamPermissions {
  permissions: { repository: { name: string }; role: string }[];
}

export function Team() {
  const { org = '', team = '' } = useParams();
  const base = `/api/v1/organization/${seg(org)}/team/${seg(team)}`;
  const members = useApi<TeamMembers>(`${base}/members?includePending=true`);
  const permissions = useApi<TeamPermissions>(`${base}/permissions`);
  const change = useAction(members.reload);
  const add = (entity: Entity) =>
    change(`Added ${entity.name} to team ${team}`, () => api.put(`${base}/members/${seg(entity.name)}`));

  return (
    <>
      <PageHeader
        title={`Team ${team}`}
        crumbs={[
          { label: 'Organizations', to: '/organization' },
          { label: org, to: `/organization/${org}?tab=teams` },
        ]}
      />
      <PageSection>
        <Title headingLevel="h2">Members</Title>
        {members.error && <LoadError error={members.error} />}
        {!members.data ? (
          <Loading what="members" />
        ) : (
          <>
            {members.data.can_edit && (
              <div className="pf-v6-u-my-md">
                <EntitySearch namespace={org} includeTeams={false} onSelect={add} label="Add a user or robot" />
              </div>
            )}
            <Table aria-label="Team members" variant="compact" data-testid="team-members">
              <Thead>
                <Tr>
                  <Th>Name</Th>
                  <Th>Type</Th>
                  <Th screenReaderText="Actions" />
                </Tr>
              </Thead>
              <Tbody>
                {members.data.members.map((member) => (
                  <Tr key={member.name}>
                    <Td dataLabel="Name">{member.name}</Td>
                    <Td dataLabel="Type">{member.is_robot ? 'Robot account' : member.invited ? 'Invited' : 'User'}</Td>
                    <Td>
                      {members.data?.can_edit && (
                        <DangerLink
                          onClick={() =>
                            change(`Removed ${member.name} from team ${team}`, () =>
                              api.delete(`${base}/members/${seg(member.name)}`),
                            )
                          }
                        >
                          Remove
                        </DangerLink>
                      )}
                    </Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </>
        )}
      </PageSection>
      <PageSection>
        <Title headingLevel="h2">Repository permissions</Title>
        {permissions.error && <LoadError error={permissions.error} />}
        {permissions.data && (
          <Table aria-label="Team repository permissions" variant="compact">
            <Thead>
              <Tr>
                <Th>Repository</Th>
                <Th>Permission</Th>
              </Tr>
            </Thead>
            <Tbody>
              {permissions.data.permissions.length === 0 && (
                <Tr>
                  <Td colSpan={2}>This team has no repository permissions; grant them in a repository's settings.</Td>
                </Tr>
              )}
              {permissions.data.permissions.map((permission) => (
                <Tr key={permission.repository.name}>
                  <Td dataLabel="Repository">{permission.repository.name}</Td>
                  <Td dataLabel="Permission">{permission.role}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        )}
      </PageSection>
    </>
  );
}
