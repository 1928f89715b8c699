// Scenarios 8 to 10: a robot through the wizard and its credentials, a permission granted
// through the typeahead, a team with a role and a member.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminApi,
  checkPage,
  expect,
  host,
  Layout,
  push,
  signIn,
  skopeoLogin,
  test,
  alicesOrganization,
} from './support';

/** An organization alice owns, with repository `app` holding one image. */
async function organizationWithImage() {
  const org = await alicesOrganization('acct');
  const layout = new Layout();
  layout.tag('v1', layout.image('amd64', ['robot layer']));
  push(layout, 'v1', `${org}/app`, 'alice');
  return org;
}

test('a robot made by the wizard logs in with every form of its credentials, until regenerated', async ({
  page,
  context,
}) => {
  const org = await organizationWithImage();
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(page, 'alice', undefined, `/organization/${org}?tab=robots`);
  await page.getByTestId('create-robot-account-btn').click();
  const wizard = page.getByRole('dialog');
  await wizard.getByLabel('Provide a name for your robot account').fill('deployer');
  await checkPage(page, 'robot-wizard');
  await wizard.getByRole('button', { name: 'Next' }).click(); // teams
  await wizard.getByRole('button', { name: 'Next' }).click(); // repositories
  await wizard.getByLabel('Permission on app').selectOption('write');
  await wizard.getByRole('button', { name: 'Next' }).click(); // review
  await expect(wizard.getByText('app (write)')).toBeVisible();
  await wizard.getByRole('button', { name: 'Create robot account' }).click();

  const robot = `${org}+deployer`;
  const credentials = page.getByRole('dialog', { name: `Credentials for ${robot}` });
  const token = await credentials.getByTestId('robot-token').getByRole('textbox').inputValue();
  expect(token.length).toBeGreaterThan(20);
  await checkPage(page, 'robot-credentials');
  const authfile = join(mkdtempSync(join(tmpdir(), 'quay-ui-auth-')), 'auth.json');

  await credentials.getByRole('tab', { name: 'Docker Login' }).click();
  await expect(credentials.getByTestId('docker-login').getByRole('textbox')).toHaveValue(
    `docker login -u='${robot}' -p='${token}' ${host()}`,
  );
  expect(skopeoLogin(robot, token, authfile)).toBe(true);

  const auth = Buffer.from(`${robot}:${token}`).toString('base64');
  await credentials.getByRole('tab', { name: 'Docker Configuration' }).click();
  await credentials.getByTestId('docker-config').getByRole('button', { name: 'Copy' }).click();
  const config = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
  expect(config.auths[host()].auth).toBe(auth);
  const [user, password] = Buffer.from(config.auths[host()].auth, 'base64').toString().split(':');
  expect(skopeoLogin(user, password, authfile)).toBe(true);

  await credentials.getByRole('tab', { name: 'Kubernetes' }).click();
  await credentials.getByTestId('kubernetes-secret').getByRole('button', { name: 'Copy' }).click();
  const secret = await page.evaluate(() => navigator.clipboard.readText());
  expect(secret).toContain('type: kubernetes.io/dockerconfigjson');
  const encoded = /\.dockerconfigjson: (\S+)/.exec(secret)?.[1] ?? '';
  expect(JSON.parse(Buffer.from(encoded, 'base64').toString()).auths[host()].auth).toBe(auth);
  await checkPage(page, 'robot-kubernetes');

  await credentials.getByRole('tab', { name: 'Robot Account' }).click();
  await credentials.getByTestId('regenerate-token').click();
  await expect(credentials.getByTestId('robot-token').getByRole('textbox')).not.toHaveValue(token);
  const renewed = await credentials.getByTestId('robot-token').getByRole('textbox').inputValue();
  expect(skopeoLogin(robot, token, authfile)).toBe(false);
  expect(skopeoLogin(robot, renewed, authfile)).toBe(true);

  // Opened again later, the dialog says the token is not shown and offers to regenerate it.
  await credentials.getByRole('button', { name: 'Close' }).last().click();
  await expect(credentials).toBeHidden();
  const row = page.getByTestId('robot-accounts-table').getByRole('row').filter({ hasText: robot });
  await expect(row).toContainText('app');
  await checkPage(page, 'robot-accounts');
  await row.getByRole('button', { name: robot }).click();
  await expect(page.getByTestId('token-hidden')).toBeVisible();
});

test('a permission granted through the typeahead lets a user read, without the settings', async ({ page }) => {
  const org = await organizationWithImage();
  await signIn(page, 'alice', undefined, `/repository/${org}/app?tab=settings`);
  await page.getByLabel('Search for user, robot or team').fill('bo');
  await page.getByRole('menuitem', { name: /^bob/ }).click();
  const permissions = page.getByTestId('repository-permissions');
  await expect(permissions.getByRole('row').filter({ hasText: 'bob' })).toContainText('User');
  await expect(permissions.getByLabel('Permission of bob')).toHaveValue('read');
  await checkPage(page, 'repository-settings');

  await page.getByTestId('user-menu-toggle').click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await signIn(page, 'bob', undefined, '/repository');
  await page.getByLabel('Filter by name').fill(org);
  await page.getByRole('link', { name: `${org}/app` }).click();
  await expect(page.getByRole('tab', { name: 'Tags' })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Settings' })).toHaveCount(0);
  await expect(page.getByRole('tab', { name: 'Logs' })).toHaveCount(0);
  await checkPage(page, 'repository-as-reader');
});

test('a team is created, given a role and a member', async ({ page }) => {
  const org = await organizationWithImage();
  await signIn(page, 'alice', undefined, `/organization/${org}?tab=teams`);
  await page.getByRole('button', { name: 'Create new team' }).click();
  await page.getByRole('dialog').getByLabel('Team name').fill('builders');
  await page.getByRole('dialog').getByRole('button', { name: 'Create team' }).click();
  const teams = page.getByTestId('teams-table');
  await teams.getByLabel('Role of team builders').selectOption('creator');
  await expect(page.getByText('Team builders is now creator')).toBeVisible();
  await checkPage(page, 'teams');

  await teams.getByRole('link', { name: 'builders' }).click();
  await page.getByLabel('Add a user or robot').fill('bo');
  await page.getByRole('menuitem', { name: /^bob/ }).click();
  await expect(page.getByTestId('team-members').getByRole('row').filter({ hasText: 'bob' })).toBeVisible();
  await checkPage(page, 'team');
  const roster = await adminApi<{ members: { name: string }[] }>(
    'GET',
    `/api/v1/organization/${org}/team/builders/members`,
  );
  expect(roster.members.map((member) => member.name)).toContain('bob');
  const view = await adminApi<{ teams: Record<string, { role: string }> }>('GET', `/api/v1/organization/${org}`);
  expect(view.teams.builders.role).toBe('creator');

  // Members and collaborators views.
  await page.goto(`/organization/${org}?tab=teams`);
  await page.getByRole('button', { name: 'Members View' }).click();
  await expect(page.getByRole('grid', { name: 'Members' }).getByText('bob')).toBeVisible();
  await page.getByRole('button', { name: 'Collaborators View' }).click();
  await expect(page.getByText('No outside collaborators.')).toBeVisible();
});
