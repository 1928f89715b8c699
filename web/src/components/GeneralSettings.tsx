// A namespace's general settings, the same for a user and an organization: its e-mail
// address and its time-machine window.

import { useState } from 'react';
import { Button, FormGroup, FormSelect, FormSelectOption, TextInput, Title } from '@patternfly/react-core';
import { formatDuration } from '../format';
import { useAction } from '../hooks';
import { useSession } from '../session';
import { SubmitForm } from './common';

export function GeneralSettings({
  email,
  tagExpirationS,
  save,
  onSaved,
}: {
  email: string | null;
  tagExpirationS: number | undefined;
  save: (change: { email?: string; tag_expiration_s?: number }) => Promise<unknown>;
  onSaved: () => void;
}) {
  const { config } = useSession();
  const act = useAction(onSaved);
  const [address, setAddress] = useState(email ?? '');
  const [window, setWindow] = useState(tagExpirationS === undefined ? '' : String(tagExpirationS));
  return (
    <SubmitForm
      onSubmit={() =>
        void act('Settings saved', () =>
          save({ email: address || undefined, tag_expiration_s: window ? Number(window) : undefined }),
        )
      }
    >
      <Title headingLevel="h2">General settings</Title>
      <FormGroup label="E-mail address" fieldId="settings-email">
        <TextInput id="settings-email" type="email" value={address} onChange={(_, value) => setAddress(value)} />
      </FormGroup>
      <FormGroup label="Time machine" fieldId="time-machine">
        <FormSelect id="time-machine" value={window} onChange={(_, next) => setWindow(next)}>
          {config.config.TAG_EXPIRATION_OPTIONS_S.map((seconds) => (
            <FormSelectOption
              key={seconds}
              value={String(seconds)}
              label={seconds === 0 ? 'None' : formatDuration(seconds)}
            />
          ))}
        </FormSelect>
        <p>Deleted and moved tags can be restored for this long.</p>
      </FormGroup>
      <Button type="submit">Save</Button>
    </SubmitForm>
  );
}
