import { EmptyState, EmptyStateBody, PageSection } from '@patternfly/react-core';
import { Link } from 'react-router-dom';

export function NotFound() {
  return (
    <PageSection>
      <EmptyState titleText="Page not found" headingLevel="h1">
        <EmptyStateBody>
          There is nothing here. <Link to="/repository">See the repositories</Link>.
        </EmptyStateBody>
      </EmptyState>
    </PageSection>
  );
}
