import { randomBytes } from 'node:crypto';
/// <reference lib="dom" />
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser';
import { freeMeshPort, startGatewayProcess, type GatewayProcess } from '../support/process';

const KEY = randomBytes(32).toString('base64');

describe('dashboard of a three-node mesh in headless Chromium', () => {
  const nodes: GatewayProcess[] = [];
  let browser: BrowserContext;
  beforeAll(async () => {
    const ports = [await freeMeshPort(), await freeMeshPort(), await freeMeshPort()];
    const seeds = ports.map((p) => `127.0.0.1:${p}`).join(',');
    for (let i = 0; i < 3; i++) {
      nodes.push(await startGatewayProcess(['--mesh', '--mesh-port', String(ports[i]), '--mesh-seeds', seeds, '--mesh-key', KEY, '--mesh-timings', 'local', '--node-name', `node-${i}`]));
    }
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  });

  it('shows three alive members, then reflects a killed node', async () => {
    const page = await browser.newPage();
    await page.goto(`${nodes[0].url}/dashboard`);
    await page.waitForFunction(() => document.querySelectorAll('#members tbody tr[data-member]').length === 3, undefined, { timeout: 15_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('#members tbody tr td.state')].filter((td) => td.textContent === 'alive').length === 3, undefined, { timeout: 15_000 });
    expect(await page.textContent('#node')).toContain('mesh of 3 alive');
    await nodes[2].stop('SIGKILL');
    await page.waitForFunction(
      () => ['suspect', 'dead'].includes(document.querySelector('#members tbody tr[data-member="node-2"] td.state')?.textContent ?? ''),
      undefined,
      { timeout: 20_000 },
    );
    await page.waitForFunction(() => document.querySelector('#members tbody tr[data-member="node-2"] td.state')?.textContent === 'dead', undefined, { timeout: 30_000 });
    expect(await page.textContent('#node')).toContain('mesh of 2 alive');
    await page.close();
  });
});
