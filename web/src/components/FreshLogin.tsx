// The password prompt behind Quay's "fresh login": a sensitive change made long after
// signing in waits here until the user confirms their password, then goes on.

import { useEffect, useRef, useState } from 'react';
import { FormGroup, TextInput } from '@patternfly/react-core';
import { api, onFreshLoginRequired } from '../api';
import { FormModal } from './FormModal';

interface Pending {
  resolve: () => void;
  reject: (reason: Error) => void;
}

export function FreshLogin() {
  const [asking, setAsking] = useState(false);
  const [password, setPassword] = useState('');
  const pending = useRef<Pending | null>(null);

  useEffect(() => {
    onFreshLoginRequired(
      () =>
        new Promise<void>((resolve, reject) => {
          pending.current = { resolve, reject };
          setPassword('');
          setAsking(true);
        }),
    );
    return () => onFreshLoginRequired(null);
  }, []);

  if (!asking) return null;
  const finish = (outcome: 'confirmed' | 'cancelled') => {
    setAsking(false);
    if (outcome === 'confirmed') pending.current?.resolve();
    else pending.current?.reject(new Error('The change needs your password, which was not given.'));
    pending.current = null;
  };
  return (
    <FormModal
      id="fresh-login"
      title="Please verify your password"
      submit="Verify"
      canSubmit={password !== ''}
      onSubmit={async () => {
        await api.post('/api/v1/signin/verify', { password });
        finish('confirmed');
      }}
      onClose={() => finish('cancelled')}
    >
      <p>It has been a while since you signed in. Confirm your password to make this change.</p>
      <FormGroup label="Password" fieldId="fresh-login-password" isRequired>
        <TextInput
          id="fresh-login-password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(_, value) => setPassword(value)}
        />
      </FormGroup>
    </FormModal>
  );
}
