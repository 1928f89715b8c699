// Sign in with a username and password; back to where the user was going.

import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import {
  ActionGroup,
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Form,
  FormGroup,
  TextInput,
  Title,
} from '@patternfly/react-core';
import { api, messageOf, setCsrfToken } from '../api';
import { useSession } from '../session';

/** Only paths of this application: a redirect elsewhere would be an open redirect. */
function safeRedirect(target: string | null): string {
  return target && target.startsWith('/') && !target.startsWith('//') ? target : '/organization';
}

export function SignIn() {
  const { config, user, refresh } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const target = safeRedirect(params.get('redirect'));
  if (user) return <Navigate to={target} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.post<{ csrf_token: string | null }>('/api/v1/signin', {
        username,
        password,
      });
      setCsrfToken(answer.csrf_token);
      await refresh();
      navigate(target, { replace: true });
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="quay-signin">
      <Card>
        <CardTitle>
          <Title headingLevel="h1">Sign in to {config.config.REGISTRY_TITLE}</Title>
        </CardTitle>
        <CardBody>
          <Form onSubmit={submit}>
            {error && <Alert variant="danger" isInline title={error} data-testid="signin-error" />}
            <FormGroup label="Username" isRequired fieldId="signin-username">
              <TextInput
                id="signin-username"
                isRequired
                autoComplete="username"
                value={username}
                onChange={(_, value) => setUsername(value)}
              />
            </FormGroup>
            <FormGroup label="Password" isRequired fieldId="signin-password">
              <TextInput
                id="signin-password"
                type="password"
                isRequired
                autoComplete="current-password"
                value={password}
                onChange={(_, value) => setPassword(value)}
              />
            </FormGroup>
            <ActionGroup>
              <Button type="submit" variant="primary" isBlock isLoading={busy} isDisabled={busy}>
                Sign in
              </Button>
            </ActionGroup>
          </Form>
        </CardBody>
      </Card>
    </main>
  );
}
