// The agent workspace in a real browser: every page the people of the demo open passes an
// automated accessibility check (axe-core, no serious or critical violation); the case list,
// case page and new-case form work at phone and desktop widths (screenshots kept); keyboard
// shortcuts; a macro applied and sent; two agents on one case see each other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, signIn, audit, overflow, ARTIFACTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/** The path of the first case in a list page. */
async function firstCase(page, list) {
  await page.goto(`${env.base}${list}`);
  return page.locator('table.cases tbody tr td.subject a').first().getAttribute('href');
}

test('every page people open passes the accessibility check', async () => {
  const problems = [];
  const visit = async (page, path) => {
    const reply = await page.goto(`${env.base}${path}`);
    assert.ok(reply.status() < 400, `${path} answered ${reply.status()}`);
    problems.push(...(await audit(page)));
  };

  const agent = await signIn(env, 'ana@northwind.example');
  const agentCase = await firstCase(agent, '/cases?view=active');
  for (const path of ['/cases', '/cases?view=active', agentCase, '/cases/new', '/articles',
    '/search?q=backup', '/partners', '/routing', '/sla', '/macros', '/satisfaction',
    '/incidents', '/mail', '/status']) {
    await visit(agent, path);
  }
  // The shortcut overlay, open.
  await agent.goto(`${env.base}/cases`);
  await agent.keyboard.press('?');
  await agent.waitForSelector('dialog#shortcuts[open]');
  problems.push(...(await audit(agent)));

  const admin = await signIn(env, 'admin@northwind.example');
  for (const path of ['/team', '/incidents/templates', '/queues']) {
    await visit(admin, path);
  }

  const customer = await signIn(env, 'peter@initech.example');
  const customerCase = await firstCase(customer, '/cases?view=all');
  for (const path of ['/cases', customerCase, '/cases/new', '/articles', '/status', '/report']) {
    await visit(customer, path);
  }
  const partner = await signIn(env, 'rita@acme-resellers.example');
  const partnerCase = await firstCase(partner, '/cases?view=all');
  for (const path of ['/cases', partnerCase, '/cases/new', '/training']) {
    await visit(partner, path);
  }
  const anonymous = await (await env.browser.newContext()).newPage();
  for (const path of ['/login', '/status']) {
    await visit(anonymous, path);
  }
  assert.deepEqual(problems, [], `accessibility violations:\n${problems.join('\n')}`);
});

for (const [width, height] of [[390, 844], [1366, 900]]) {
  test(`the case list, case page and new-case form work at ${width} px`, async () => {
    const page = await signIn(env, 'ana@northwind.example', { width, height });
    await page.goto(`${env.base}/cases?view=active`);
    assert.ok(await page.locator('table.cases tbody tr').count() > 5);
    assert.equal(await overflow(page), 0, 'the case list fits the window');
    await page.screenshot({ path: join(ARTIFACTS, `workspace-list-${width}.png`), fullPage: true });

    await Promise.all([page.waitForURL(/\/cases\/\d+$/),
      page.locator('table.cases tbody tr td.subject a').first().click()]);
    assert.equal(await overflow(page), 0, 'the case page fits the window');
    await page.locator('#body').scrollIntoViewIfNeeded();
    assert.ok(await page.locator('#body').isVisible(), 'the reply box is reachable');
    await page.screenshot({ path: join(ARTIFACTS, `workspace-case-${width}.png`), fullPage: true });
    if (width < 600) {
      // One column: the side panel comes below the conversation, not beside it.
      const conversation = await page.locator('#reply').boundingBox();
      const side = await page.locator('aside').boundingBox();
      assert.ok(side.y > conversation.y, 'the side panel is under the reply box');
    }

    await page.goto(`${env.base}/cases/new`);
    assert.equal(await overflow(page), 0, 'the new-case form fits the window');
    await page.screenshot({ path: join(ARTIFACTS, `workspace-new-case-${width}.png`), fullPage: true });
    await page.context().close();
  });
}

test('keyboard shortcuts move through lists, open the help and send a reply', async () => {
  const page = await signIn(env, 'chen@northwind.example');
  await page.goto(`${env.base}/cases?view=active`);
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  const current = page.locator('table.cases tbody tr.current');
  assert.equal(await current.count(), 1);
  assert.equal(await page.locator('table.cases tbody tr').first().getAttribute('class'), 'current');
  await page.keyboard.press('x');
  assert.ok(await current.locator('input[type=checkbox]').isChecked(), 'x selects the row');
  await page.keyboard.press('?');
  await page.waitForSelector('dialog#shortcuts[open]');
  assert.match(await page.locator('dialog#shortcuts').textContent(), /Send the reply/);
  await page.keyboard.press('Escape');
  await page.waitForSelector('dialog#shortcuts:not([open])', { state: 'attached' });

  await Promise.all([page.waitForURL(/\/cases\/\d+$/), page.keyboard.press('o')]);
  await page.keyboard.press('r');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'body');
  await page.keyboard.type('Sent with the keyboard.');
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.keyboard.press('Control+Enter')]);
  assert.match(await page.locator('.comment').last().textContent(), /Sent with the keyboard\./);
  await page.context().close();
});

test('a macro fills the reply, and sending makes its changes', async () => {
  const page = await signIn(env, 'ana@northwind.example');
  const path = await firstCase(page, '/cases?view=active');
  await page.goto(`${env.base}${path}`);
  await page.selectOption('#macro', { label: 'Ask for the job log' });
  await Promise.all([page.waitForLoadState('load'), page.click('#reply button[value=macro]')]);
  const text = await page.inputValue('#body');
  assert.match(text, /^Hello \S+,/);
  assert.match(text, /Ana Silva$/);
  assert.match(await page.textContent('#macro-note'), /status → pending/);
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('#reply button[value=send]')]);
  assert.match(await page.textContent('h1'), /pending/);
  assert.match(await page.textContent('.meta'), /needs-log/);
  await page.screenshot({ path: join(ARTIFACTS, 'macro-sent.png') });
  await page.context().close();
});

test('two agents on one case see each other, and who is replying', async () => {
  const ana = await signIn(env, 'ana@northwind.example');
  const path = await firstCase(ana, '/cases?view=active');
  await ana.goto(`${env.base}${path}`);
  const chen = await signIn(env, 'chen@northwind.example');
  await chen.goto(`${env.base}${path}`);
  // Chen's page reports at once, and Ana's next beat (every 10 s) brings Chen's name.
  await ana.waitForFunction(() => /Chen Wei is also viewing/.test(document.getElementById('presence').textContent), null, { timeout: 30_000 });
  await chen.waitForFunction(() => /Ana Silva is also viewing/.test(document.getElementById('presence').textContent), null, { timeout: 30_000 });
  await ana.fill('#body', 'Looking into it');
  await chen.waitForFunction(() => /Ana Silva is also replying/.test(document.getElementById('presence').textContent), null, { timeout: 30_000 });
  // Ana leaves: Chen stops seeing her.
  await ana.context().close();
  await chen.waitForFunction(() => document.getElementById('presence').textContent.trim() === '', null, { timeout: 30_000 });
  await chen.context().close();
});
