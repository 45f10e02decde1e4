import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TEST_ENCRYPTION_KEY } from './support/app';
import { createTestDatabase } from './support/database';
import { WebhookReceiver } from './support/receiver';
import { RelayProcess, spawnRelay, waitForOk } from './support/relay-process';
import { StandaloneSimulator, spawnSimulator } from './support/standalone-simulator';
import { waitFor } from './support/wait';

// what the functions run inside the page reach there (this file compiles without the DOM types)
declare const window: {
  axe: { run: () => Promise<{ violations: unknown[] }> };
  marker?: number;
};
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };
declare const sessionStorage: Record<string, string>;

// the committed screenshots change only when asked (CONSOLE_SCREENSHOTS=update),
// so a test run leaves the work tree as it found it
const SCREENSHOTS =
  process.env.CONSOLE_SCREENSHOTS === 'update'
    ? join(__dirname, 'console', 'screenshots')
    : join(tmpdir(), 'uxc-relay-console-screenshots');
const API_KEY = 'uxr_console_e2e_tenant_key_0123456789';
const ADMIN_TOKEN = 'console-e2e-admin-token-0123456789';
const CREDENTIAL = { ak: 'console-ak', sk: 'console-sk' };
/** Debian's chromium (CI installs it with apt); CHROMIUM_PATH overrides. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// generous for a loaded 2-core machine; every wait below ends on a positive signal
const UI_TIMEOUT = 30_000;

/**
 * The ops console in a real browser (Debian's chromium through
 * playwright-core) against the built relay as its own process, the UXC
 * simulator and a webhook receiver: what an operator does, page by page,
 * with an axe-core check and a screenshot of each page.
 */
// a browser, a relay process and a task run end to end: minutes on a busy machine
jest.setTimeout(180_000);

