// Staffing and customer success in a real browser over the demo: every page passes the
// accessibility check (axe-core, no serious or critical violation) and works at phone width
// without sideways scrolling (screenshots kept); the staffing form keeps a refused input; a
// playbook run from an account page lands in My tasks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, signIn, audit, overflow, ARTIFACTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

const PAGES = ['/staffing', '/staffing?deflection_percent=20&aht_seconds=900', '/success',
  '/success/tasks', '/success/accounts/globex', '/success/playbooks/1', '/success/playbooks/new',
  '/success/playbooks/1/edit'];

test('staffing and success pages pass the accessibility check', async () => {
  const problems = [];
  const admin = await signIn(env, 'admin@northwind.example');
  for (const path of PAGES) {
    const reply = await admin.goto(`${env.base}${path}`);
    assert.ok(reply.status() < 400, `${path} answered ${reply.status()}`);
    problems.push(...(await audit(admin)));
  }
  assert.deepEqual(problems, [], `accessibility violations:\n${problems.join('\n')}`);
});

for (const [width, height] of [[390, 844], [1366, 900]]) {
  test(`staffing and success pages fit ${width} px`, async () => {
    const page = await signIn(env, 'ana@northwind.example', { width, height });
    for (const path of PAGES) {
      await page.goto(`${env.base}${path}`);
      assert.ok((await overflow(page)) <= 0, `${path} scrolls sideways at ${width} px`);
    }
    await page.goto(`${env.base}/staffing`);
    assert.ok(await page.locator('svg.chart').first().isVisible(), 'the chart shows');
    await page.screenshot({ path: join(ARTIFACTS, `staffing-${width}.png`), fullPage: true });
    await page.goto(`${env.base}/success`);
    await page.screenshot({ path: join(ARTIFACTS, `success-${width}.png`), fullPage: true });
  });
}

test('a refused plan input stays as typed, and a run by hand lands in My tasks', async () => {
  const page = await signIn(env, 'ana@northwind.example');
  await page.goto(`${env.base}/staffing`);
  await page.fill('#s-shrink', 'plenty');
  await page.click('form[action="/staffing"] button[type=submit]');
  assert.equal(await page.inputValue('#s-shrink'), 'plenty');
  assert.match(await page.locator('.field-error').first().innerText(), /Write a number/);

  await page.goto(`${env.base}/success/accounts/globex`);
  await page.selectOption('#r-playbook', { label: 'Quarterly business review' });
  await Promise.all([page.waitForURL(/\/success\/tasks/), page.click('form[action$="/runs"] button')]);
  assert.ok(await page.getByText('Book the review').first().isVisible());
  await page.screenshot({ path: join(ARTIFACTS, 'my-tasks.png'), fullPage: true });
});
