// What the browser tests share: the registry's address and users, images written as OCI
// layouts and pushed with skopeo, the admin's API, and the checks every page passes (axe,
// no console errors, a screenshot to look at).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';

export const ADMIN = 'admin';
export const PASSWORD = 'correct-horse-battery';

export const host = () => `127.0.0.1:${process.env.QUAY_UI_PORT}`;
export const baseURL = () => `http://${host()}`;

/** The admin's API, with the token the global setup made. */
export async function adminApi<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseURL()}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${process.env.QUAY_UI_ADMIN_TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A name no other test uses. */
export const unique = (stem: string) => `${stem}${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;

/** A new organization (named from `stem`) whose owners team holds alice. */
export async function alicesOrganization(stem: string): Promise<string> {
  const org = unique(stem);
  await adminApi('POST', '/api/v1/organization/', { name: org });
  await adminApi('PUT', `/api/v1/organization/${org}/team/owners/members/alice`);
  return org;
}

export async function signIn(page: Page, username: string, password = PASSWORD, target = '/organization') {
  await page.goto(`/signin?redirect=${encodeURIComponent(target)}`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/signin/);
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** An OCI image layout on disk, as skopeo reads one with `oci:DIR:TAG`. */
export class Layout {
  readonly dir: string;
  private entries: Descriptor[] = [];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'quay-ui-layout-'));
    mkdirSync(join(this.dir, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  }

  blob(mediaType: string, bytes: Buffer): Descriptor {
    const digest = sha256(bytes);
    writeFileSync(join(this.dir, 'blobs/sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** An image for `architecture` whose layers hold `layers` (text is padded to 2 KiB), with a configuration. */
  image(
    architecture: string,
    layers: (string | Buffer)[],
    config: {
      Entrypoint?: string[];
      Cmd?: string[];
      Env?: string[];
      Labels?: Record<string, string>;
      ExposedPorts?: Record<string, object>;
    } = {},
  ): Descriptor {
    const layerDescriptors = layers.map((content) =>
      this.blob(
        'application/vnd.oci.image.layer.v1.tar',
        typeof content === 'string' ? Buffer.from(content.padEnd(2048, '.')) : content,
      ),
    );
    const configBlob = this.blob(
      'application/vnd.oci.image.config.v1+json',
      Buffer.from(
        JSON.stringify({
          architecture,
          os: 'linux',
          created: '2026-12-01T00:00:00Z',
          config,
          rootfs: { type: 'layers', diff_ids: layerDescriptors.map((layer) => layer.digest) },
          history: layers.map((content, index) => ({
            created_by: `/bin/sh -c add ${typeof content === 'string' ? content.slice(0, 20) : `layer ${index}`}`,
          })),
        }),
      ),
    );
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configBlob,
      layers: layerDescriptors,
    };
    return {
      ...this.blob(manifest.mediaType, Buffer.from(JSON.stringify(manifest))),
      platform: { architecture, os: 'linux' },
    };
  }

  index(manifests: Descriptor[]): Descriptor {
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
    return this.blob(index.mediaType, Buffer.from(JSON.stringify(index)));
  }

  tag(tag: string, descriptor: Descriptor) {
    this.entries.push({ ...descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } } as Descriptor);
    writeFileSync(
      join(this.dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: this.entries,
      }),
    );
  }
}

/** `skopeo copy` of the layout's `tag` to `repository:tag` on the registry. */
export function push(
  layout: Layout,
  tag: string,
  repository: string,
  username: string,
  options: { all?: boolean; password?: string } = {},
) {
  execFileSync(
    'skopeo',
    [
      'copy',
      '--quiet',
      // Pushed as written: skopeo would otherwise compress the layers and change the digests.
      '--preserve-digests',
      ...(options.all ? ['--all'] : []),
      '--dest-tls-verify=false',
      '--dest-creds',
      `${username}:${options.password ?? PASSWORD}`,
      `oci:${layout.dir}:${tag}`,
      `docker://${host()}/${repository}:${tag}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** `skopeo inspect` of an image on the registry, as JSON. */
export function inspect(reference: string, username: string, password = PASSWORD) {
  const output = execFileSync(
    'skopeo',
    ['inspect', '--raw', '--tls-verify=false', '--creds', `${username}:${password}`, `docker://${host()}/${reference}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return JSON.parse(output.toString());
}

/** Whether `skopeo login` accepts these credentials. */
export function skopeoLogin(username: string, password: string, authfile: string): boolean {
  try {
    execFileSync(
      'skopeo',
      ['login', '--tls-verify=false', '--authfile', authfile, '-u', username, '-p', password, host()],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * Every page of a test passes axe without serious or critical violations, and leaves a
 * full-page screenshot under test-results/screens for people to look at.
 */
export async function checkPage(page: Page, name: string) {
  await page.waitForLoadState('networkidle');
  mkdirSync('test-results/screens', { recursive: true });
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join('; ')})`,
    );
  expect(serious, `accessibility of ${name}`).toEqual([]);
}

/**
 * The page of every test: it fails the test on a script error, a console error or a CSP
 * violation. A failed request's own console line is not an error of the page: tests make
 * some requests fail on purpose (a wrong password), and assert what the page shows.
 */
export const test = base.extend({
  page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
      errors.push(`console: ${text}`);
    });
    await use(page);
    expect(errors, 'errors in the browser').toEqual([]);
  },
});

export { expect };
