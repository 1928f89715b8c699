// A namespace's storage quota: the limit, and Warning and Reject thresholds (one Reject).

import { useState } from 'react';
import { Button, FormGroup, FormSelect, FormSelectOption, TextInput, Title } from '@patternfly/react-core';
import { api } from '../api';
import { formatBytes } from '../format';
import { useAction } from '../hooks';
import { QuotaBar, type QuotaReport, SubmitForm } from './common';
import type { Quota } from '../pages/Organization';

const UNITS: [string, number][] = [
  ['KiB', 1024],
  ['MiB', 1024 ** 2],
  ['GiB', 1024 ** 3],
  ['TiB', 1024 ** 4],
];

/** `base` is `/api/v1/organization/{org}/quota` (or the superuser's path for a namespace). */
export function QuotaSettings({
  base,
  quota,
  report,
  onChange,
}: {
  base: string;
  quota: Quota | undefined;
  report: QuotaReport | undefined;
  onChange: () => void;
}) {
  const act = useAction(onChange);
  const [amount, setAmount] = useState(() => (quota ? String(quota.limit_bytes / 1024 ** 2) : ''));
  const [unit, setUnit] = useState('MiB');
  const [kind, setKind] = useState<'Warning' | 'Reject'>('Warning');
  const [percent, setPercent] = useState('80');
  const bytes = Math.round(Number(amount) * (UNITS.find(([name]) => name === unit)?.[1] ?? 1));
  const hasReject = quota?.limits.some((limit) => limit.type === 'Reject') ?? false;

  const saveLimit = () =>
    act(`Quota set to ${formatBytes(bytes)}`, () =>
      quota ? api.put(`${base}/${quota.id}`, { limit_bytes: bytes }) : api.post(base, { limit_bytes: bytes }),
    );

  return (
    <>
      <Title headingLevel="h2">Quota</Title>
      {report && <QuotaBar report={report} label="Total Quota Consumed" limits={quota?.limits} />}
      <SubmitForm className="pf-v6-u-mt-md" onSubmit={() => void saveLimit()}>
        <FormGroup label="Storage quota" fieldId="quota-amount" isInline>
          <TextInput
            id="quota-amount"
            type="number"
            min={0}
            step="any"
            value={amount}
            onChange={(_, value) => setAmount(value)}
          />
          <FormSelect aria-label="Quota unit" value={unit} onChange={(_, value) => setUnit(value)}>
            {UNITS.map(([name]) => (
              <FormSelectOption key={name} value={name} label={name} />
            ))}
          </FormSelect>
        </FormGroup>
        <div>
          <Button type="submit" isDisabled={!(bytes > 0)}>
            {quota ? 'Update quota' : 'Apply quota'}
          </Button>{' '}
          {quota && (
            <Button variant="danger" onClick={() => act('Quota removed', () => api.delete(`${base}/${quota.id}`))}>
              Remove quota
            </Button>
          )}
        </div>
      </SubmitForm>
      {quota && (
        <>
          <Title headingLevel="h3" className="pf-v6-u-mt-md">
            Quota policy
          </Title>
          <ul data-testid="quota-limits">
            {quota.limits.map((limit) => (
              <li key={limit.id}>
                {limit.type} at {limit.limit_percent}%{' '}
                <Button
                  variant="link"
                  isInline
                  isDanger
                  onClick={() => act('Quota policy removed', () => api.delete(`${base}/${quota.id}/limit/${limit.id}`))}
                >
                  Remove
                </Button>
              </li>
            ))}
          </ul>
          <SubmitForm
            onSubmit={() =>
              void act(`${kind} at ${percent}% added`, () =>
                api.post(`${base}/${quota.id}/limit`, { type: kind, threshold_percent: Number(percent) }),
              )
            }
          >
            <FormGroup label="Add a threshold" fieldId="limit-percent" isInline>
              <FormSelect aria-label="Action" value={kind} onChange={(_, value) => setKind(value as typeof kind)}>
                <FormSelectOption value="Warning" label="Warning" />
                <FormSelectOption value="Reject" label="Reject" isDisabled={hasReject} />
              </FormSelect>
              <TextInput
                id="limit-percent"
                aria-label="Threshold percent"
                type="number"
                min={1}
                max={100}
                value={percent}
                onChange={(_, value) => setPercent(value)}
              />
            </FormGroup>
            <Button type="submit" variant="secondary">
              Add threshold
            </Button>
          </SubmitForm>
        </>
      )}
    </>
  );
}
