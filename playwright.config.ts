import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

// Playwright cannot download its own browsers here: use the system's Chromium
// (CHROMIUM_PATH, else Debian's), or Playwright's own where one is installed.
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

export default defineConfig({
  testDir: 'test/e2e',
  timeout: 60_000,
  expect: { timeout: 20_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: Boolean(process.env.CI),
  reporter: 'list',
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath,
      // Keep Chromium from calling home: this machine's network is closed.
      args: ['--disable-background-networking', '--disable-component-update', '--no-first-run'],
    },
  },
});
