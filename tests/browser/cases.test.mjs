// Agents, partner technicians and customers using the case pages in a real browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, signIn, ARTIFACTS, PASSWORD } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

test('a wrong password is refused and keeps the person on the sign-in page', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.base}/login`);
  await page.fill('#email', 'ana@northwind.example');
  await page.fill('#password', 'not the password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error');
  assert.match(await page.textContent('.error'), /Wrong email or password/);
  assert.match(page.url(), /\/login/);
  await context.close();
});

test('an agent sees partner badges inline, opens a case and replies', async () => {
  const page = await signIn(env, 'ana@northwind.example');
  // Ana starts on her own unsolved cases; the team's list is one view away.
  assert.match(await page.locator('nav.views a.current').textContent(), /Assigned to me/);
  await page.goto(`${env.base}/cases?view=active`);
  const rows = page.locator('table.cases tbody tr');
  assert.ok(await rows.count() > 10, 'the active case list is populated');
  // Every row says inline whether a partner is involved: a partner badge or "direct".
  const rowCount = await rows.count();
  const partnerRows = page.locator('table.cases tbody tr:has(.partner-badge)');
  assert.ok(await partnerRows.count() > 0, 'some rows carry a partner badge');
  for (let i = 0; i < rowCount; i++) {
    const badges = await rows.nth(i).locator('td.partner .badge').count();
    assert.equal(badges, 1, `row ${i} has exactly one partner/direct badge`);
  }
  await page.screenshot({ path: join(ARTIFACTS, 'case-list.png') });

  const first = partnerRows.first();
  const partnerName = (await first.locator('.partner-badge').textContent()).trim();
  await Promise.all([page.waitForURL(/\/cases\/\d+$/), first.locator('td.subject a').click()]);
  assert.equal((await page.locator('h1 .partner-badge').textContent()).trim(), partnerName);

  const reply = `Agent reply ${Date.now()}`;
  await page.fill('#body', reply);
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('#reply button[value=send]')]);
  assert.equal(await page.locator('.comment:not(.internal) .body', { hasText: reply }).count(), 1);

  const note = `Internal note ${Date.now()}`;
  await page.fill('#body', note);
  await page.check('input[name=internal]');
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('#reply button[value=send]')]);
  assert.equal(await page.locator('.comment.internal .body', { hasText: note }).count(), 1);

  await page.selectOption('#tier', '2');
  await Promise.all([page.waitForLoadState('load'), page.click('#update button[type=submit]')]);
  assert.match(await page.locator('dl.meta').textContent(), /L2/);
  await page.screenshot({ path: join(ARTIFACTS, 'case-page-agent.png'), fullPage: true });
  await page.context().close();
});

test("a customer sees only its organisation's cases and never internal notes", async () => {
  const page = await signIn(env, 'gavin@hooli.example');
  await page.goto(`${env.base}/cases?view=all`);
  const orgs = await page.locator('table.cases tbody tr td.org').allTextContents();
  assert.ok(orgs.length > 0);
  assert.ok(orgs.every((o) => o.trim() === 'Hooli'), `only Hooli cases: ${[...new Set(orgs)]}`);
  // Hooli is served by Acme Resellers, and its cases say so.
  assert.ok((await page.locator('table.cases .partner-badge').allTextContents()).every((b) => b.includes('Acme Resellers')));
  // Staff-only columns are not shown.
  assert.equal(await page.locator('table.cases th', { hasText: 'Assignee' }).count(), 0);

  // Open each of a few cases: no internal note is ever rendered.
  const links = await page.locator('table.cases tbody tr td.subject a').evaluateAll((as) => as.slice(0, 8).map((a) => a.href));
  for (const href of links) {
    await page.goto(href);
    assert.equal(await page.locator('.comment.internal').count(), 0, `no internal note on ${href}`);
    assert.equal(await page.locator('input[name=internal]').count(), 0);
  }
  const reply = `Customer reply ${Date.now()}`;
  const openCase = page.locator('#reply');
  if (await openCase.count()) {
    await page.fill('#body', reply);
    await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('#reply button[value=send]')]);
    assert.equal(await page.locator('.comment .body', { hasText: reply }).count(), 1);
  }
  // A case of another organisation is answered as not found.
  const response = await page.goto(`${env.base}/cases/1`);
  const text = await page.textContent('main');
  if (response.status() !== 200) {
    assert.equal(response.status(), 404);
    assert.match(text, /not found/);
  } else {
    assert.match(text, /Hooli/);
  }
  await page.context().close();
});

test('a partner technician files a case for an end customer and it is flagged', async () => {
  const page = await signIn(env, 'rita@acme-resellers.example');
  await page.goto(`${env.base}/cases/new`);
  const options = await page.locator('#on_behalf_of option').allTextContents();
  assert.deepEqual(options.map((o) => o.split(' (')[0]).sort(), ['Acme Resellers', 'Hooli', 'Pied Piper']);
  await page.selectOption('#on_behalf_of', 'pied-piper');
  await page.fill('#subject', 'Compression ratio dropped after upgrade');
  await page.fill('#description', 'Since 7.2 the ratio on the main pool went from 3.1 to 1.4.');
  await page.selectOption('#priority', 'high');
  // Acme's agreement asks for its troubleshooting checklist and a vanilla reproduction.
  await page.fill('#step_0', 'pool statistics attached');
  await page.fill('#step_1', 'nothing in the knowledge base');
  await page.check('#reproduced_on_vanilla');
  await Promise.all([page.waitForURL(/\/cases\/\d+$/), page.click('#new-case button[type=submit]')]);
  assert.match(await page.textContent('h1'), /Compression ratio dropped/);
  assert.match(await page.locator('h1 .partner-badge').textContent(), /Acme Resellers/);
  assert.match(await page.locator('dl.meta').textContent(), /Pied Piper/);

  // An empty subject comes back with the field marked, and nothing is filed.
  await page.goto(`${env.base}/cases/new`);
  await page.fill('#subject', ' ');
  await page.locator('#subject').evaluate((el) => el.removeAttribute('required'));
  await page.click('#new-case button[type=submit]');
  await page.waitForSelector('.field-error');
  assert.match(await page.textContent('.field-error'), /Write a subject/);
  await page.context().close();
});

test('signing out ends the session', async () => {
  const page = await signIn(env, 'chen@northwind.example');
  await Promise.all([page.waitForURL(/\/login/), page.click('header form button')]);
  await page.goto(`${env.base}/cases`);
  assert.match(page.url(), /\/login/);
  await page.context().close();
  assert.ok(PASSWORD);
});

test('a customer drops a file on a reply, downloads it, and another customer gets 404', async () => {
  const page = await signIn(env, 'gina@globex.example');
  // A new case of her own, so the reply form is there.
  await page.goto(`${env.base}/cases/new`);
  await page.fill('#subject', 'Export fails with a log');
  await page.fill('#description', 'The export stops at 80 %.');
  await Promise.all([page.waitForURL(/\/cases\/\d+$/), page.click('#new-case button[type=submit]')]);
  const caseUrl = page.url();

  // Dropping a file on the box adds it to the form and shows its size before sending.
  const content = 'line 1: export started\nline 2: export failed at 80 %\n';
  await page.evaluate((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], 'export.log', { type: 'text/plain' }));
    const drop = document.getElementById('drop');
    drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    drop.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, content);
  await page.waitForSelector('#chosen li');
  assert.match(await page.textContent('#chosen'), /export\.log \(\d+ bytes\)/);
  await page.fill('#body', 'Here is the log.');
  await Promise.all([page.waitForURL(/#comment-\d+$/), page.click('#reply button[value=send]')]);
  const link = page.locator('.comment ul.files a', { hasText: 'export.log' });
  assert.equal(await link.count(), 1);
  await page.screenshot({ path: join(ARTIFACTS, 'case-page-attachment.png'), fullPage: true });

  // She downloads exactly what she sent, as a download.
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'export.log');
  const stream = await download.createReadStream();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(Buffer.concat(chunks).toString(), content);
  const href = await link.getAttribute('href');
  await page.context().close();

  // A customer of another organisation gets the same 404 as for a file that does not exist.
  const other = await signIn(env, 'gavin@hooli.example');
  const response = await other.goto(`${env.base}${href}`);
  assert.equal(response.status(), 404);
  const caseResponse = await other.goto(caseUrl);
  assert.equal(caseResponse.status(), 404);
  await other.context().close();
});
