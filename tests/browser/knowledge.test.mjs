// The knowledge base in a real browser: live suggestions while a customer types a new case,
// audience rules in them, deflection counting, and an agent linking a suggested answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, signIn, ARTIFACTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/** Types `text` into `selector` key by key and returns ms from the last key to new suggestions. */
async function typeAndTime(page, selector, text) {
  const before = await page.locator('#live-suggestions').getAttribute('data-updated');
  await page.locator(selector).pressSequentially(text, { delay: 15 });
  const typed = await page.evaluate(() => performance.now());
  await page.waitForFunction(
    (previous) => {
      const stamp = document.getElementById('live-suggestions').dataset.updated;
      return stamp !== undefined && stamp !== previous;
    },
    before ?? undefined,
    { timeout: 5000 },
  );
  const shown = Number(await page.locator('#live-suggestions').getAttribute('data-updated'));
  return shown - typed;
}

test('a customer typing a new case sees matching public articles live, and opening one counts', async () => {
  const page = await signIn(env, 'gavin@hooli.example');
  await page.goto(`${env.base}/cases/new`);
  assert.equal(await page.locator('#live-suggestions').isHidden(), true, 'nothing shown before typing');
  const latency = await typeAndTime(page, '#subject', 'Nightly backup fails disk quota exceeded');
  console.log(`# live suggestions appeared ${latency.toFixed(0)} ms after the last keystroke (pause 60 ms)`);
  assert.ok(latency < 1000, `suggestions within a second of the pause (${latency} ms)`);
  const titles = await page.locator('#live-suggestions li a').allTextContents();
  assert.ok(titles.some((t) => t.includes('BK-1042')), `the BK-1042 article is suggested: ${titles}`);
  await page.screenshot({ path: join(ARTIFACTS, 'live-suggestions.png') });

  // An internal article matching the words is never suggested to a customer.
  await page.fill('#subject', '');
  await typeAndTime(page, '#subject', 'Incremental backups as large as full backups SQL change block tracking');
  const internal = await page.locator('#live-suggestions li a').allTextContents();
  assert.ok(!internal.some((t) => t.includes('Incremental backups as large')), `internal article hidden: ${internal}`);

  // Opening a suggestion (in a new tab) is recorded against this form.
  await page.fill('#subject', '');
  await typeAndTime(page, '#subject', 'backup agent service error 1053 windows update');
  const [article] = await Promise.all([
    page.context().waitForEvent('page'),
    page.locator('#live-suggestions li a').first().click(),
  ]);
  await article.waitForLoadState('load');
  assert.match(await article.locator('h1').textContent(), /1053/);
  assert.match(await article.locator('.article').textContent(), /Resolution/);
  await page.context().close();

  // Staff see the form counted: it showed suggestions and one was opened, nothing filed.
  const agent = await signIn(env, 'ana@northwind.example');
  await agent.goto(`${env.base}/articles`);
  const opened = Number(await agent.locator('#deflection .opened').textContent());
  const shown = Number(await agent.locator('#deflection .shown').textContent());
  assert.ok(opened >= 1, `one opened suggestion counted (${opened})`);
  assert.ok(shown >= 1);
  assert.equal(Number(await agent.locator('#deflection .filed').textContent()), 0);
  await agent.context().close();
});

test('an agent links a suggested answer on the case page and searches the knowledge base', async () => {
  const page = await signIn(env, 'ana@northwind.example');
  await page.goto(`${env.base}/cases?view=active`);
  // Open active cases until one has a suggestion that is not linked yet.
  const links = await page.locator('table.cases tbody tr td.subject a').evaluateAll((as) => as.map((a) => a.href));
  let linked = false;
  for (const href of links.slice(0, 15)) {
    await page.goto(href);
    const button = page.locator('#knowledge li.suggestion form button').first();
    if (await button.count() === 0) continue;
    const title = (await page.locator('#knowledge li.suggestion:has(form) > a').first().textContent()).trim();
    await Promise.all([page.waitForURL(/#knowledge$/), button.click()]);
    assert.ok((await page.locator('#knowledge ul.links').textContent()).includes(title), `linked ${title}`);
    linked = true;
    break;
  }
  assert.ok(linked, 'some active case had a suggestion to link');
  await page.screenshot({ path: join(ARTIFACTS, 'case-knowledge.png'), fullPage: true });

  await page.goto(`${env.base}/search?q=${encodeURIComponent('quota type:article')}`);
  const results = await page.locator('ol.results li').count();
  assert.ok(results >= 1, 'articles found');
  await page.goto(`${env.base}/search?q=${encodeURIComponent('status:"open')}`);
  assert.match(await page.locator('.error').textContent(), /character/);
  await page.context().close();
});
