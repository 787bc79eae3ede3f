import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { TEST_ADMIN_KEY } from './auth';

/** Debian's Chromium, headless, fresh profile, with the flags that keep it off the (closed) network. */
export async function launchBrowser(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'drover-chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    // The dashboard is on the admin plane: the browser answers its Basic challenge with the admin key.
    httpCredentials: { username: 'admin', password: TEST_ADMIN_KEY },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
