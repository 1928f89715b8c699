// Browser tests of the web UI against the real quay-bin, in Debian's Chromium (never a
// downloaded browser). `scripts/test-ui` builds both and runs these; run alone with
// `npx playwright test` after `scripts/build-ui` and `cargo build -p quay-bin`.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineConfig } from '@playwright/test';

// Set once, in the runner; workers inherit the environment.
process.env.QUAY_UI_PORT ??= String(20000 + Math.floor(Math.random() * 20000));
process.env.QUAY_UI_DATA ??= mkdtempSync(join(tmpdir(), 'quay-ui-'));
const port = process.env.QUAY_UI_PORT;
const binary = process.env.QUAY_BIN ?? resolve(import.meta.dirname, '../target/debug/quay-bin');

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/output',
  // One registry for every test; its scenarios build on users made in the global setup.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  globalSetup: './e2e/global-setup.ts',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.QUAY_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: `${binary} serve --listen 127.0.0.1:${port} --data-dir ${process.env.QUAY_UI_DATA}`,
    url: `http://127.0.0.1:${port}/health/instance`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      RUST_LOG: 'warn',
      FEATURE_USER_INITIALIZE: 'true',
      SUPER_USERS: '[admin]',
      FEATURE_QUOTA_MANAGEMENT: 'true',
      FEATURE_EDIT_QUOTA: 'true',
      FEATURE_AUTO_PRUNE: 'true',
      FEATURE_PROXY_CACHE: 'true',
      FEATURE_IMMUTABLE_TAGS: 'true',
      FEATURE_REPO_MIRROR: 'true',
      SSRF_ALLOWED_HOSTS: '[127.0.0.1]',
    },
  },
});
