/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The playground in a real browser: Debian's chromium, headless, driven by playwright-core. The test
// types a prompt, watches the live block (masked → provisional), waits for the committed text, checks
// it against the completions API, and saves a screenshot under test-output/.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type BrowserContext } from 'playwright-core';

import type { DiffusionServer } from '../src';
import { MODEL, postJson, testServer } from './helpers';

const CHROMIUM = process.env.SD_CHROMIUM ?? '/usr/bin/chromium';
const OUT = path.join(__dirname, '..', 'test-output');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`playground browser test skipped: no chromium at ${CHROMIUM} (apt-get install -y chromium)`);
const browserTest = hasChromium ? test : test.skip;

let server: DiffusionServer;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!hasChromium) return;
  server = await testServer({ apiKey: 'pg-key' });
  profile = mkdtempSync(path.join(os.tmpdir(), 'sd-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
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
    viewport: { width: 1200, height: 800 },
  });
}, 90_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

browserTest(
  'playground: type a prompt, watch blocks denoise, get the committed text (screenshot in test-output/)',
  async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/`);
    // The page's API calls need the key; the page itself is open.
    await page.locator('#api_key').fill('pg-key');
    await page.locator('#api_key').dispatchEvent('change');
    await page.waitForFunction(() => document.getElementById('model')!.textContent!.startsWith('seed-diffusion-tiny'));

    const prompt = 'def fibonacci(n):\n';
    await page.locator('#prompt').fill('');
    await page.locator('#prompt').pressSequentially(prompt);
    await page.locator('#max_tokens').fill('40');
    await page.locator('#block_size').fill('8');
    // Record every state a live token cell goes through.
    await page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { seen: Set<string> }).seen = seen;
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('#live .tok')) seen.add(el.className);
      }).observe(document.getElementById('live')!, { subtree: true, childList: true, attributes: true });
    });
    await page.locator('#run').click();
    await page.waitForSelector('#status[data-state="done"]', { timeout: 60_000 });

    const committed = await page.locator('#committed').textContent();
    expect(committed!.length).toBeGreaterThan(0);
    const seen = await page.evaluate(() => [...(window as unknown as { seen: Set<string> }).seen]);
    expect(seen).toContain('tok masked');
    expect(seen).toContain('tok provisional');
    expect(Number(await page.locator('#tpf').textContent())).toBeGreaterThan(0);
    expect(Number(await page.locator('#tps').textContent())).toBeGreaterThan(0);
    expect(await page.locator('#status').textContent()).toMatch(/^done \((length|stop)\)$/);

    // The same text the API gives for the same settings (greedy).
    const api = await postJson(
      `${server.url}/v1/completions`,
      { model: MODEL, prompt, max_tokens: 40, block_size: 8, threshold: 0.9, temperature: 0, seed: 0 },
      { authorization: 'Bearer pg-key' },
    );
    expect(committed).toBe(api.json.choices[0].text);
    expect(errors).toEqual([]);

    mkdirSync(OUT, { recursive: true });
    const shot = path.join(OUT, 'playground.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  },
  120_000,
);
