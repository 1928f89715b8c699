// Scenario 11: the repository's usage log in words, with who and from where, a filter, a
// range of days and the chart.

import { adminApi, checkPage, expect, Layout, push, signIn, test, alicesOrganization } from './support';

test('the Logs tab tells pushes and tag changes in words, filtered, by day, with a chart', async ({ page }) => {
  const org = await alicesOrganization('logs');
  const layout = new Layout();
  const one = layout.image('amd64', ['log one']);
  const two = layout.image('amd64', ['log two']);
  layout.tag('v1', one);
  layout.tag('v2', two);
  push(layout, 'v1', `${org}/app`, 'alice');
  push(layout, 'v2', `${org}/app`, 'alice');
  const tag = (name: string) => `/api/v1/repository/${org}/app/tag/${name}`;
  await adminApi('PUT', tag('stable'), { manifest_digest: one.digest });
  await adminApi('PUT', tag('stable'), { manifest_digest: two.digest });
  await adminApi('PUT', tag('v1'), { expiration: Math.floor(Date.now() / 1000) + 86_400 });
  await adminApi('DELETE', tag('v2'));

  await signIn(page, 'alice', undefined, `/repository/${org}/app?tab=logs`);
  const table = page.getByTestId('usage-logs-table');
  const short = (digest: string) => digest.slice(7, 19);
  const push1 = table.getByRole('row').filter({ hasText: `Push of v1 to repository ${org}/app` });
  await expect(push1).toContainText('alice');
  await expect(push1).toContainText('127.0.0.1');
  for (const text of [
    `Tag stable created in repository ${org}/app on image ${short(one.digest)}`,
    `Tag stable moved from image ${short(one.digest)} to image ${short(two.digest)} in repository ${org}/app`,
    `Tag v1 set to expire on`,
    `Tag v2 deleted in repository ${org}/app`,
  ]) {
    await expect(table.getByText(text)).toBeVisible();
  }
  await expect(page.getByTestId('usage-logs-chart')).toBeVisible();
  await checkPage(page, 'repository-logs');

  await page.getByLabel('Filter logs').fill('moved');
  await expect(table.getByRole('row')).toHaveCount(2); // the header and the move
  await page.getByLabel('Filter logs').fill('');

  await page.getByRole('button', { name: 'Hide Chart' }).click();
  await expect(page.getByTestId('usage-logs-chart')).toHaveCount(0);
  await page.getByRole('button', { name: 'Show Chart' }).click();
  await expect(page.getByTestId('usage-logs-chart')).toBeVisible();

  // A range that ended yesterday holds none of today's entries; the future cannot be chosen.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel('To date').fill(yesterday);
  await expect(page.getByText('No log entries')).toBeVisible();
  await expect(page.getByLabel('To date')).toHaveAttribute('max', new Date().toISOString().slice(0, 10));
});
