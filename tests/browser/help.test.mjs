// The public help centre in a real browser, without signing in: suggestions while typing in
// the search box, an article from them, "Was this helpful?", a partner's branded centre; at a
// phone's width and a laptop's, with axe-core finding no serious problems.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, signIn, audit, overflow, ARTIFACTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

for (const [width, height] of [[390, 844], [1366, 900]]) {
  test(`an anonymous reader searches, opens an article and answers at ${width} px`, async () => {
    const context = await env.browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    const problems = [];
    await page.goto(`${env.base}/help`);
    assert.match(await page.title(), /Help centre/);
    assert.ok(await page.locator('.help-grid li').count() >= 1, 'categories are listed');
    assert.equal(await overflow(page), 0, 'the front page fits the window');
    problems.push(...(await audit(page)));
    await page.screenshot({ path: join(ARTIFACTS, `help-front-${width}.png`), fullPage: true });

    // Suggestions appear as one types, with an unfinished word.
    await page.locator('#help-q').pressSequentially('quota exce', { delay: 20 });
    await page.waitForSelector('#help-suggestions:not([hidden]) a', { timeout: 5000 });
    const suggested = await page.locator('#help-suggestions a').allTextContents();
    assert.ok(suggested.some((t) => t.includes('disk quota exceeded')), suggested.join(' | '));
    problems.push(...(await audit(page)));
    await Promise.all([page.waitForURL(/\/help\/articles\/\d+-/),
      page.locator('#help-suggestions a').first().click()]);
    assert.equal(await overflow(page), 0, 'the article fits the window');
    assert.ok(await page.locator('meta[name=description]').count() === 1);
    problems.push(...(await audit(page)));
    await page.screenshot({ path: join(ARTIFACTS, `help-article-${width}.png`), fullPage: true });

    // Search with a typo, on the results page.
    await page.fill('#help-q', 'quota exceded');
    await Promise.all([page.waitForURL(/\/help\/search/), page.locator('#help-q').press('Enter')]);
    assert.ok(await page.locator('ul.help-articles li').count() >= 1, 'the typo still finds it');
    problems.push(...(await audit(page)));

    // "Was this helpful?"
    await page.locator('ul.help-articles a').first().click();
    await page.waitForURL(/\/help\/articles\//);
    await page.fill('#vote-comment', 'Clear steps, thank you');
    await Promise.all([page.waitForURL(/voted=1/), page.locator('button[value=yes]').click()]);
    assert.ok(await page.locator('#helpful [role=status]').isVisible());
    assert.match(await page.locator('#helpful-count').textContent(), /found this helpful/);
    assert.deepEqual(problems, [], `accessibility violations:\n${problems.join('\n')}`);
    await context.close();
  });
}

test('a partner branded centre and a customer sent to the help centre', async () => {
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${env.base}/help/p/acme-resellers`);
  assert.match(await page.title(), /Acme Resellers Help/);
  const background = await page.locator('header.help-top').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(background, 'rgb(31, 58, 95)');
  assert.deepEqual(await audit(page), []);
  await page.screenshot({ path: join(ARTIFACTS, 'help-partner-390.png'), fullPage: true });
  await context.close();

  const customer = await signIn(env, 'peter@initech.example');
  await customer.goto(`${env.base}/articles`);
  await customer.waitForURL(/\/help/);
  assert.ok(await customer.locator('#help-q').isVisible());
});
