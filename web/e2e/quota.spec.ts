// Scenarios 12 and 13: a quota a superuser sets, shown as text and as a bar in the lists and
// headers, refusing a push over it; auto-prune policies of an organization and a repository.

import { randomBytes } from 'node:crypto';
import { adminApi, checkPage, expect, Layout, push, signIn, test, alicesOrganization } from './support';

const MIB = 1024 * 1024;

test('a 10 MiB quota with warning and reject thresholds shows in lists and headers and refuses a push', async ({
  page,
}) => {
  const org = await alicesOrganization('quota');
  const layout = new Layout();
  layout.tag('big', layout.image('amd64', [randomBytes(9 * MIB)]));
  layout.tag('more', layout.image('amd64', [randomBytes(2 * MIB)]));
  push(layout, 'big', `${org}/app`, 'alice');

  await signIn(page, 'admin', undefined, `/organization/${org}?tab=settings`);
  await page.getByRole('tab', { name: 'Quota' }).click();
  await page.getByLabel('Storage quota').fill('10');
  await page.getByLabel('Quota unit').selectOption('MiB');
  await page.getByRole('button', { name: 'Apply quota' }).click();
  await expect(page.getByText('Quota set to 10.00 MiB')).toBeVisible();
  for (const [kind, percent] of [
    ['Warning', '80'],
    ['Reject', '100'],
  ]) {
    await page.getByLabel('Action').selectOption(kind);
    await page.getByLabel('Threshold percent').fill(percent);
    await page.getByRole('button', { name: 'Add threshold' }).click();
    await expect(page.getByTestId('quota-limits')).toContainText(`${kind} at ${percent}%`);
  }
  const header = page.getByTestId('organization-quota');
  await expect(header).toContainText(/9\.0\d MiB \(90%\) of 10\.00 MiB \(warning\)/);
  await expect(header.getByTestId('quota-bar')).toHaveAttribute('data-variant', 'warning');
  await checkPage(page, 'organization-quota');

  // Over the limit: the push is refused and nothing changes.
  expect(() => push(layout, 'more', `${org}/app`, 'alice')).toThrow();

  await page.goto('/organization');
  await page.getByLabel('Filter by name').fill(org);
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: org, exact: true }) });
  await expect(row).toContainText(/\(90%\) of 10\.00 MiB/);
  await page.goto(`/repository/${org}/app`);
  await expect(page.getByTestId('repository-size')).toContainText(/9\.0\d MiB \(90%\) of 10\.00 MiB/);

  // A smaller quota leaves the organization over it: the bar says so in colour and words.
  const quotas = await adminApi<{ id: number }[]>('GET', `/api/v1/organization/${org}/quota`);
  await adminApi('PUT', `/api/v1/organization/${org}/quota/${quotas[0].id}`, { limit_bytes: 8 * MIB });
  await page.goto(`/organization/${org}`);
  await expect(page.getByTestId('organization-quota')).toContainText('(over the limit)');
  await expect(page.getByTestId('organization-quota').getByTestId('quota-bar')).toHaveAttribute(
    'data-variant',
    'danger',
  );
  await checkPage(page, 'organization-over-quota');
});

test('auto-prune policies are created and listed in organization and repository settings', async ({ page }) => {
  const org = await alicesOrganization('prune');
  const layout = new Layout();
  layout.tag('v1', layout.image('amd64', ['prune']));
  push(layout, 'v1', `${org}/app`, 'alice');

  await signIn(page, 'alice', undefined, `/organization/${org}?tab=settings`);
  await page.getByRole('tab', { name: 'Auto-Prune Policies' }).click();
  await page.getByLabel('Prune policy').selectOption('number_of_tags');
  await page.getByLabel('The number of tags to keep').fill('5');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByTestId('autoprune-policies')).toContainText('Keep the newest 5 tags');
  await checkPage(page, 'organization-autoprune');

  await page.goto(`/repository/${org}/app?tab=settings`);
  await page.getByRole('tab', { name: 'Repository Auto-Prune Policies' }).click();
  await page.getByLabel('Prune policy').selectOption('creation_date');
  await page.getByLabel('Delete tags older than').fill('30');
  await page.getByLabel('Tag pattern (regular expression, optional)').fill('^dev-');
  await page.getByRole('button', { name: 'Save policy' }).click();
  const listed = page.getByTestId('autoprune-policies');
  await expect(listed).toContainText('Prune tags older than 30d');
  await expect(listed).toContainText('matching ^dev-');
  await checkPage(page, 'repository-autoprune');
});
