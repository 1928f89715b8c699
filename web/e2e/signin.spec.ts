// Scenario 1: signing in and out, and a deep link that goes through the sign-in page.

import { checkPage, expect, PASSWORD, signIn, test } from './support';

test('a wrong password is refused, the right one lands on the organizations', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/signin/);
  await checkPage(page, 'signin');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signin-error')).toContainText('Invalid Username or Password');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/organization$/);
  await expect(page.getByRole('heading', { name: 'Organizations', exact: true })).toBeVisible();
  await checkPage(page, 'organizations');

  await page.getByTestId('user-menu-toggle').click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin/);
  await page.goto('/organization');
  await expect(page).toHaveURL(/\/signin/);
});

test('a deep link while signed out goes to the sign-in page and back', async ({ page }) => {
  await page.goto('/repository?x=1');
  await expect(page).toHaveURL(/\/signin\?redirect=/);
  await signIn(page, 'alice', PASSWORD, '/repository?x=1');
  await expect(page).toHaveURL(/\/repository\?x=1$/);
  await expect(page.getByRole('heading', { name: 'Repositories', exact: true })).toBeVisible();
});
