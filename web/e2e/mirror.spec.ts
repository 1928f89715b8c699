// Repository mirroring: a repository set up in its Mirroring tab to mirror the v* tags of
// another repository of this same registry (no second registry to start), tried by a dry run,
// synced now, changed by a partial update, and its tags in the Tags tab.

import { type Locator } from '@playwright/test';
import { adminApi, checkPage, expect, host, Layout, PASSWORD, push, signIn, test, alicesOrganization } from './support';

/** `YYYY-MM-DDTHH:MM` in local time, as a datetime-local input takes it. */
function localInput(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The row of `tag` in a sync's table of tags. */
const rowOf = (table: Locator, tag: string) =>
  table.getByRole('row').filter({ has: table.page().getByRole('gridcell', { name: tag, exact: true }) });

test('a mirror of the v* tags: configured, dry run, Sync Now, the tags arrive', async ({ page }) => {
  // A sync runs on the server's mirror worker, which takes its time to pick it up.
  test.setTimeout(180_000);
  const org = await alicesOrganization('mirror');
  const layout = new Layout();
  const images = Object.fromEntries(
    ['v1', 'v2', 'other'].map((tag) => [tag, layout.image('amd64', [`mirrored ${tag}`])] as const),
  );
  for (const [tag, image] of Object.entries(images)) {
    layout.tag(tag, image);
    push(layout, tag, `${org}/source`, 'alice');
  }
  // The empty repository that mirrors, and the robot that writes its tags.
  await adminApi('POST', '/api/v1/repository', {
    namespace: org,
    repository: 'mirror',
    visibility: 'private',
    description: '',
    repo_kind: 'image',
  });
  const robot = `${org}+mirrorbot`;
  await adminApi('PUT', `/api/v1/organization/${org}/robots/mirrorbot`, { description: 'Writes the mirror' });
  await adminApi('PUT', `/api/v1/repository/${org}/mirror/permissions/user/${encodeURIComponent(robot)}`, {
    role: 'write',
  });

  await signIn(page, 'alice', undefined, `/repository/${org}/mirror?tab=mirroring`);
  const form = page.getByTestId('mirror-form');
  await expect(form.getByRole('button', { name: 'Enable Mirror' })).toBeDisabled();
  await expect(page.getByTestId('mirror-status')).toHaveCount(0);
  await checkPage(page, 'mirroring-new');

  const source = `${host()}/${org}/source`;
  await form.getByLabel('Registry Location').fill(source);
  await form.getByLabel(/^Tags/).fill('v*');
  // Tomorrow: during the test only Sync Now starts a sync.
  await form.getByLabel('Start Date').fill(localInput(new Date(Date.now() + 86_400_000)));
  await form.getByLabel(/^Sync Interval/).fill('1');
  await form.getByLabel('Unit of the sync interval').selectOption('days');
  await form.getByLabel('Robot User').selectOption(robot);
  // The source is private: the mirror pulls it as alice.
  await form.getByLabel('Username').fill('alice');
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Advanced settings' }).click();
  // The registry under test speaks plain HTTP.
  await form.getByLabel('Verify TLS').uncheck();
  await expect(form.getByLabel('Copy signatures, SBOMs and attestations (referrers)')).toBeChecked();
  await checkPage(page, 'mirroring-form');
  await form.getByRole('button', { name: 'Enable Mirror' }).click();

  // Saved: the form shows what the server kept, and the status card appears.
  const status = page.getByTestId('mirror-status');
  await expect(status.getByTestId('mirror-state')).toHaveText('Sync Pending');
  await expect(form.getByRole('button', { name: 'Update Mirror' })).toBeDisabled();
  await expect(form.getByLabel('Registry Location')).toHaveValue(source);
  await expect(form.getByLabel(/^Tags/)).toHaveValue('v*');
  await expect(form.getByLabel(/^Sync Interval/)).toHaveValue('1');
  await expect(form.getByLabel('Unit of the sync interval')).toHaveValue('days');
  await expect(form.getByLabel('Robot User')).toHaveValue(robot);
  await expect(form.getByLabel('Username')).toHaveValue('alice');
  await expect(form.getByLabel('Password', { exact: true })).toHaveValue('');
  const saved = await adminApi<Record<string, unknown>>('GET', `/api/v1/repository/${org}/mirror/mirror`);
  expect(saved).toMatchObject({
    is_enabled: true,
    external_reference: source,
    external_registry_username: 'alice',
    external_registry_config: { verify_tls: false, unsigned_images: false },
    sync_interval: 86400,
    root_rule: { rule_kind: 'tag_glob_csv', rule_value: ['v*'] },
    robot_username: robot,
    skopeo_timeout_interval: 300,
    remove_stale_tags: false,
    copy_referrers: true,
  });
  expect(saved).not.toHaveProperty('external_registry_password');
  await checkPage(page, 'mirroring-configured');

  // The dry run plans v1 and v2, not `other`, and changes nothing.
  await page.getByTestId('dry-run-btn').click();
  const dialog = page.getByRole('dialog', { name: 'Dry run' });
  const plan = dialog.getByTestId('dry-run-result');
  await expect(rowOf(plan, 'v1')).toContainText('copy');
  await expect(rowOf(plan, 'v2')).toContainText('copy');
  await expect(rowOf(plan, 'other')).toHaveCount(0);
  await expect(plan.getByTestId('dry-run-result-counts')).toContainText('2 to copy');
  await checkPage(page, 'mirroring-dry-run');
  await dialog.getByRole('button', { name: 'Close' }).last().click();
  await expect(dialog).toBeHidden();
  await expect(status.getByTestId('mirror-state')).toHaveText('Sync Pending');

  // Sync Now: the tab reads the state again until the sync is over.
  await page.getByTestId('sync-now-btn').click();
  await expect(status.getByTestId('mirror-state')).toHaveText('Last Sync Succeeded', { timeout: 150_000 });
  await expect(page.getByTestId('cancel-sync-btn')).toHaveCount(0);
  const last = status.getByTestId('last-sync');
  await expect(rowOf(last, 'v1')).toContainText('copy');
  await expect(rowOf(last, 'v2')).toContainText('copy');
  await expect(last.getByTestId('last-sync-counts')).toContainText('2 copied');
  await checkPage(page, 'mirroring-synced');

  // A partial update: scheduled syncs off, the rest (the password too) kept.
  // The switch's track covers its input: a person clicks its words.
  await form.getByText('Enabled', { exact: true }).click();
  await expect(form.getByRole('switch', { name: 'Enabled' })).not.toBeChecked();
  await form.getByRole('button', { name: 'Update Mirror' }).click();
  await expect(status).toContainText('None: scheduled mirroring is disabled');
  await expect(form.getByRole('button', { name: 'Update Mirror' })).toBeDisabled();
  const updated = await adminApi<Record<string, unknown>>('GET', `/api/v1/repository/${org}/mirror/mirror`);
  expect(updated).toMatchObject({ is_enabled: false, external_reference: source, external_registry_username: 'alice' });

  // The mirrored tags are the source's manifests; `other` stayed behind.
  await page.getByRole('tab', { name: 'Tags' }).click();
  for (const tag of ['v1', 'v2']) {
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: tag, exact: true }) });
    await expect(row.getByText(images[tag].digest.slice(7, 19))).toBeVisible();
  }
  await expect(page.getByRole('link', { name: 'other', exact: true })).toHaveCount(0);
});
