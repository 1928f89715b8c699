// Default permissions (prototypes): who gets which role on every new repository.

import { useState } from 'react';
import { Button, Form, FormGroup, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, seg } from '../api';
import { useAction, useApi } from '../hooks';
import { DangerLink, LoadError, Loading } from '../components/common';
import { EntitySearch, entityKind, type Entity } from '../components/EntitySearch';
import { RoleSelect } from '../components/RoleSelect';

interface Party {
  name: string;
  kind?: string | null;
}
interface Prototype {
  id: string;
  role: string;
  activating_user: Party | null;
  delegate: Party;
}

export function DefaultPermissions({ organization }: { organization: string }) {
  const base = `/api/v1/organization/${seg(organization)}/prototypes`;
  const { data, error, reload } = useApi<{ prototypes: Prototype[] }>(base);
  const act = useAction(reload);
  const [creator, setCreator] = useState<Entity | null>(null);
  const [delegate, setDelegate] = useState<Entity | null>(null);
  const [role, setRole] = useState('read');

  const create = () =>
    delegate &&
    act('Default permission created', () =>
      api.post(base, {
        role,
        delegate: { name: delegate.name, kind: delegate.kind === 'team' ? 'team' : 'user' },
        activating_user: creator ? { name: creator.name } : undefined,
      }),
    ).then(() => {
      setCreator(null);
      setDelegate(null);
    });

  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="default permissions" />;
  return (
    <>
      <Table aria-label="Default permissions" variant="compact" data-testid="default-permissions">
        <Thead>
          <Tr>
            <Th>Repository Created By</Th>
            <Th>Permission Applied To</Th>
            <Th>Permission</Th>
            <Th screenReaderText="Actions" />
          </Tr>
        </Thead>
        <Tbody>
          {data.prototypes.length === 0 && (
            <Tr>
              <Td colSpan={4}>No default permissions.</Td>
            </Tr>
          )}
          {data.prototypes.map((prototype) => (
            <Tr key={prototype.id}>
              <Td dataLabel="Repository Created By">{prototype.activating_user?.name ?? 'Anyone'}</Td>
              <Td dataLabel="Permission Applied To">{prototype.delegate.name}</Td>
              <Td dataLabel="Permission">
                <RoleSelect
                  value={prototype.role}
                  label={`Default permission for ${prototype.delegate.name}`}
                  onChange={(next) =>
                    void act('Default permission changed', () =>
                      api.put(`${base}/${seg(prototype.id)}`, { role: next }),
                    )
                  }
                />
              </Td>
              <Td>
                <DangerLink
                  onClick={() => act('Default permission deleted', () => api.delete(`${base}/${seg(prototype.id)}`))}
                />
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      <Title headingLevel="h2" className="pf-v6-u-mt-lg">
        Create default permission
      </Title>
      <Form onSubmit={(event) => event.preventDefault()}>
        <FormGroup label="Repository created by (empty: anyone)" fieldId="prototype-creator">
          {creator ? (
            <Button variant="link" onClick={() => setCreator(null)}>
              {creator.name} (change)
            </Button>
          ) : (
            <EntitySearch
              namespace={organization}
              includeTeams={false}
              onSelect={setCreator}
              label="Search for a user"
            />
          )}
        </FormGroup>
        <FormGroup label="Applied to" fieldId="prototype-delegate" isRequired>
          {delegate ? (
            <Button variant="link" onClick={() => setDelegate(null)}>
              {delegate.name}, {entityKind(delegate)} (change)
            </Button>
          ) : (
            <EntitySearch namespace={organization} onSelect={setDelegate} />
          )}
        </FormGroup>
        <FormGroup label="Permission" fieldId="prototype-role">
          <RoleSelect value={role} label="Permission" onChange={setRole} />
        </FormGroup>
        <Button onClick={create} isDisabled={!delegate}>
          Create default permission
        </Button>
      </Form>
    </>
  );
}
