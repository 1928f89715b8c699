// An organization's settings: e-mail and time-machine window, quota, auto-prune, proxy cache,
// namespace notifications; each only where its feature is on.

import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Alert, Button, Checkbox, FormGroup, TextInput, Tab, TabTitleText, Title } from '@patternfly/react-core';
import { api, messageOf, seg } from '../api';
import { formatDuration } from '../format';
import { useAction, useApi } from '../hooks';
import { useSession, useUser } from '../session';
import { useToast } from '../toasts';
import { AutoPrunePolicies } from '../components/AutoPrunePolicies';
import { EventNotifications } from '../components/EventNotifications';
import { GeneralSettings } from '../components/GeneralSettings';
import { ConfirmModal, LoadError, Loading, SettingsTabs, SubmitForm } from '../components/common';
import { QuotaSettings } from '../components/QuotaSettings';
import type { OrganizationView } from './Organization';

/** Administrators see every tab but Quota, which superusers change (and see). */
export function OrganizationSettings({
  organization,
  onChange,
}: {
  organization: OrganizationView;
  onChange: () => void;
}) {
  const { feature } = useSession();
  const user = useUser();
  const admin = organization.is_admin;
  const base = `/api/v1/organization/${seg(organization.name)}`;
  const editsQuota = feature('QUOTA_MANAGEMENT') && feature('EDIT_QUOTA') && user.super_user;
  return (
    <SettingsTabs label="Organization settings" initial={admin ? 'general' : 'quota'}>
      {admin && (
        <Tab eventKey="general" title={<TabTitleText>General settings</TabTitleText>}>
          <GeneralSettings
            email={organization.email}
            tagExpirationS={organization.tag_expiration_s}
            save={(change) => api.put(base, change)}
            onSaved={onChange}
          />
        </Tab>
      )}
      {editsQuota && (
        <Tab eventKey="quota" title={<TabTitleText>Quota</TabTitleText>}>
          <QuotaSettings
            base={`${base}/quota`}
            quota={organization.quotas?.[0]}
            report={organization.quota_report}
            onChange={onChange}
          />
        </Tab>
      )}
      {admin && feature('AUTO_PRUNE') && (
        <Tab eventKey="autoprune" title={<TabTitleText>Auto-Prune Policies</TabTitleText>}>
          <AutoPrunePolicies base={`${base}/autoprunepolicy/`} />
        </Tab>
      )}
      {admin && feature('PROXY_CACHE') && (
        <Tab eventKey="proxycache" title={<TabTitleText>Proxy Cache</TabTitleText>}>
          <ProxyCacheSettings organization={organization.name} />
        </Tab>
      )}
      {admin && (
        <Tab eventKey="notifications" title={<TabTitleText>Notifications</TabTitleText>}>
          <EventNotifications base={`${base}/notifications`} events={['quota_warning', 'quota_error']} />
        </Tab>
      )}
      {admin && (
        <Tab eventKey="delete" title={<TabTitleText>Delete organization</TabTitleText>}>
          <DeleteOrganization name={organization.name} />
        </Tab>
      )}
    </SettingsTabs>
  );
}

interface ProxyCache {
  upstream_registry: string | null;
  expiration_s: number | null;
  insecure: boolean | null;
}

function ProxyCacheSettings({ organization }: { organization: string }) {
  const base = `/api/v1/organization/${seg(organization)}`;
  const { data, error, reload } = useApi<ProxyCache>(`${base}/proxycache`);
  const act = useAction(reload);
  const [upstream, setUpstream] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [expiration, setExpiration] = useState('86400');
  const [insecure, setInsecure] = useState(false);
  const [problem, setProblem] = useState<string>();

  const body = () => ({
    upstream_registry: upstream,
    upstream_registry_username: username || undefined,
    upstream_registry_password: password || undefined,
    expiration_s: Number(expiration),
    insecure,
  });
  const toast = useToast();
  const save = async () => {
    setProblem(undefined);
    try {
      await api.post(`${base}/validateproxycache`, body());
      await api.post(`${base}/proxycache`, body());
      toast('success', `${organization} is now a proxy cache of ${upstream}`);
      reload();
    } catch (failure) {
      setProblem(messageOf(failure));
    }
  };
  const remove = () => act('Proxy cache configuration removed', () => api.delete(`${base}/proxycache`));

  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="proxy cache" />;
  if (data.upstream_registry) {
    return (
      <>
        <Title headingLevel="h2">Proxy Cache</Title>
        <p data-testid="proxy-cache-upstream">
          This organization caches <strong>{data.upstream_registry}</strong>; cached tags are checked again after{' '}
          {formatDuration(data.expiration_s ?? 0)}.
        </p>
        <Button variant="danger" onClick={remove}>
          Remove proxy cache configuration
        </Button>
      </>
    );
  }
  return (
    <SubmitForm onSubmit={() => void save()}>
      <Title headingLevel="h2">Proxy Cache</Title>
      <p>
        Make this organization a pull-through cache of another registry: pulls of {organization}/name fetch upstream
        name once.
      </p>
      {problem && <Alert variant="danger" isInline title={problem} />}
      <FormGroup label="Remote Registry" fieldId="proxy-upstream" isRequired>
        <TextInput
          id="proxy-upstream"
          placeholder="quay.io/namespace"
          value={upstream}
          onChange={(_, value) => setUpstream(value)}
        />
      </FormGroup>
      <FormGroup label="Remote Registry Username" fieldId="proxy-username">
        <TextInput id="proxy-username" value={username} onChange={(_, value) => setUsername(value)} />
      </FormGroup>
      <FormGroup label="Remote Registry Password" fieldId="proxy-password">
        <TextInput id="proxy-password" type="password" value={password} onChange={(_, value) => setPassword(value)} />
      </FormGroup>
      <FormGroup label="Expiration (seconds)" fieldId="proxy-expiration">
        <TextInput
          id="proxy-expiration"
          type="number"
          min={0}
          value={expiration}
          onChange={(_, value) => setExpiration(value)}
        />
      </FormGroup>
      <Checkbox
        id="proxy-insecure"
        label="Insecure: the upstream speaks plain HTTP or has an untrusted certificate"
        isChecked={insecure}
        onChange={(_, on) => setInsecure(on)}
      />
      <Button type="submit" isDisabled={!upstream}>
        Save
      </Button>
    </SubmitForm>
  );
}

function DeleteOrganization({ name }: { name: string }) {
  const { refresh } = useSession();
  const toast = useToast();
  const navigate = useNavigate();
  const [asking, setAsking] = useState(false);
  return (
    <>
      <Title headingLevel="h2">Delete organization</Title>
      <p>Deleting an organization deletes its repositories, teams and robot accounts. It cannot be undone.</p>
      <Button variant="danger" onClick={() => setAsking(true)}>
        Delete organization
      </Button>
      {asking && (
        <ConfirmModal
          title={`Delete organization ${name}?`}
          action="Delete"
          typed={name}
          onClose={() => setAsking(false)}
          onConfirm={async () => {
            await api.delete(`/api/v1/organization/${seg(name)}`);
            await refresh();
            toast('success', `Deleted organization ${name}`);
            navigate('/organization');
          }}
        >
          <p>Type the organization's name to confirm.</p>
        </ConfirmModal>
      )}
    </>
  );
}
