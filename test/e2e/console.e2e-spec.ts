import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import request from 'supertest';
import type { FakeHermesServer } from '../fake-hermes';
import { ChatClient } from './support/chat-client';
import { startWithFakeHermes, type FakeUpstreamApp } from './support/fake-upstream-app';
import type { TestApp } from './support/test-app';

/** Debian's Chromium; nothing is ever downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// Skipped only on a machine without Chromium outside CI; in CI (which installs it) a missing or
// broken browser fails the suite.
const browserTests = existsSync(CHROMIUM) || process.env.CI === 'true' ? describe : describe.skip;
if (!existsSync(CHROMIUM) && process.env.CI !== 'true') {
  console.warn(`${CHROMIUM} is missing: the console's browser tests are skipped`);
}

describe('the browser console (e2e)', () => {
  let started: FakeUpstreamApp;
  let hermes: FakeHermesServer;
  let t: TestApp;

  beforeAll(async () => {
    started = await startWithFakeHermes({ ABORT_GRACE_MS: '1000' }, { keepaliveMs: 200 });
    ({ hermes, app: t } = started);
    await request(t.url)
      .post('/api/sessions')
      .set(t.auth)
      .send({ id: 'console-a', title: 'Console test' })
      .expect(201);
  });

  afterAll(() => started.stop());

  it('serves the page without auth, outside the api prefix, with the socket.io client', async () => {
    await request(t.url).get('/console').expect(301).expect('Location', '/console/');
    const page = await request(t.url).get('/console/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.text).toContain('<script src="console.js" defer></script>');
    const script = await request(t.url).get('/console/console.js').expect(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    await request(t.url).get('/console/console.css').expect(200);
    await request(t.url).get('/socket.io/socket.io.js').expect(200);
    await request(t.url).get('/api/console/').set(t.auth).expect(404);
  });

  browserTests('in headless Chromium', () => {
    let userDataDir: string;
    let context: BrowserContext;
    let page: Page;

    const entries = (role: string): Locator => page.locator(`#transcript li[data-role="${role}"]`);
    const idle = () => page.locator('#session-state', { hasText: /^idle$/ }).waitFor();
    const send = async (text: string) => {
      await page.fill('#input', text);
      await page.click('#send');
    };

    beforeAll(async () => {
      userDataDir = await mkdtemp(join(tmpdir(), 'console-chromium-'));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      context.setDefaultTimeout(10_000);
      page = context.pages()[0] ?? (await context.newPage());
    });

    afterAll(async () => {
      await context?.close();
      if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    });

    it('refuses a wrong token and connects with the right one, listing the sessions', async () => {
      await page.goto(`${t.url}/console`);
      await page.fill('#token', 'not-the-token');
      await page.click('#connect');
      await page.locator('#connection[data-state="error"]').waitFor();
      expect(await page.textContent('#connection')).toBe('not connected: Authentication failed');

      await page.fill('#token', t.token);
      await page.click('#connect');
      await page.locator('#connection[data-state="connected"]').waitFor();
      const session = page.locator('#sessions li[data-session-id="console-a"]');
      await session.waitFor();
      expect(await session.textContent()).toContain('Console test');
    });

    it('opens a session, sends, and shows the stream as it comes', async () => {
      await page.click('#sessions li[data-session-id="console-a"]');
      await page.locator('#resume-info', { hasText: 'loaded the snapshot' }).waitFor();
      expect(await page.textContent('#session-title')).toBe('console-a');

      hermes.setNextScenario({ deltas: 5, intervalMs: 30, deltaText: 'c{i} ' });
      await send('Hello console');
      await page.locator('#session-state', { hasText: 'working' }).waitFor();
      await idle();
      expect(await entries('user').allTextContents()).toEqual(['Hello console']);
      expect(await entries('assistant').allTextContents()).toEqual(['c0 c1 c2 c3 c4 ']);
      const streamed = await page.locator('#events li', { hasText: 'message.delta' }).count();
      expect(streamed).toBe(5);
    });

    it('shows the queue, cancels a queued run, and aborts the active one', async () => {
      hermes.setNextScenario(
        { deltas: 500, intervalMs: 20, deltaText: 'x ' },
        { deltas: 1, deltaText: 'q1 done' },
      );
      await send('long run');
      await page.locator('#session-state', { hasText: 'working' }).waitFor();
      await send('q1');
      await send('q2');
      await page.locator('#queue-length', { hasText: '2' }).waitFor();
      expect(await page.locator('#queue li').allTextContents()).toEqual(['q1 Cancel', 'q2 Cancel']);

      await page.click('#queue li:has-text("q2") button');
      await page.locator('#queue-length', { hasText: '1' }).waitFor();
      expect(await page.locator('#queue li').allTextContents()).toEqual(['q1 Cancel']);

      await page.click('#abort');
      await page.locator('#transcript li[data-role="note"]', { hasText: 'aborted' }).waitFor();
      await entries('assistant').filter({ hasText: 'q1 done' }).waitFor();
      await idle();
      expect(await page.textContent('#queue-length')).toBe('0');
      expect(await entries('assistant').count()).toBe(3);
      expect(await entries('user').allTextContents()).toEqual(['Hello console', 'long run', 'q1']);
    });

    it('continues from the last seq after a page reload, each event once', async () => {
      hermes.setNextScenario({ deltas: 20, intervalMs: 40, deltaText: 'r{i} ' });
      await send('reload me');
      await entries('assistant').filter({ hasText: 'r4 ' }).waitFor();
      // The tab goes away mid-run and comes back (a reload with a gap that is sure to miss events).
      const upstream = hermes.lastRun!;
      await page.goto('about:blank');
      const gone = upstream.deltasEmitted;
      await hermes.waitFor(() => upstream.deltasEmitted >= gone + 3);
      await page.goto(`${t.url}/console/`);

      await page.locator('#connection[data-state="connected"]').waitFor();
      const info = page.locator('#resume-info', { hasText: 'replayed the events after seq' });
      await info.waitFor();
      const [, resumedAt, storedSeq] = /at seq (\d+): replayed the events after seq (\d+)/.exec(
        (await info.textContent()) ?? '',
      )!;
      expect(Number(storedSeq)).toBeLessThan(Number(resumedAt));
      await entries('assistant').filter({ hasText: 'r19 ' }).waitFor();
      await idle();
      const replies = await entries('assistant').allTextContents();
      expect(replies[replies.length - 1]).toBe(
        Array.from({ length: 20 }, (_, i) => `r${i} `).join(''),
      );
      expect(await entries('user').allTextContents()).toEqual([
        'Hello console',
        'long run',
        'q1',
        'reload me',
      ]);
      // The page is at the session's latest seq.
      const other = await ChatClient.connect(t.url, { token: t.token });
      const { seq } = await other.request<{ seq: number }>('resume', { session_id: 'console-a' });
      other.close();
      expect(Number(await page.textContent('#session-seq'))).toBe(seq);
    });

    it('rebuilds the session from the snapshot when its seq cannot be replayed', async () => {
      // As if the tab had kept a cursor from a session that was deleted and made again.
      await page.evaluate(
        `(() => {
          const key = 'hermes-console:session:console-a';
          const view = JSON.parse(localStorage.getItem(key));
          view.seq = 1000000;
          view.entries = [];
          localStorage.setItem(key, JSON.stringify(view));
        })()`,
      );
      await page.reload();
      await page.locator('#resume-info', { hasText: 'could not be replayed' }).waitFor();
      expect(await entries('user').allTextContents()).toEqual([
        'Hello console',
        'long run',
        'q1',
        'reload me',
      ]);
      const replies = await entries('assistant').allTextContents();
      expect(replies[0]).toBe('c0 c1 c2 c3 c4 ');
      expect(replies[replies.length - 1]).toBe(
        Array.from({ length: 20 }, (_, i) => `r${i} `).join(''),
      );
      const resumedAt = Number(
        /Resumed at seq (\d+)/.exec((await page.textContent('#resume-info')) ?? '')?.[1],
      );
      expect(Number(await page.textContent('#session-seq'))).toBe(resumedAt);
    });
  });
});
