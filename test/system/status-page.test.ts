import test from 'ava';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { deployment, LineClient, stopped, supervise, waitForLog } from './supervisor-harness.js';

// The status page in a real browser: Debian's Chromium driven by playwright-core (its own
// browser download is not used). .ci/run installs Chromium, so CI always runs this.

const CHROMIUM = process.env['WORKQ_CHROMIUM'] ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Waits until the text of the first element matching `selector` is `text` (the page redraws every 2 s). */
async function textBecomes(page: Page, selector: string, text: string): Promise<void> {
  // An expression for the page (Node's types know no DOM): the arguments are written into it as JSON.
  await page.waitForFunction(`document.querySelector(${JSON.stringify(selector)})?.textContent === ${JSON.stringify(text)}`, undefined, {
    timeout: 20_000,
    polling: 100,
  });
}

if (!existsSync(CHROMIUM)) {
  const why = `no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set WORKQ_CHROMIUM to its path)`;
  process.stderr.write(`status page browser test skipped: ${why}\n`);
  test.skip(`status page in a real browser (skipped: ${why})`, () => undefined);
} else {
  test('status page in a real browser: the instances, then queue counts that follow jobs added over TCP', async (t) => {
    const d = await deployment(2);
    t.teardown(() => d.remove());
    const supervisor = supervise(d);
    t.teardown(() => supervisor.kill('SIGKILL'));
    await waitForLog(supervisor, 'supervisor ready');
    const port = supervisor.lines().find((line) => line['msg'] === 'admin listening')!['port'] as number;

    const profile = await mkdtemp(path.join(os.tmpdir(), 'workq-chromium-'));
    t.teardown(() => rm(profile, { recursive: true, force: true }));
    const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    t.teardown(() => browser.close());
    const page = browser.pages()[0] ?? (await browser.newPage());
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(request.url()));
    page.on('pageerror', (error) => failed.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/`);

    await textBecomes(page, 'tr[data-instance="q0"] td[data-field="state"]', 'ready');
    await textBecomes(page, 'tr[data-instance="q1"] td[data-field="state"]', 'ready');
    t.is(await page.title(), 'Workq status');

    const client = await LineClient.connect(d.ports[0]!);
    t.teardown(() => client.close());
    // A TTR of ten minutes: the leased job stays leased while the page catches up.
    for (let i = 0; i < 3; i++) {
      client.send(`add ${randomUUID()} emails 600000 600000 1\r\nx\r\n`);
      t.is(await client.line(), '+OK');
    }
    await textBecomes(page, 'tr[data-queue="q0/emails"] td[data-field="ready"]', '3');
    await textBecomes(page, 'tr[data-instance="q0"] td[data-field="jobs"]', '3');

    client.send('lease emails 0\r\n');
    t.is(await client.line(), '+OK 1');
    await textBecomes(page, 'tr[data-queue="q0/emails"] td[data-field="leased"]', '1');
    t.is(await page.textContent('tr[data-queue="q0/emails"] td[data-field="ready"]'), '2');
    t.deepEqual(failed, [], 'no request failed and no script error');

    supervisor.kill('SIGTERM');
    t.is((await stopped(supervisor)).code, 0);
  });
}
