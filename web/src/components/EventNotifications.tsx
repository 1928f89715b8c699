// Events and notifications of a repository or namespace: list, create, test, delete.

import { useState } from 'react';
import { Button, FormGroup, FormSelect, FormSelectOption, TextInput, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, seg } from '../api';
import { useAction, useApi } from '../hooks';
import { useUser } from '../session';
import { DangerLink, LoadError, Loading, SubmitForm } from './common';

interface Notification {
  uuid: string;
  title: string | null;
  event: string;
  method: string;
  number_of_failures: number;
}

const EVENT_NAMES: Record<string, string> = {
  repo_push: 'Push to Repository',
  repo_image_expiry: 'Image expiry trigger',
  quota_warning: 'Quota warning',
  quota_error: 'Quota exceeded',
};
const TARGET_LABELS: Record<string, string> = {
  email: 'E-mail address',
  quay_notification: 'Recipient (a user; you when empty)',
};
const METHOD_NAMES: Record<string, string> = {
  quay_notification: 'Red Hat Quay Notification',
  email: 'E-mail',
  webhook: 'Webhook POST',
  slack: 'Slack',
  teams: 'Microsoft Teams',
};

/** `base` lists and creates (`…/notification/` or `…/notifications`); `events` may be chosen. */
export function EventNotifications({ base, events }: { base: string; events: string[] }) {
  const user = useUser();
  const { data, error, reload } = useApi<{ notifications: Notification[] }>(base);
  const act = useAction(reload);
  const [event, setEvent] = useState(events[0]);
  const [method, setMethod] = useState('webhook');
  const [target, setTarget] = useState('');
  const [title, setTitle] = useState('');
  const item = (uuid: string) => `${base.replace(/\/$/, '')}/${seg(uuid)}`;

  const create = async () => {
    const config =
      method === 'email'
        ? { email: target }
        : method === 'quay_notification'
          ? { target: { kind: 'user', name: target || user.username } }
          : { url: target };
    const created = await act('Notification created', () =>
      api.post(base, { event, method, config, eventConfig: {}, title: title || undefined }),
    );
    if (created) {
      setTarget('');
      setTitle('');
    }
  };

  if (error) return <LoadError error={error} />;
  if (!data) return <Loading what="notifications" />;
  return (
    <>
      <Title headingLevel="h2">Events and Notifications</Title>
      {data.notifications.length > 0 && (
        <Table aria-label="Notifications" variant="compact" data-testid="event-notifications">
          <Thead>
            <Tr>
              <Th>Title</Th>
              <Th>Event</Th>
              <Th>Notification</Th>
              <Th>Status</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          <Tbody>
            {data.notifications.map((notification) => (
              <Tr key={notification.uuid}>
                <Td dataLabel="Title">{notification.title ?? '(untitled)'}</Td>
                <Td dataLabel="Event">{EVENT_NAMES[notification.event] ?? notification.event}</Td>
                <Td dataLabel="Notification">{METHOD_NAMES[notification.method] ?? notification.method}</Td>
                <Td dataLabel="Status">
                  {notification.number_of_failures > 0
                    ? `Failing (${notification.number_of_failures} failures)`
                    : 'Enabled'}
                </Td>
                <Td>
                  <Button
                    variant="link"
                    onClick={() => act('Test notification queued', () => api.post(`${item(notification.uuid)}/test`))}
                  >
                    Test
                  </Button>
                  <DangerLink onClick={() => act('Notification deleted', () => api.delete(item(notification.uuid)))} />
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      <SubmitForm className="pf-v6-u-mt-md" onSubmit={() => void create()}>
        <FormGroup label="When this event occurs" fieldId="notification-event">
          <FormSelect id="notification-event" value={event} onChange={(_, value) => setEvent(value)}>
            {events.map((name) => (
              <FormSelectOption key={name} value={name} label={EVENT_NAMES[name] ?? name} />
            ))}
          </FormSelect>
        </FormGroup>
        <FormGroup label="Then issue a notification" fieldId="notification-method">
          <FormSelect id="notification-method" value={method} onChange={(_, value) => setMethod(value)}>
            {Object.entries(METHOD_NAMES).map(([name, label]) => (
              <FormSelectOption key={name} value={name} label={label} />
            ))}
          </FormSelect>
        </FormGroup>
        <FormGroup
          label={TARGET_LABELS[method] ?? 'URL'}
          fieldId="notification-target"
          isRequired={method !== 'quay_notification'}
        >
          <TextInput
            id="notification-target"
            value={target}
            placeholder={method === 'quay_notification' ? user.username : undefined}
            onChange={(_, value) => setTarget(value)}
          />
        </FormGroup>
        <FormGroup label="Title (optional)" fieldId="notification-title">
          <TextInput id="notification-title" value={title} onChange={(_, value) => setTitle(value)} />
        </FormGroup>
        <Button type="submit" isDisabled={method !== 'quay_notification' && !target}>
          Create notification
        </Button>
      </SubmitForm>
    </>
  );
}
