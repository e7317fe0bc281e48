// Crisis management in a real browser: declaring an incident in the console, the clock to the
// next committed update, and the public status page following along.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, signIn, ARTIFACTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

async function serviceState(page, slug) {
  await page.goto(`${env.base}/status`);
  return page.locator(`[data-service=${slug}]`).getAttribute('data-state');
}

test('a customer reports an outage and the console shows the signal', async () => {
  const customer = await signIn(env, 'gavin@hooli.example');
  await customer.goto(`${env.base}/report`);
  await customer.selectOption('#service', 'sync-relay');
  await customer.fill('#report-title', 'Sync stopped for everyone in the office');
  await Promise.all([customer.waitForLoadState('load'), customer.click('#report button[type=submit]')]);
  assert.equal(await customer.locator('#reported').count(), 1);
  await customer.context().close();

  const agent = await signIn(env, 'ana@northwind.example');
  await agent.goto(`${env.base}/incidents`);
  assert.equal(await agent.locator('#signals .signal', { hasText: 'Sync stopped for everyone' }).count(), 1);
  await agent.context().close();
});

test('operations declare an incident in the console and the status page changes', async () => {
  const anon = await (await env.browser.newContext()).newPage();
  assert.equal(await serviceState(anon, 'backup-eu'), 'operational');
  assert.match(await anon.locator('#overall').textContent(), /All systems operational/);

  const page = await signIn(env, 'ana@northwind.example');
  await page.goto(`${env.base}/incidents`);
  assert.ok(await page.locator('#roster li').count() >= 3, 'the demo roster is listed');
  await page.fill('#title', 'Backups delayed in the EU');
  await page.check('input[name=services][value=backup-eu]');
  await page.selectOption('#impact', 'major');
  await page.fill('#nature', 'Nightly backups queue instead of running');
  await page.fill('#message', 'Operations are moving jobs to spare capacity.');
  await page.fill('#next_update', '30');
  await Promise.all([page.waitForURL(/\/incidents\/\d+$/), page.click('#declare button[type=submit]')]);
  assert.match(await page.locator('#incident-state').textContent(), /investigating/);
  // The clock counts down to the committed update.
  await page.waitForFunction(() => /^in (29|30) min/.test(document.querySelector('#update .clock')?.textContent ?? ''));
  assert.match(await page.locator('#notifications').textContent(), /written/);
  await page.screenshot({ path: join(ARTIFACTS, 'incident-console.png'), fullPage: true });

  assert.equal(await serviceState(anon, 'backup-eu'), 'partial_outage');
  assert.equal(await serviceState(anon, 'vault-cloud'), 'operational');
  assert.equal(await anon.locator('.incident', { hasText: 'Backups delayed in the EU' }).count(), 1);
  await anon.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });

  // An update without a next time is refused; resolving needs none.
  await page.selectOption('#state', 'resolved');
  await page.fill('#update-message', 'All queued backups have run.');
  await Promise.all([page.waitForLoadState('load'), page.click('#update button[type=submit]')]);
  assert.match(await page.locator('#incident-state').textContent(), /resolved/);
  assert.equal(await page.locator('#postmortem').count(), 1, 'the post-mortem editor opens');
  assert.equal(await serviceState(anon, 'backup-eu'), 'operational');
  await page.context().close();
  await anon.context().close();
});
