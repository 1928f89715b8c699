// An organization (`/organization/:org`) or a user's namespace (`/user/:name`), the tab in
// `?tab=`; each tab only for those who may use it.

import { useLocation, useParams, useSearchParams } from 'react-router-dom';
import { PageSection, Tab, Tabs, TabTitleText } from '@patternfly/react-core';
import { seg } from '../api';
import { useApi } from '../hooks';
import { useSession, useUser } from '../session';
import { LoadError, Loading, PageHeader, QuotaBar, type QuotaReport } from '../components/common';
import { RepositoriesTable } from './RepositoriesList';
import { RobotAccounts } from './RobotAccounts';
import { TeamsAndMembership } from './TeamsAndMembership';
import { DefaultPermissions } from './DefaultPermissions';
import { UsageLogs } from './UsageLogs';
import { OrganizationSettings } from './OrganizationSettings';
import { AccountSettings } from './AccountSettings';

export interface OrganizationView {
  name: string;
  email: string | null;
  is_admin: boolean;
  is_member: boolean;
  teams?: Record<string, { name: string; description: string; role: string; repo_count: number; member_count: number }>;
  tag_expiration_s?: number;
  quotas?: Quota[];
  quota_report?: QuotaReport;
}

export interface Quota {
  id: number;
  limit_bytes: number;
  limits: { id: number; type: 'Warning' | 'Reject'; limit_percent: number }[];
}

export function Organization() {
  const { org = '' } = useParams();
  const location = useLocation();
  const user = useUser();
  const isUser = location.pathname.startsWith('/user/');
  const own = isUser && org === user.username;
  if (isUser) return <UserNamespace name={org} own={own} />;
  return <OrganizationPage name={org} />;
}

function useTab(initial: string): [string, (key: string | number) => void] {
  const [params, setParams] = useSearchParams();
  return [
    params.get('tab') ?? initial,
    (key) =>
      setParams((now) => {
        const next = new URLSearchParams(now);
        next.set('tab', String(key));
        return next;
      }),
  ];
}

function OrganizationPage({ name }: { name: string }) {
  const { feature } = useSession();
  const user = useUser();
  const [tab, setTab] = useTab('repositories');
  const { data: organization, error, reload } = useApi<OrganizationView>(`/api/v1/organization/${seg(name)}`);
  if (error) {
    return (
      <PageSection>
        <LoadError error={error} />
      </PageSection>
    );
  }
  if (!organization) return <Loading what="organization" />;
  const admin = organization.is_admin;
  const quota = organization.quotas?.[0];
  return (
    <>
      <PageHeader title={name} crumbs={[{ label: 'Organizations', to: '/organization' }]}>
        {feature('QUOTA_MANAGEMENT') && organization.quota_report && (
          <div className="pf-v6-u-mt-sm" data-testid="organization-quota">
            <QuotaBar report={organization.quota_report} label="Total Quota Consumed" limits={quota?.limits} />
          </div>
        )}
      </PageHeader>
      <PageSection>
        <Tabs activeKey={tab} onSelect={(_, key) => setTab(key)} aria-label="Organization" mountOnEnter unmountOnExit>
          <Tab eventKey="repositories" title={<TabTitleText>Repositories</TabTitleText>}>
            <RepositoriesTable namespace={name} />
          </Tab>
          {organization.is_member && (
            <Tab eventKey="teams" title={<TabTitleText>Teams and membership</TabTitleText>}>
              <TeamsAndMembership organization={organization} onChange={reload} />
            </Tab>
          )}
          {admin && (
            <Tab eventKey="robots" title={<TabTitleText>Robot accounts</TabTitleText>}>
              <RobotAccounts namespace={name} isOrganization />
            </Tab>
          )}
          {admin && (
            <Tab eventKey="defaultpermissions" title={<TabTitleText>Default permissions</TabTitleText>}>
              <DefaultPermissions organization={name} />
            </Tab>
          )}
          {admin && (
            <Tab eventKey="logs" title={<TabTitleText>Logs</TabTitleText>}>
              <UsageLogs base={`/api/v1/organization/${seg(name)}`} />
            </Tab>
          )}
          {(admin || user.super_user) && (
            <Tab eventKey="settings" title={<TabTitleText>Settings</TabTitleText>}>
              <OrganizationSettings organization={organization} onChange={reload} />
            </Tab>
          )}
        </Tabs>
      </PageSection>
    </>
  );
}

function UserNamespace({ name, own }: { name: string; own: boolean }) {
  const [tab, setTab] = useTab('repositories');
  return (
    <>
      <PageHeader title={name} crumbs={[{ label: 'Organizations', to: '/organization' }]} />
      <PageSection>
        <Tabs activeKey={tab} onSelect={(_, key) => setTab(key)} aria-label="User" mountOnEnter unmountOnExit>
          <Tab eventKey="repositories" title={<TabTitleText>Repositories</TabTitleText>}>
            <RepositoriesTable namespace={name} />
          </Tab>
          {own && (
            <Tab eventKey="robots" title={<TabTitleText>Robot accounts</TabTitleText>}>
              <RobotAccounts namespace={name} isOrganization={false} />
            </Tab>
          )}
          {own && (
            <Tab eventKey="logs" title={<TabTitleText>Logs</TabTitleText>}>
              <UsageLogs base="/api/v1/user" />
            </Tab>
          )}
          {own && (
            <Tab eventKey="settings" title={<TabTitleText>Settings</TabTitleText>}>
              <AccountSettings />
            </Tab>
          )}
        </Tabs>
      </PageSection>
    </>
  );
}
