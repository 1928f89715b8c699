// The signed-in user's own settings: password, e-mail, time-machine window, application
// tokens, auto-prune.

import { useState } from 'react';
import { Alert, Button, ClipboardCopy, FormGroup, Tab, TabTitleText, TextInput, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, messageOf, seg } from '../api';
import { formatDate } from '../format';
import { useAction, useApi } from '../hooks';
import { useSession, useUser } from '../session';
import { useToast } from '../toasts';
import { AutoPrunePolicies } from '../components/AutoPrunePolicies';
import { DangerLink, LoadError, Loading, SettingsTabs, SubmitForm } from '../components/common';
import { GeneralSettings } from '../components/GeneralSettings';

export function AccountSettings() {
  const { feature } = useSession();
  return (
    <SettingsTabs label="Account settings" initial={'general'}>
      <Tab eventKey="general" title={<TabTitleText>General settings</TabTitleText>}>
        <General />
      </Tab>
      <Tab eventKey="password" title={<TabTitleText>Password</TabTitleText>}>
        <Password />
      </Tab>
      <Tab eventKey="tokens" title={<TabTitleText>Application tokens</TabTitleText>}>
        <AppTokens />
      </Tab>
      {feature('AUTO_PRUNE') && (
        <Tab eventKey="autoprune" title={<TabTitleText>Auto-Prune Policies</TabTitleText>}>
          <AutoPrunePolicies base="/api/v1/user/autoprunepolicy/" />
        </Tab>
      )}
    </SettingsTabs>
  );
}

function General() {
  const { refresh } = useSession();
  const user = useUser();
  return (
    <GeneralSettings
      email={user.email}
      tagExpirationS={user.tag_expiration_s}
      save={(change) => api.put('/api/v1/user/', change)}
      onSaved={() => void refresh()}
    />
  );
}

function Password() {
  const toast = useToast();
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string>();
  const mismatch = again !== '' && password !== again;
  const save = async () => {
    setError(undefined);
    try {
      await api.put('/api/v1/user/', { password });
      toast('success', 'Password changed');
      setPassword('');
      setAgain('');
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  return (
    <SubmitForm
      onSubmit={() => {
        if (!mismatch) void save();
      }}
    >
      <Title headingLevel="h2">Change password</Title>
      {error && <Alert variant="danger" isInline title={error} />}
      <FormGroup label="New password" fieldId="new-password" isRequired>
        <TextInput
          id="new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(_, value) => setPassword(value)}
        />
      </FormGroup>
      <FormGroup label="Verify new password" fieldId="verify-password" isRequired>
        <TextInput
          id="verify-password"
          type="password"
          autoComplete="new-password"
          value={again}
          validated={mismatch ? 'error' : 'default'}
          onChange={(_, value) => setAgain(value)}
        />
      </FormGroup>
      {mismatch && <Alert variant="danger" isInline isPlain title="The passwords do not match." />}
      <Button type="submit" isDisabled={!password || mismatch}>
        Change password
      </Button>
    </SubmitForm>
  );
}

interface AppToken {
  uuid: string;
  title: string;
  last_accessed: string | null;
  created: string;
  expiration: string | null;
  token_code: string | null;
}

function AppTokens() {
  const toast = useToast();
  const { data, error, reload } = useApi<{ tokens: AppToken[] }>('/api/v1/user/apptoken');
  const [title, setTitle] = useState('');
  const [created, setCreated] = useState<AppToken | null>(null);
  const create = async () => {
    try {
      const answer = await api.post<{ token: AppToken }>('/api/v1/user/apptoken', { title });
      setCreated(answer.token);
      setTitle('');
      reload();
    } catch (failure) {
      toast('danger', messageOf(failure));
    }
  };
  const act = useAction(reload);
  const revoke = (token: AppToken) =>
    act(`Revoked ${token.title}`, () => api.delete(`/api/v1/user/apptoken/${seg(token.uuid)}`));
  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="application tokens" />;
  return (
    <>
      <Title headingLevel="h2">Application tokens</Title>
      {created?.token_code && (
        <Alert variant="success" isInline title={`Token ${created.title} created: copy it now, it is not shown again`}>
          <ClipboardCopy
            isReadOnly
            hoverTip="Copy"
            clickTip="Copied to clipboard!"
            textAriaLabel="New application token"
          >
            {created.token_code}
          </ClipboardCopy>
        </Alert>
      )}
      <Table aria-label="Application tokens" variant="compact">
        <Thead>
          <Tr>
            <Th>Title</Th>
            <Th>Last accessed</Th>
            <Th>Expiration</Th>
            <Th>Created</Th>
            <Th screenReaderText="Actions" />
          </Tr>
        </Thead>
        <Tbody>
          {data.tokens.map((token) => (
            <Tr key={token.uuid}>
              <Td dataLabel="Title">{token.title}</Td>
              <Td dataLabel="Last accessed">{formatDate(token.last_accessed)}</Td>
              <Td dataLabel="Expiration">{token.expiration ? formatDate(token.expiration) : 'Never'}</Td>
              <Td dataLabel="Created">{formatDate(token.created)}</Td>
              <Td>
                <DangerLink onClick={() => revoke(token)}>Revoke</DangerLink>
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      <SubmitForm
        className="pf-v6-u-mt-md"
        onSubmit={() => {
          if (title) void create();
        }}
      >
        <FormGroup label="New token's title" fieldId="app-token-title">
          <TextInput id="app-token-title" value={title} onChange={(_, value) => setTitle(value)} />
        </FormGroup>
        <Button type="submit" isDisabled={!title}>
          Create application token
        </Button>
      </SubmitForm>
    </>
  );
}
