// Scenarios 2 to 7: an organization, a repository, pushes, the Tags tab (sizes, platforms,
// pull commands, tag actions) and the tag history with a restore.

import { checkPage, expect, host, inspect, Layout, push, signIn, test, unique, alicesOrganization } from './support';

test('an organization is created; an invalid name is refused inline', async ({ page }) => {
  await signIn(page, 'alice');
  await page.getByRole('button', { name: 'Create Organization' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Organization Name').fill('Bad Name!');
  await expect(dialog.getByText('Must be 2 to 255 lowercase letters')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Create' })).toBeDisabled();
  await checkPage(page, 'create-organization');

  const name = unique('org');
  await dialog.getByLabel('Organization Name').fill(name);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toBeHidden();
  await page.getByLabel('Filter by name').fill(name);
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
  await expect(row.getByRole('gridcell').nth(2)).toHaveText('1'); // Teams: owners
});

test('a private repository: empty tags, a push, sizes, digests and pull commands', async ({ page, context }) => {
  const org = await alicesOrganization('pushorg');
  await signIn(page, 'alice');

  await page.goto('/repository');
  await page.getByTestId('create-repository-button').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Namespace').selectOption(org);
  await dialog.getByLabel('Repository name').fill('app');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(new RegExp(`/repository/${org}/app$`));
  await expect(page.getByRole('heading', { name: `${org}/app private`, level: 1 })).toBeVisible();
  await checkPage(page, 'repository-information');

  await page.getByRole('tab', { name: 'Tags' }).click();
  await expect(page.getByText('There are no viewable tags for this repository')).toBeVisible();
  await expect(page.getByTestId('push-command').getByRole('textbox')).toHaveValue(
    `podman push ${host()}/${org}/app:latest`,
  );
  await checkPage(page, 'tags-empty');

  const layout = new Layout();
  const image = layout.image('amd64', ['first layer', 'second layer']);
  layout.tag('v1', image);
  push(layout, 'v1', `${org}/app`, 'alice');
  await page.reload();
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'v1', exact: true }) });
  await expect(row).toBeVisible();
  await expect(row.getByText(image.digest.slice(7, 19))).toBeVisible();
  await expect(row.getByText(/KiB|B$/)).toBeVisible();
  await checkPage(page, 'tags');

  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await row.getByRole('button', { name: 'Pull commands for v1' }).click();
  const popover = page.getByTestId('pull-popover');
  for (const [id, command] of [
    ['copy-tag-podman', `podman pull ${host()}/${org}/app:v1`],
    ['copy-tag-docker', `docker pull ${host()}/${org}/app:v1`],
    ['copy-digest-podman', `podman pull ${host()}/${org}/app@${image.digest}`],
    ['copy-digest-docker', `docker pull ${host()}/${org}/app@${image.digest}`],
  ]) {
    await expect(popover.getByTestId(id).getByRole('textbox')).toHaveValue(command);
  }
  await popover.getByTestId('copy-tag-podman').getByRole('button', { name: 'Copy pull spec to clipboard' }).click();
  await expect
    .poll(() => page.evaluate(() => navigator.clipboard.readText()))
    .toBe(`podman pull ${host()}/${org}/app:v1`);
  await checkPage(page, 'pull-popover');
});

test('a two-platform index expands into one row per platform', async ({ page }) => {
  const org = await alicesOrganization('multi');
  const layout = new Layout();
  const index = layout.index([layout.image('amd64', ['amd64 layer']), layout.image('arm64', ['arm64 layer', 'more'])]);
  layout.tag('multi', index);
  push(layout, 'multi', `${org}/app`, 'alice', { all: true });

  await signIn(page, 'alice', undefined, `/repository/${org}/app?tab=tags`);
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'multi', exact: true }) });
  await row.getByRole('button', { name: 'Details' }).click();
  const platforms = page.getByRole('grid', { name: 'Platforms' });
  await expect(platforms.getByRole('gridcell', { name: 'linux on amd64' })).toBeVisible();
  await expect(platforms.getByRole('gridcell', { name: 'linux on arm64' })).toBeVisible();
  await checkPage(page, 'tags-expanded');
});