describe('ops console', () => {
  let sim: StandaloneSimulator;
  let receiver: WebhookReceiver;
  let relay: RelayProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** the receiver answers 500 on paths listed here */
  const failing = new Set<string>();

  const apiCall = async (method: string, path: string, body?: unknown, token = API_KEY) => {
    const answer = await fetch(`${relay.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.text();
    return {
      status: answer.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
  /** Whether this relay has a route of the contract that another change brings. */
  const hasRoute = async (method: string, path: string, body?: unknown) => {
    const { status, body: answer } = await apiCall(method, path, body);
    const unmatched = status === 404 && /^Cannot [A-Z]+ /.test(String(answer.message));
    return !unmatched && status !== 405;
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `no chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
      );
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    sim = await spawnSimulator();
    await sim.addCredential(CREDENTIAL);
    receiver = await WebhookReceiver.start({
      answer: (request) => ({ status: failing.has(request.path) ? 500 : 204 }),
    });
    relay = await spawnRelay({
      DATABASE_URL: await createTestDatabase(),
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      UXC_BASE_URL: sim.url,
      UXC_AK: CREDENTIAL.ak,
      UXC_SK: CREDENTIAL.sk,
      RELAY_API_KEY: API_KEY,
      ADMIN_TOKEN,
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      POLL_INTERVAL_MS: '300',
      POLL_MAX_INTERVAL_MS: '1000',
      WEBHOOK_RETRY_SCHEDULE: '300ms',
      WEBHOOK_ORDER_HOLD: '0',
      // the health page's chart has samples by the time the test opens it
      OPS_SAMPLE_MS: '500',
      LOG_LEVEL: 'warn',
    });
    await waitForOk(`${relay.url}/health/ready`, 90_000, relay);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // the axe script is injected inline, which the console's CSP rightly forbids
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    relay?.child.kill('SIGTERM');
    await relay?.exited;
    await receiver?.close();
    await sim?.close();
  });

  /**
   * axe-core finds no serious or critical violation, the page fits 375 px
   * without sideways scrolling, and a screenshot is written.
   */
  async function checkPage(name: string): Promise<void> {
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run();
      return (result.violations as { id: string; impact: string; nodes: { target: unknown }[] }[])
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target) }));
    });
    expect({ page: name, violations }).toEqual({ page: name, violations: [] });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect({ page: name, overflowAt375: overflow }).toEqual({ page: name, overflowAt375: 0 });
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  async function signIn(role: 'tenant' | 'admin', token: string): Promise<void> {
    await page.goto(`${relay.url}/console/`);
    await page.getByRole('radio', { name: role === 'admin' ? /the admin/ : /a tenant/ }).check();
    await page
      .getByLabel(role === 'admin' ? 'Admin token' : 'API key', { exact: true })
      .fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('signs in with a tenant API key, kept out of the URL', async () => {
    await page.goto(`${relay.url}/console/`);
    await checkPage('sign-in');
    await signIn('tenant', 'uxr_wrong');
    await seeText(page.getByRole('alert'), 'invalid API key');
    await signIn('tenant', API_KEY);
    await page.getByRole('heading', { name: 'Tasks', exact: true }).waitFor();
    expect(page.url()).not.toContain(API_KEY);
    expect(await page.evaluate(() => JSON.stringify(sessionStorage))).toContain(API_KEY);
  });

  it('registers an endpoint, or says the server has no endpoints yet', async () => {
    await page.getByRole('link', { name: 'Endpoints' }).click();
    await page.getByRole('heading', { name: 'Endpoints and subscriptions' }).waitFor();
    if (await hasRoute('GET', '/v1/endpoints')) {
      await page.getByLabel('URL').fill(receiver.url('/endpoint'));
      await page.getByLabel('Description').first().fill('console e2e');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.getByRole('listitem', { name: /Endpoint console e2e/ }).waitFor();
      await page.getByRole('button', { name: 'Show secret' }).first().click();
      await seeText(page.locator('.secret').first(), 'whsec_');
    } else {
      await page.getByText('Endpoints is not available on this server').waitFor();
    }
    await checkPage('endpoints');
  });

  it('tracks a sid and watches its timeline advance live to succeeded, chart and outputs included', async () => {
    const sid = 'BT|console-live';
    await fetch(`${sim.url}/simulator/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        sid,
        lifecycle: {
          queuedMs: 4000,
          queueLength: 3,
          queueTotal: 6,
          runningMs: 5000,
          progressSteps: 4,
          outputCount: 2,
        },
      }),
    });
    await page.getByRole('link', { name: 'Tasks' }).click();
    if (await hasRoute('POST', '/v1/tasks', { sid: 'BT|probe-only' })) {
      await page.getByRole('textbox', { name: /Track a sid/ }).fill(sid);
      await page.getByRole('button', { name: 'Track' }).click();
    } else {
      // no sid-only tracking on this server: a subscription tracks it instead
      const created = await apiCall('POST', '/v1/subscriptions', {
        sid,
        callbackUrl: receiver.url('/live'),
      });
      expect(created.status).toBe(201);
      await page.getByRole('textbox', { name: 'Find a task by sid' }).fill(sid);
      await page.getByRole('button', { name: 'Open' }).click();
    }
    await page.getByRole('heading', { name: /Task BT\|console-live/ }).waitFor();
    // a marker a reload would wipe: the updates below must arrive without one
    await page.evaluate(() => (window.marker = 1));
    if (await hasRoute('POST', '/v1/stream-tokens', { sid })) {
      await page.getByText('Live: following the event stream.').waitFor();
    } else {
      await page.getByText('Live: streams are not available on this server').waitFor();
    }
    const rows = page.getByTestId('timeline').locator('tbody tr');
    await waitFor(
      'a first event in the timeline',
      async () => (await rows.count()) > 0,
      UI_TIMEOUT,
    );
    const seenEarly = await rows.count();
    expect(await page.getByTestId('task-state').textContent()).not.toContain('succeeded');

    await seeText(page.getByTestId('task-state'), 'succeeded', { timeout: 60_000 });
    await page.getByRole('heading', { name: 'Output' }).waitFor();
    expect(await rows.count()).toBeGreaterThan(seenEarly);
    const lastRow = rows.last();
    await seeText(lastRow, 'task.succeeded');
    expect(await page.evaluate(() => window.marker)).toBe(1);
    await page.getByRole('img', { name: /Queue position and progress over time/ }).waitFor();
    await checkPage('task');
    await page.getByRole('link', { name: '← All tasks' }).click();
    await page.getByRole('link', { name: sid }).waitFor();
    await checkPage('tasks');
  });

  it('opens a failed delivery, shows its attempts and redelivers it', async () => {
    const sid = 'BT|console-failing';
    failing.add('/failing');
    await fetch(`${sim.url}/simulator/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sid, lifecycle: { queuedMs: 300, runningMs: 300, progressSteps: 1 } }),
    });
    const created = await apiCall('POST', '/v1/subscriptions', {
      sid,
      callbackUrl: receiver.url('/failing'),
      events: ['task.succeeded'],
    });
    expect(created.status).toBe(201);
    const subscriptionId = String(created.body.id);
    const failed = await waitFor(
      'the delivery to fail after its retries',
      async () => {
        const list = await apiCall('GET', `/v1/subscriptions/${subscriptionId}/deliveries`);
        const items = list.body.items as { id: string; state: string }[];
        return items.find((d) => d.state === 'failed');
      },
      60_000,
    );

    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByLabel('State').selectOption('failed');
    await page.getByRole('link', { name: failed.id }).click();
    await page.getByRole('heading', { name: `Delivery ${failed.id}` }).waitFor();
    await seeText(page.getByTestId('delivery-state'), 'failed');
    await seeText(page.locator('.attempt').first(), '500');
    await checkPage('delivery');

    failing.delete('/failing');
    const before = receiver.on('/failing').length;
    await page.getByRole('button', { name: 'Redeliver', exact: true }).click();
    await page.getByText('Queued: one more attempt with the same webhook-id.').waitFor();
    await waitFor(
      'the redelivery to arrive',
      () => receiver.on('/failing').length > before,
      30_000,
    );
    const resent = receiver.on('/failing').at(-1)!;
    expect(resent.webhookId).toBe(failed.id);
    expect(resent.status).toBe(204);
    await waitFor(
      'the console to show the delivery succeeded',
      async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return /succeeded/.test((await page.getByTestId('delivery-state').textContent()) ?? '');
      },
      UI_TIMEOUT,
    );
    const beforeNew = receiver.on('/failing').length;
    await page.getByRole('button', { name: 'Redeliver as new' }).click();
    await page.getByText('Queued as a new message').waitFor();
    await waitFor(
      'the new message to arrive',
      () => receiver.on('/failing').length > beforeNew,
      30_000,
    );
    expect(receiver.on('/failing').at(-1)!.webhookId).not.toBe(failed.id);
    await page.getByRole('link', { name: '← All deliveries' }).click();
    await page.getByLabel('State').selectOption('');
    await page.getByRole('link', { name: failed.id }).waitFor();
    await checkPage('deliveries');
  });

  it('recovers an endpoint after an outage, or says the server cannot', async () => {
    await page.getByRole('link', { name: 'Endpoints' }).click();
    await page.getByRole('heading', { name: 'Endpoints and subscriptions' }).waitFor();
    if (!(await hasRoute('GET', '/v1/endpoints'))) {
      await page.getByText('Endpoints is not available on this server').waitFor();
      return;
    }
    const path = '/outage';
    failing.add(path);
    const endpoint = await apiCall('POST', '/v1/endpoints', {
      url: receiver.url(path),
      description: 'outage',
      events: ['task.succeeded'],
    });
    expect(endpoint.status).toBe(201);
    const sid = 'BT|console-outage';
    await fetch(`${sim.url}/simulator/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sid, lifecycle: { queuedMs: 300, runningMs: 300, progressSteps: 1 } }),
    });
    expect([200, 201]).toContain((await apiCall('POST', '/v1/tasks', { sid })).status);
    await waitFor(
      'the outage to fail a delivery',
      async () => {
        const list = await apiCall('GET', '/v1/deliveries?state=failed&eventType=task.succeeded');
        const refused = receiver.on(path).filter((r) => r.status === 500);
        return refused.length > 0 && (list.body.items as unknown[]).length > 0;
      },
      60_000,
    );
    failing.delete(path);
    await page.reload();
    const item = page.getByRole('listitem', { name: 'Endpoint outage' });
    await item.getByRole('button', { name: 'Recover since…' }).click();
    await item.getByText('Recovery started.').waitFor();
    await waitFor(
      'the recovered delivery to arrive',
      () => receiver.on(path).some((r) => r.status === 204),
      60_000,
    );
  });

  it('disables an endpoint from its card and re-enables it', async () => {
    await page.getByRole('link', { name: 'Endpoints' }).click();
    await page.getByRole('heading', { name: 'Endpoints and subscriptions' }).waitFor();
    const item = page.getByRole('listitem', { name: /Endpoint console e2e/ });
    const endpointState = async () => {
      const list = await apiCall('GET', '/v1/endpoints');
      const found = (list.body.items as { description?: string; state: string }[]).find(
        (e) => e.description === 'console e2e',
      );
      return found?.state;
    };
    expect(await endpointState()).toBe('active');

    await item.getByRole('button', { name: 'Disable' }).click();
    await item.getByText('Disabled: its deliveries are held').waitFor();
    await seeText(item.locator('.badge'), 'disabled');
    expect(await endpointState()).toBe('disabled');

    await item.getByRole('button', { name: 'Re-enable' }).click();
    await item.getByText('Re-enabled: its held deliveries go out in order.').waitFor();
    await seeText(item.locator('.badge'), 'active');
    expect(await endpointState()).toBe('active');
    await item.getByRole('button', { name: 'Disable' }).waitFor();
  });

  it('shows health at a glance', async () => {
    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByText('Pending deliveries', { exact: true }).waitFor();
    await seeText(page.locator('.tiles'), 'Held deliveries');
    // the relay has polled the simulator with the tenant's credential: its row names the ak
    const rates = page.getByRole('table', { name: 'UXC calls and errors per credential' });
    await seeText(rates, CREDENTIAL.ak);
    // the last hour comes from the relay's own samples, with a text alternative beside it
    await page.getByRole('img', { name: /^Pending deliveries over the last hour/ }).waitFor();
    await page.getByRole('img', { name: /^UXC error rate over the last hour/ }).waitFor();
    await page.getByText(/^Sampled every 0\.5 s/).waitFor();
    const asTable = page.getByText(/^The last hour as a table \(\d+ samples\)/);
    await asTable.click();
    await page
      .getByRole('table', { name: 'Health samples of the last hour, newest first' })
      .waitFor();
    // closed again: a sample every 0.5 s would make the screenshot a long table
    await asTable.click();
    await checkPage('health');
  });

  it('lets the admin create a tenant, issue a key shown once and delete it', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn('admin', ADMIN_TOKEN);
    await page.getByRole('heading', { name: 'Admin: tenants and keys' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('console-tenant');
    await page.getByLabel('UXC AK').fill('ak-console');
    await page.getByLabel('UXC SK').fill('sk-console');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    const shown = page.locator('.shown-once').first();
    await seeText(shown, 'API key of console-tenant');
    const firstKey = (await shown.locator('.secret').textContent()) ?? '';
    expect(firstKey).toMatch(/^uxr_/);
    expect((await apiCall('GET', '/v1/tasks', undefined, firstKey)).status).toBe(200);

    const tenant = page.getByRole('listitem', { name: 'Tenant console-tenant' });
    await tenant.getByRole('button', { name: 'Issue key for console-tenant' }).click();
    await seeText(tenant.locator('.shown-once'), 'New API key');
    const keys = tenant.getByRole('table', { name: 'API keys of console-tenant' });
    await seeCount(keys.locator('tbody tr'), 2);
    await checkPage('admin');

    const prefix = firstKey.slice(0, 'uxr_'.length + 6);
    const row = keys.locator('tbody tr', { hasText: prefix });
    await row.getByRole('button', { name: /Delete key/ }).click();
    await seeCount(keys.locator('tbody tr'), 1);
    await waitFor(
      'the deleted key to stop working',
      async () => (await apiCall('GET', '/v1/tasks', undefined, firstKey)).status === 401,
      30_000,
    );
  });
});

type Locator = ReturnType<Page['locator']>;

/** Waits until the first match shows `text`. */
async function seeText(
  locator: Locator,
  text: string | RegExp,
  options: { timeout?: number } = {},
): Promise<void> {
  let last = '';
  await waitFor(
    `text ${String(text)}`,
    async () => {
      last =
        (await locator
          .first()
          .textContent()
          .catch(() => '')) ?? '';
      return typeof text === 'string' ? last.includes(text) : text.test(last);
    },
    options.timeout ?? UI_TIMEOUT,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
  });
}

/** Waits until exactly `count` elements match. */
async function seeCount(locator: Locator, count: number): Promise<void> {
  await waitFor(
    `${count} matching elements`,
    async () => (await locator.count()) === count,
    UI_TIMEOUT,
  );
}
