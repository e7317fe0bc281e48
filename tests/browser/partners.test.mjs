// The partner program in a real browser: the partner page with its scorecard, a technician
// passing a test and the partner turning certified, and the escalation checklist.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, signIn, ARTIFACTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

test('the relationship manager compares partners and reads a scorecard with alerts', async () => {
  const page = await signIn(env, 'ana@northwind.example');
  await page.goto(`${env.base}/partners`);
  const rows = page.locator('#comparison tbody tr');
  assert.equal(await rows.count(), 4, 'four demo partners ranked');
  await Promise.all([page.waitForURL(/\/partners\/acme-resellers$/), page.locator('#comparison a', { hasText: 'Acme Resellers' }).click()]);
  assert.match(await page.locator('#certified-badge').textContent(), /not certified/);
  assert.ok(Number(await page.locator('#scorecard .escalations').textContent()) > 0, 'escalations counted');
  assert.equal(await page.locator('#scorecard .metric svg').count(), 7, 'seven share charts, customer satisfaction among them');
  assert.match(await page.locator('#scorecard').textContent(), /Customer satisfaction \(\d+ ratings\)/);
  assert.equal(await page.locator('#alerts [data-alert=certified_below_minimum]').count(), 1);
  assert.match(await page.locator('#agreement').textContent(), /Searched the knowledge base/);
  await page.screenshot({ path: join(ARTIFACTS, 'partner-page.png'), fullPage: true });

  // Queues: the demo's tiered L2 and its vault swarm; a new one is added from the page.
  await page.goto(`${env.base}/queues`);
  assert.equal(await page.locator('[data-queue=l2] .badge').textContent(), 'tiered');
  assert.equal(await page.locator('[data-queue=vault-swarm] .badge').textContent(), 'swarm');
  await page.fill('#q-slug', 'night-shift');
  await page.fill('#q-name', 'Night shift');
  await page.selectOption('#q-model', 'swarm');
  await Promise.all([page.waitForURL(/\/queues$/), page.click('#new-queue button[type=submit]')]);
  assert.equal(await page.locator('[data-queue=night-shift]').count(), 1);

  // Tiered support: escalating a case asks for a reason and moves it up a tier.
  await page.goto(`${env.base}/cases?view=active`);
  await Promise.all([page.waitForURL(/\/cases\/\d+$/), page.locator('table.cases tbody tr td.subject a').first().click()]);
  const tierBefore = Number((await page.locator('dl.meta dd', { hasText: /^L\d$/ }).first().textContent()).slice(1));
  if (tierBefore < 3) {
    await page.fill('#reason', 'needs a look at the dedup index');
    await Promise.all([page.waitForLoadState('load'), page.click('#escalate button[type=submit]')]);
    const tierAfter = Number((await page.locator('dl.meta dd', { hasText: /^L\d$/ }).first().textContent()).slice(1));
    assert.equal(tierAfter, tierBefore + 1);
  }
  await page.context().close();
});

test('a technician passes a test, the partner turns certified, and escalations follow the checklist', async () => {
  const page = await signIn(env, 'rita@acme-resellers.example');
  await page.goto(`${env.base}/training`);
  await Promise.all([
    page.waitForURL(/\/training\/\d+$/),
    page.locator('.course', { hasText: 'Backup 7.2 essentials' }).locator('a.button').click(),
  ]);
  // A wrong answer first: 2 of 3 is 66 %, under the 67 % mark.
  await page.check('input[name=q0][value="0"]');
  await page.check('input[name=q1][value="1"]');
  await page.check('input[name=q2][value="0"]');
  await Promise.all([page.waitForLoadState('load'), page.click('#test button[type=submit]')]);
  assert.equal((await page.locator('#score').textContent()).trim(), '66%');
  assert.equal(await page.locator('#failed').count(), 1);
  await page.goBack();
  await page.goto(page.url());
  await page.check('input[name=q0][value="0"]');
  await page.check('input[name=q1][value="1"]');
  await page.check('input[name=q2][value="2"]');
  await Promise.all([page.waitForLoadState('load'), page.click('#test button[type=submit]')]);
  assert.equal((await page.locator('#score').textContent()).trim(), '100%');
  assert.equal(await page.locator('#passed').count(), 1);

  await page.goto(`${env.base}/partners/acme-resellers`);
  assert.match(await page.locator('#certified-badge').textContent(), /certified partner/);
  assert.match(await page.locator('[data-technician="rita@acme-resellers.example"]').textContent(), /Backup 7.2 essentials/);

  // Escalating without the checklist is refused, naming the steps; with it, the case is filed
  // and carries the certified flag.
  await page.goto(`${env.base}/cases/new`);
  await page.fill('#subject', 'Restore of a mailbox never finishes');
  await Promise.all([page.waitForLoadState('load'), page.click('#new-case button[type=submit]')]);
  assert.match(await page.locator('#escalation-checklist .field-error').textContent(), /Searched the knowledge base/);
  await page.fill('#step_0', 'agent.log attached');
  await page.fill('#step_1', 'no article matches');
  await page.check('#reproduced_on_vanilla');
  await Promise.all([page.waitForURL(/\/cases\/\d+$/), page.click('#new-case button[type=submit]')]);
  assert.match(await page.locator('h1 .partner-badge').textContent(), /certified/);
  await page.screenshot({ path: join(ARTIFACTS, 'certified-case.png') });
  await page.context().close();

  // The public directory now lists Acme.
  const anon = await env.browser.newContext();
  const directory = await anon.newPage();
  await directory.goto(`${env.base}/directory`);
  assert.equal(await directory.locator('#directory [data-partner=acme-resellers]').count(), 1);
  await anon.close();
});