test('tags are added, moved after a confirmation, given an expiration, removed; the history restores', async ({
  page,
}) => {
  const org = await alicesOrganization('tagops');
  const layout = new Layout();
  const one = layout.image('amd64', ['one']);
  const two = layout.image('amd64', ['two']);
  layout.tag('v1', one);
  layout.tag('v2', two);
  push(layout, 'v1', `${org}/app`, 'alice');
  push(layout, 'v2', `${org}/app`, 'alice');
  await signIn(page, 'alice', undefined, `/repository/${org}/app?tab=tags`);
  const rowOf = (tag: string) =>
    page.getByRole('row').filter({ has: page.getByRole('link', { name: tag, exact: true }) });

  // Add a tag to v1's manifest.
  await rowOf('v1').getByRole('button', { name: 'Actions for v1' }).click();
  await page.getByRole('menuitem', { name: 'Add new tag' }).click();
  await page.getByRole('dialog').getByLabel('New tag name').fill('stable');
  await page.getByRole('dialog').getByRole('button', { name: 'Add tag' }).click();
  await expect(rowOf('stable')).toContainText(one.digest.slice(7, 19));

  // Moving stable onto v2's manifest asks first.
  await rowOf('v2').getByRole('button', { name: 'Actions for v2' }).click();
  await page.getByRole('menuitem', { name: 'Add new tag' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('New tag name').fill('stable');
  await dialog.getByRole('button', { name: 'Add tag' }).click();
  await expect(dialog.getByText('Tag stable already exists')).toBeVisible();
  await checkPage(page, 'move-tag-confirmation');
  await dialog.getByRole('button', { name: 'Move tag' }).click();
  await expect(rowOf('stable')).toContainText(two.digest.slice(7, 19));

  // An expiration in the past is refused; one in the future is kept.
  await rowOf('v1').getByRole('button', { name: 'Actions for v1' }).click();
  await page.getByRole('menuitem', { name: 'Change expiration' }).click();
  const expiry = page.getByRole('dialog');
  await expiry.getByLabel('Expires at').fill('2020-01-01T10:00');
  await expect(expiry.getByText('The expiration must be in the future.')).toBeVisible();
  await expect(expiry.getByRole('button', { name: 'Change Expiration' })).toBeDisabled();
  const next = new Date(Date.now() + 7 * 86_400_000);
  const local = `${next.getFullYear()}-${String(next.getMonth() + 1).padStart(2, '0')}-${String(next.getDate()).padStart(2, '0')}T12:00`;
  await expiry.getByLabel('Expires at').fill(local);
  await expiry.getByRole('button', { name: 'Change Expiration' }).click();
  await expect(rowOf('v1').getByRole('gridcell').nth(5)).not.toHaveText('Never');

  // Remove v2.
  await rowOf('v2').getByRole('button', { name: 'Actions for v2' }).click();
  await page.getByRole('menuitem', { name: 'Remove' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await expect(rowOf('v2')).toHaveCount(0);

  // The history tells all of it, and brings v2 back.
  await page.getByRole('tab', { name: 'Tag history' }).click();
  const history = page.getByTestId('tag-history-table');
  await expect(history.getByText('stable was moved to')).toBeVisible();
  await expect(history.getByText('v2 was deleted')).toBeVisible();
  await expect(history.getByText('v1 was created pointing to')).toBeVisible();
  await checkPage(page, 'tag-history');
  await history
    .getByRole('row')
    .filter({ hasText: 'v2 was deleted' })
    .getByRole('button', { name: /Restore to/ })
    .click();
  await page.getByRole('dialog').getByRole('button', { name: 'Restore tag' }).click();
  // Within Quay's two seconds of the deletion, the restore reads as a reversion.
  await expect(history.getByText(/v2 was (recreated pointing|reverted) to/)).toBeVisible();
  expect(inspect(`${org}/app:v2`, 'alice').config.digest).toBeDefined();
});
