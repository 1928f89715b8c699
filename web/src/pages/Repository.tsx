// A repository: Information, Tags, Tag history, Mirroring, Logs and Settings, the tab in `?tab=`.

import { useParams, useSearchParams } from 'react-router-dom';
import { Label, PageSection, Tab, Tabs, TabTitleText } from '@patternfly/react-core';
import { repoPath } from '../api';
import { useApi } from '../hooks';
import { useSession } from '../session';
import { LoadError, Loading, PageHeader, QuotaBar } from '../components/common';
import type { RepositorySummary } from './RepositoriesList';
import { RepositoryInformation } from './RepositoryInformation';
import { TagsTab } from './TagsTab';
import { TagHistoryTab } from './TagHistoryTab';
import { MirroringTab } from './MirroringTab';
import { UsageLogs } from './UsageLogs';
import { RepositorySettings } from './RepositorySettings';

export interface RepositoryView extends RepositorySummary {
  is_organization: boolean;
  can_write: boolean;
  can_admin: boolean;
}

export function Repository() {
  const { ns = '', repo = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const { feature } = useSession();
  const { data: repository, error, reload } = useApi<RepositoryView>(repoPath(ns, repo));
  const tab = params.get('tab') ?? 'information';
  const select = (key: string | number) =>
    setParams((now) => {
      const next = new URLSearchParams(now);
      next.set('tab', String(key));
      next.delete('filter_tag_name');
      return next;
    });

  const crumbs = [
    {
      label: repository?.is_organization ? 'Organizations' : 'Repositories',
      to: repository?.is_organization ? '/organization' : '/repository',
    },
    { label: ns, to: repository?.is_organization ? `/organization/${ns}` : `/user/${ns}` },
  ];
  if (error) {
    return (
      <PageSection>
        <LoadError error={error} />
      </PageSection>
    );
  }
  if (!repository) return <Loading what="repository" />;
  const canSeeLogs = repository.can_write || repository.can_admin;
  return (
    <>
      <PageHeader
        title={
          <>
            {ns}/{repo}{' '}
            <Label color={repository.is_public ? 'green' : 'grey'}>{repository.is_public ? 'public' : 'private'}</Label>
          </>
        }
        crumbs={crumbs}
      >
        {feature('QUOTA_MANAGEMENT') && repository.quota_report && (
          <div className="pf-v6-u-mt-sm" data-testid="repository-size">
            <QuotaBar report={repository.quota_report} label="Repository size" />
          </div>
        )}
      </PageHeader>
      <PageSection>
        <Tabs activeKey={tab} onSelect={(_, key) => select(key)} aria-label="Repository" mountOnEnter unmountOnExit>
          <Tab eventKey="information" title={<TabTitleText>Information</TabTitleText>}>
            <RepositoryInformation repository={repository} onChange={reload} />
          </Tab>
          <Tab eventKey="tags" title={<TabTitleText>Tags</TabTitleText>}>
            <TagsTab repository={repository} />
          </Tab>
          <Tab eventKey="history" title={<TabTitleText>Tag history</TabTitleText>}>
            <TagHistoryTab repository={repository} />
          </Tab>
          {repository.can_admin && feature('REPO_MIRROR') && (
            <Tab eventKey="mirroring" title={<TabTitleText>Mirroring</TabTitleText>}>
              <MirroringTab repository={repository} />
            </Tab>
          )}
          {canSeeLogs && (
            <Tab eventKey="logs" title={<TabTitleText>Logs</TabTitleText>}>
              <UsageLogs base={repoPath(ns, repo)} />
            </Tab>
          )}
          {repository.can_admin && (
            <Tab eventKey="settings" title={<TabTitleText>Settings</TabTitleText>}>
              <RepositorySettings repository={repository} onChange={reload} />
            </Tab>
          )}
        </Tabs>
      </PageSection>
    </>
  );
}
