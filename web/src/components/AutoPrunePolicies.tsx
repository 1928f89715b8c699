// Auto-prune policies of a namespace or a repository: None, by number of tags, by age.

import { useState } from 'react';
import { Button, Checkbox, FormGroup, FormSelect, FormSelectOption, TextInput, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, seg } from '../api';
import { useAction, useApi } from '../hooks';
import { DangerLink, LoadError, Loading, SubmitForm } from './common';

interface Policy {
  uuid: string;
  method: 'number_of_tags' | 'creation_date';
  value: number | string;
  tagPattern: string | null;
  tagPatternMatches: boolean;
}

const describeMethod = (policy: Policy) =>
  policy.method === 'number_of_tags' ? `Keep the newest ${policy.value} tags` : `Prune tags older than ${policy.value}`;

/** `base` is `/api/v1/organization/{org}/autoprunepolicy/`, the user's or a repository's. */
export function AutoPrunePolicies({ base }: { base: string }) {
  const { data, error, reload } = useApi<{ policies: Policy[] }>(base);
  const act = useAction(reload);
  const [method, setMethod] = useState<'none' | Policy['method']>('none');
  const [count, setCount] = useState('10');
  const [age, setAge] = useState('30');
  const [unit, setUnit] = useState('d');
  const [pattern, setPattern] = useState('');
  const [matches, setMatches] = useState(true);

  const create = async () => {
    const created = await act('Auto-prune policy created', () =>
      api.post(base, {
        method,
        value: method === 'number_of_tags' ? Number(count) : `${age}${unit}`,
        tagPattern: pattern || undefined,
        tagPatternMatches: matches,
      }),
    );
    if (created) setMethod('none');
  };
  const remove = (policy: Policy) => act('Auto-prune policy deleted', () => api.delete(`${base}${seg(policy.uuid)}`));

  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="auto-prune policies" />;
  return (
    <>
      <Title headingLevel="h2">Auto-Prune Policies</Title>
      {data.policies.length > 0 && (
        <Table aria-label="Auto-prune policies" variant="compact" data-testid="autoprune-policies">
          <Thead>
            <Tr>
              <Th>Policy</Th>
              <Th>Tag pattern</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          <Tbody>
            {data.policies.map((policy) => (
              <Tr key={policy.uuid}>
                <Td dataLabel="Policy">{describeMethod(policy)}</Td>
                <Td dataLabel="Tag pattern">
                  {policy.tagPattern
                    ? `${policy.tagPatternMatches ? 'matching' : 'not matching'} ${policy.tagPattern}`
                    : 'all tags'}
                </Td>
                <Td>
                  <DangerLink onClick={() => remove(policy)} />
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      <SubmitForm className="pf-v6-u-mt-md" onSubmit={() => void create()}>
        <FormGroup label="Prune policy" fieldId="prune-method">
          <FormSelect id="prune-method" value={method} onChange={(_, value) => setMethod(value as typeof method)}>
            <FormSelectOption value="none" label="None" />
            <FormSelectOption value="number_of_tags" label="By number of tags" />
            <FormSelectOption value="creation_date" label="By age of tags" />
          </FormSelect>
        </FormGroup>
        {method === 'number_of_tags' && (
          <FormGroup label="The number of tags to keep" fieldId="prune-count">
            <TextInput id="prune-count" type="number" min={1} value={count} onChange={(_, value) => setCount(value)} />
          </FormGroup>
        )}
        {method === 'creation_date' && (
          <FormGroup label="Delete tags older than" fieldId="prune-age" isInline>
            <TextInput id="prune-age" type="number" min={1} value={age} onChange={(_, value) => setAge(value)} />
            <FormSelect aria-label="Unit" value={unit} onChange={(_, value) => setUnit(value)}>
              <FormSelectOption value="d" label="days" />
              <FormSelectOption value="w" label="weeks" />
              <FormSelectOption value="m" label="months" />
              <FormSelectOption value="y" label="years" />
            </FormSelect>
          </FormGroup>
        )}
        {method !== 'none' && (
          <>
            <FormGroup label="Tag pattern (regular expression, optional)" fieldId="prune-pattern">
              <TextInput id="prune-pattern" value={pattern} onChange={(_, value) => setPattern(value)} />
            </FormGroup>
            <Checkbox
              id="prune-matches"
              label="Prune the tags that match the pattern (off: those that do not)"
              isChecked={matches}
              onChange={(_, on) => setMatches(on)}
            />
            <Button type="submit">Save policy</Button>
          </>
        )}
      </SubmitForm>
    </>
  );
}
