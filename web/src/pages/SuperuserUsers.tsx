// What a superuser does to users from the organizations list: create one (with a generated
// password, shown once), change a user's e-mail or password, disable, enable, delete.

import { useState } from 'react';
import { Alert, ClipboardCopy, FormGroup, TextInput } from '@patternfly/react-core';
import { ActionsColumn } from '@patternfly/react-table';
import { api, seg } from '../api';
import { useAction } from '../hooks';
import { ConfirmModal } from '../components/common';
import { FormModal } from '../components/FormModal';

export interface ManagedUser {
  name: string;
  email?: string | null;
  enabled?: boolean;
}

const userPath = (name: string) => `/api/v1/superuser/users/${seg(name)}`;

export function CreateUserModal({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [created, setCreated] = useState<{ username: string; password: string } | null>(null);
  return (
    <FormModal
      id="create-user"
      title="Create User"
      submit={created ? 'Create another' : 'Create user'}
      canSubmit={username !== ''}
      onSubmit={async () => {
        const answer = await api.post<{ username: string; password: string }>('/api/v1/superuser/users/', {
          username,
          email: email || undefined,
        });
        setCreated(answer);
        setUsername('');
        setEmail('');
        onCreated();
      }}
      onClose={onClose}
      notice={
        created && (
          <Alert variant="success" isInline title={`User ${created.username} created. Their password, shown only now:`}>
            <ClipboardCopy
              isReadOnly
              hoverTip="Copy"
              clickTip="Copied to clipboard!"
              textAriaLabel="Generated password"
            >
              {created.password}
            </ClipboardCopy>
          </Alert>
        )
      }
    >
      <FormGroup label="Username" fieldId="new-user-name" isRequired>
        <TextInput id="new-user-name" value={username} onChange={(_, value) => setUsername(value)} />
      </FormGroup>
      <FormGroup label="E-mail address" fieldId="new-user-email">
        <TextInput id="new-user-email" type="email" value={email} onChange={(_, value) => setEmail(value)} />
      </FormGroup>
    </FormModal>
  );
}

type Dialog = 'email' | 'password' | 'delete' | null;

/** The row kebab of a user in a superuser's list. */
export function UserActions({ user, onChange }: { user: ManagedUser; onChange: () => void }) {
  const act = useAction(onChange);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [value, setValue] = useState('');
  const close = () => {
    setDialog(null);
    setValue('');
  };
  const change = (field: 'email' | 'password') => async () => {
    await api.put(userPath(user.name), { [field]: value });
    close();
    onChange();
  };
  return (
    <>
      <ActionsColumn
        items={[
          { title: 'Change E-mail Address', onClick: () => setDialog('email') },
          { title: 'Change Password', onClick: () => setDialog('password') },
          {
            title: user.enabled === false ? 'Enable User' : 'Disable User',
            onClick: () =>
              void act(`User ${user.name} ${user.enabled === false ? 'enabled' : 'disabled'}`, () =>
                api.put(userPath(user.name), { enabled: user.enabled === false }),
              ),
          },
          { title: 'Delete User', isDanger: true, onClick: () => setDialog('delete') },
        ]}
      />
      {(dialog === 'email' || dialog === 'password') && (
        <FormModal
          id={`change-${dialog}`}
          title={dialog === 'email' ? `Change e-mail of ${user.name}` : `Change password of ${user.name}`}
          submit="Save"
          canSubmit={value !== ''}
          onSubmit={change(dialog)}
          onClose={close}
        >
          <FormGroup
            label={dialog === 'email' ? 'E-mail address' : 'New password'}
            fieldId={`user-${dialog}`}
            isRequired
          >
            <TextInput
              id={`user-${dialog}`}
              type={dialog === 'email' ? 'email' : 'password'}
              value={value}
              onChange={(_, next) => setValue(next)}
            />
          </FormGroup>
        </FormModal>
      )}
      {dialog === 'delete' && (
        <ConfirmModal
          title={`Delete user ${user.name}?`}
          action="Delete"
          typed={user.name}
          onClose={close}
          onConfirm={async () => {
            await api.delete(userPath(user.name));
            onChange();
          }}
        >
          <p>The user, their namespace and every repository in it will be deleted. Type the name to confirm.</p>
        </ConfirmModal>
      )}
    </>
  );
}
