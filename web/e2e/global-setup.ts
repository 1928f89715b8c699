// The registry's first user (the superuser `admin`, with an API token the tests use) and
// two more users, `alice` and `bob`, all with PASSWORD.

import { ADMIN, PASSWORD, baseURL } from './support';

async function call(method: string, path: string, token: string | null, body?: unknown) {
  const response = await fetch(`${baseURL()}${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export default async function globalSetup() {
  const first = await call('POST', '/api/v1/user/initialize', null, {
    username: ADMIN,
    password: PASSWORD,
    email: 'admin@example.com',
    access_token: true,
  });
  const token: string = first.access_token;
  process.env.QUAY_UI_ADMIN_TOKEN = token;
  for (const username of ['alice', 'bob']) {
    await call('POST', '/api/v1/superuser/users/', token, { username, email: `${username}@example.com` });
    await call('PUT', `/api/v1/superuser/users/${username}`, token, { password: PASSWORD });
  }
}
