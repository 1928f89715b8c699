// The superuser's usage logs of the whole registry.

import { PageSection } from '@patternfly/react-core';
import { PageHeader } from '../components/common';
import { UsageLogs } from './UsageLogs';

export function UsageLogsPage() {
  return (
    <>
      <PageHeader title="Usage Logs" />
      <PageSection>
        <UsageLogs base="/api/v1/superuser" />
      </PageSection>
    </>
  );
}
