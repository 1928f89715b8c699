// The header's in-app notifications (`/api/v1/user/notifications`): read, and dismissed.

import {
  Button,
  EmptyState,
  EmptyStateBody,
  NotificationDrawer,
  NotificationDrawerBody,
  NotificationDrawerHeader,
  NotificationDrawerList,
  NotificationDrawerListItem,
  NotificationDrawerListItemBody,
  NotificationDrawerListItemHeader,
} from '@patternfly/react-core';
import { api, seg } from '../api';
import { formatDate } from '../format';

export interface UserNotification {
  id: string;
  kind: string;
  organization: string | null;
  metadata: Record<string, unknown>;
  created: number;
  dismissed: boolean;
}

const TITLES: Record<string, string> = {
  quota_warning: 'Quota warning',
  quota_error: 'Quota exceeded',
  repo_push: 'Repository pushed',
  build_failure: 'Build failed',
  vulnerability_found: 'Vulnerability found',
  maintenance: 'Maintenance',
};

function describe(notification: UserNotification): string {
  const meta = notification.metadata;
  const where = (meta.namespace ?? meta.repository ?? notification.organization ?? '') as string;
  const what = meta.message ?? meta.description;
  if (typeof what === 'string') return what;
  return where ? `In ${where}` : notification.kind.replaceAll('_', ' ');
}

export function NotificationsDrawer({
  notifications,
  onClose,
  onChange,
}: {
  notifications: UserNotification[];
  onClose: () => void;
  onChange: () => void;
}) {
  const unread = notifications.filter((notification) => !notification.dismissed);
  const dismiss = async (id: string) => {
    await api.put(`/api/v1/user/notifications/${seg(id)}`, { dismissed: true });
    onChange();
  };
  return (
    <NotificationDrawer>
      <NotificationDrawerHeader count={unread.length} onClose={onClose} title="Notifications" />
      <NotificationDrawerBody>
        {unread.length === 0 ? (
          <EmptyState titleText="No new notifications" headingLevel="h2">
            <EmptyStateBody>Quota warnings and other news about your namespaces show here.</EmptyStateBody>
          </EmptyState>
        ) : (
          <NotificationDrawerList>
            {unread.map((notification) => (
              <NotificationDrawerListItem key={notification.id} variant="warning" isRead={false}>
                <NotificationDrawerListItemHeader
                  variant="warning"
                  title={TITLES[notification.kind] ?? notification.kind}
                  srTitle="Warning notification:"
                >
                  <Button variant="link" isInline onClick={() => dismiss(notification.id)}>
                    Dismiss
                  </Button>
                </NotificationDrawerListItemHeader>
                <NotificationDrawerListItemBody timestamp={formatDate(notification.created)}>
                  {describe(notification)}
                </NotificationDrawerListItemBody>
              </NotificationDrawerListItem>
            ))}
          </NotificationDrawerList>
        )}
      </NotificationDrawerBody>
    </NotificationDrawer>
  );
}
