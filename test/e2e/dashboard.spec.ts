/// <reference lib="dom" />
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser';
import { startCluster, type TestCluster } from '../support/cluster';

describe('dashboard page in headless Chromium (single node)', () => {
  let c: TestCluster;
  let browser: BrowserContext;
  beforeAll(async () => {
    c = await startCluster({ workers: 2, gateway: { nodeName: 'solo' } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await c?.close();
  });

  it('shows the node, its workers with health and circuit, and live traffic', async () => {
    const page = await browser.newPage();
    await page.goto(`${c.gateway.url}/dashboard`);
    await page.waitForSelector('#members tbody tr[data-member="solo"]');
    expect(await page.textContent('#members tbody')).toContain('alive');
    await page.waitForFunction(() => document.querySelectorAll('#workers tbody tr').length === 2);
    const workers = await page.textContent('#workers tbody');
    expect(workers).toContain('ready');
    expect(workers).toContain('closed');
    for (let i = 0; i < 3; i++) await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `dash ${i}` }], max_tokens: 2 });
    await page.waitForFunction(() => /\b3 requests served/.test(document.getElementById('totals')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.close();
  });
});
