// The pages no scenario above passes through, each checked the same way; the account's own
// settings; and scenarios 2 and 3 once more with the keyboard alone.

import {
  adminApi,
  checkPage,
  expect,
  Layout,
  PASSWORD,
  push,
  signIn,
  test,
  unique,
  alicesOrganization,
} from './support';

test('every other page: repositories, tag details, default permissions, the user namespace', async ({ page }) => {
  const org = await alicesOrganization('tour');
  const layout = new Layout();
  layout.tag('v1', layout.image('amd64', ['tour layer one', 'tour layer two'], { Labels: { team: 'web' } }));
  layout.tag('multi', layout.index([layout.image('amd64', ['tour amd64']), layout.image('arm64', ['tour arm64'])]));
  push(layout, 'v1', `${org}/app`, 'alice');
  push(layout, 'multi', `${org}/app`, 'alice', { all: true });
  await signIn(page, 'alice', undefined, '/repository');
  await page.getByLabel('Filter by name').fill(org);
  await expect(page.getByRole('link', { name: `${org}/app` })).toBeVisible();
  await checkPage(page, 'repositories');

  await page.goto(`/repository/${org}/app/tag/v1`);
  await expect(page.getByText('team=web')).toBeVisible();
  await checkPage(page, 'tag-details');
  await page.getByRole('tab', { name: 'Layers' }).click();
  await expect(page.getByText('/bin/sh -c add tour layer two')).toBeVisible();
  await checkPage(page, 'tag-layers');
  await page.goto(`/repository/${org}/app/tag/multi`);
  await page.getByLabel('Architecture').selectOption('linux on arm64');
  await expect(page).toHaveURL(/platform=linux/);
  await page.getByRole('tab', { name: 'Layers' }).click();
  await expect(page.getByText('/bin/sh -c add tour arm64')).toBeVisible();

  await page.goto(`/organization/${org}?tab=defaultpermissions`);
  await page.getByLabel('Search for user, robot or team').fill('owners');
  await page.getByRole('menuitem', { name: /^owners/ }).click();
  await page.getByLabel('Permission', { exact: true }).selectOption('write');
  await page.getByRole('button', { name: 'Create default permission' }).click();
  await expect(page.getByTestId('default-permissions').getByRole('row').filter({ hasText: 'owners' })).toContainText(
    'Anyone',
  );
  await checkPage(page, 'default-permissions');

  await page.goto(`/organization/${org}`);
  await checkPage(page, 'organization-repositories');
  await page.goto('/user/alice');
  await checkPage(page, 'user-namespace');
  await page.goto('/no/such/page/here');
  await expect(page.getByText('Page not found')).toBeVisible();
});

test("the account's settings: e-mail, password, application tokens", async ({ page }) => {
  const name = unique('carol');
  await adminApi('POST', '/api/v1/superuser/users/', { username: name, email: `${name}@example.com` });
  await adminApi('PUT', `/api/v1/superuser/users/${name}`, { password: PASSWORD });
  await signIn(page, name);
  await page.getByTestId('user-menu-toggle').click();
  await page.getByRole('menuitem', { name: 'Account Settings' }).click();
  await expect(page).toHaveURL(new RegExp(`/user/${name}\\?tab=settings`));
  await page.getByLabel('E-mail address').fill(`${name}@example.org`);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Settings saved')).toBeVisible();
  await checkPage(page, 'account-settings');

  await page.getByRole('tab', { name: 'Application tokens' }).click();
  await page.getByLabel("New token's title").fill('laptop');
  await page.getByRole('button', { name: 'Create application token' }).click();
  await expect(page.getByText('Token laptop created')).toBeVisible();
  const token = await page.getByRole('textbox', { name: 'New application token' }).inputValue();
  expect(token.length).toBeGreaterThan(20);
  await checkPage(page, 'application-tokens');

  await page.getByRole('tab', { name: 'Password' }).click();
  await page.locator('#new-password').fill('a-new-password-9');
  await page.getByLabel('Verify new password').fill('a-different-one');
  await expect(page.getByText('The passwords do not match.')).toBeVisible();
  await page.getByLabel('Verify new password').fill('a-new-password-9');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Password changed')).toBeVisible();
  await page.getByTestId('user-menu-toggle').click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await signIn(page, name, 'a-new-password-9');
  const me = await (await page.request.get('/api/v1/user/')).json();
  expect(me.email).toBe(`${name}@example.org`);
});

test('an organization and a repository are created with the keyboard alone', async ({ page }) => {
  await page.goto('/signin');
  await page.keyboard.press('Tab'); // skip link
  await page.getByLabel('Username').focus();
  await page.keyboard.type('alice');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/organization$/);

  const org = unique('keys');
  const create = page.getByRole('button', { name: 'Create Organization' });
  await create.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Organization Name')).toBeFocused();
  await page.keyboard.type(org);
  await page.keyboard.press('Enter');
  const link = page.getByRole('link', { name: org, exact: true });
  await link.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/organization/${org}$`));

  await page.getByTestId('create-repository-button').focus();
  await page.keyboard.press('Enter');
  // The namespace is fixed in an organization's view: the name comes first.
  await expect(page.getByLabel('Repository name')).toBeFocused();
  await page.keyboard.type('keyed');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/repository/${org}/keyed$`));
  await expect(page.getByRole('heading', { name: `${org}/keyed private`, level: 1 })).toBeVisible();
});

test('a superuser creates, changes, disables and deletes a user; an admin deletes an organization', async ({
  page,
}) => {
  const name = unique('dave');
  await signIn(page, 'admin');
  await page.getByRole('button', { name: 'Create User' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Username').fill(name);
  await dialog.getByLabel('E-mail address').fill(`${name}@example.com`);
  await dialog.getByRole('button', { name: 'Create user' }).click();
  const password = await dialog.getByRole('textbox', { name: 'Generated password' }).inputValue();
  expect(password).toHaveLength(32);
  await checkPage(page, 'create-user');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Earlier tests made many users and organizations: find this one as a person would.
  await page.getByLabel('Filter by name').fill(name);
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
  await row.getByRole('button', { name: 'Kebab toggle' }).click();
  await page.getByRole('menuitem', { name: 'Change E-mail Address' }).click();
  await page.getByRole('dialog').getByLabel('E-mail address').fill(`${name}@example.net`);
  await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await expect(row).toContainText(`${name}@example.net`);

  await row.getByRole('button', { name: 'Kebab toggle' }).click();
  await page.getByRole('menuitem', { name: 'Disable User' }).click();
  await expect(row).toContainText('disabled');
  const refused = await fetch(`${page.url().split('/organization')[0]}/api/v1/signin`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: name, password }),
  });
  expect(refused.status).toBe(401);

  await row.getByRole('button', { name: 'Kebab toggle' }).click();
  await page.getByRole('menuitem', { name: 'Delete User' }).click();
  await page.getByRole('dialog').getByLabel(`Type ${name} to continue`).fill(name);
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('link', { name, exact: true })).toHaveCount(0);

  // An organization's admin deletes it from its settings.
  const org = await alicesOrganization('gone');
  await page.getByTestId('user-menu-toggle').click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await signIn(page, 'alice', undefined, `/organization/${org}?tab=settings`);
  await page.getByRole('tab', { name: 'Delete organization' }).click();
  await page.getByRole('button', { name: 'Delete organization' }).click();
  await page.getByRole('dialog').getByLabel(`Type ${org} to continue`).fill(org);
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page).toHaveURL(/\/organization$/);
  await page.getByLabel('Filter by name').fill(org);
  await expect(page.getByText('No organizations')).toBeVisible();
});
