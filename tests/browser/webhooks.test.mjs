// The admins' webhooks page in a real browser: a refused subscription comes back with the
// problem beside its field, an admin subscribes a receiver started by this test, sees the
// signing secret once, sends a test ping and sees it listed as delivered; the receiver checks
// the signature with the documented recipe (HMAC-SHA256 of "{timestamp}.{body}"), written
// here independently of the server's code. At a laptop's width and a phone's, axe-core clean.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { start, signIn, audit, overflow, ARTIFACTS } from './harness.mjs';

let env;
let receiver;
const received = [];

before(async () => {
  env = await start();
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
});
after(async () => {
  await env?.stop();
  await new Promise((r) => receiver?.close(r));
});

/** The receiver's documented check. */
function signedWith(secret, { headers, body }) {
  const timestamp = headers['x-backline-timestamp'];
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
  const sent = String(headers['x-backline-signature'] ?? '');
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
  return fresh && sent.length === expected.length
    && timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
}

test('an admin subscribes, sees the secret once, sends a ping and sees it delivered', async () => {
  const page = await signIn(env, 'admin@northwind.example', { width: 1366, height: 900 });
  const problems = [];
  await page.goto(`${env.base}/webhooks`);
  assert.match(await page.title(), /Webhooks/);
  problems.push(...(await audit(page)));

  // No event ticked: refused, with what was typed and the problem in words.
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  await page.fill('#w-url', url);
  await page.click('#subscribe button[type=submit]');
  await page.waitForSelector('#subscribe .field-error');
  assert.equal(await page.inputValue('#w-url'), url);
  assert.match(await page.textContent('#subscribe .field-error'), /Choose at least one event/);
  problems.push(...(await audit(page)));

  await page.check('input[name=events][value="incident.declared"]');
  await page.check('input[name=events][value="partner.alert"]');
  await page.click('#subscribe button[type=submit]');
  await page.waitForSelector('#secret-value');
  const secret = await page.inputValue('#secret-value');
  assert.match(secret, /^whsec_/);
  assert.match(await page.textContent('#secret'), /Copy it now: it is not shown again/);
  problems.push(...(await audit(page)));
  await page.screenshot({ path: join(ARTIFACTS, 'webhooks-secret-1366.png'), fullPage: true });

  // The ping, from the subscription's own page.
  await page.goto(`${env.base}/webhooks`);
  await Promise.all([page.waitForURL(/\/webhooks\/\d+$/), page.locator('#webhooks a').first().click()]);
  assert.equal(await page.locator('#secret').count(), 0, 'the secret is not shown again');
  assert.ok(!(await page.content()).includes(secret));
  await Promise.all([page.waitForResponse((r) => r.url().endsWith('/ping')),
    page.click('text=Send a test ping')]);
  await page.waitForURL(/\/webhooks\/\d+$/);
  await page.waitForLoadState();
  const deadline = Date.now() + 15_000;
  while ((await page.locator('#deliveries tr[data-status=delivered]').count()) === 0) {
    assert.ok(Date.now() < deadline, 'the ping is listed as delivered');
    await new Promise((r) => setTimeout(r, 250));
    await page.reload();
  }
  const row = await page.locator('#deliveries tr[data-status=delivered]').first().textContent();
  assert.match(row, /ping/);
  assert.match(row, /204/);
  assert.equal(received.length, 1);
  assert.equal(received[0].headers['x-backline-event'], 'ping');
  assert.ok(signedWith(secret, received[0]), 'the documented check accepts the ping');
  assert.ok(!signedWith('whsec_other', received[0]));
  problems.push(...(await audit(page)));
  await page.screenshot({ path: join(ARTIFACTS, 'webhooks-deliveries-1366.png'), fullPage: true });
  assert.deepEqual(problems, [], `accessibility violations:\n${problems.join('\n')}`);
  await page.context().close();
});

test('the webhooks pages fit a phone and are not in other people\'s navigation', async () => {
  const page = await signIn(env, 'admin@northwind.example', { width: 390, height: 844 });
  const problems = [];
  await page.goto(`${env.base}/webhooks`);
  assert.equal(await overflow(page), 0, 'the list fits the window');
  problems.push(...(await audit(page)));
  await page.locator('#webhooks a').first().click();
  await page.waitForURL(/\/webhooks\/\d+$/);
  assert.equal(await overflow(page), 0, 'a subscription fits the window');
  problems.push(...(await audit(page)));
  await page.screenshot({ path: join(ARTIFACTS, 'webhooks-390.png'), fullPage: true });
  assert.deepEqual(problems, [], `accessibility violations:\n${problems.join('\n')}`);
  await page.context().close();

  const agent = await signIn(env, 'ana@northwind.example');
  assert.equal(await agent.locator('a[href="/webhooks"]').count(), 0);
  const reply = await agent.goto(`${env.base}/webhooks`);
  assert.equal(reply.status(), 403);
  await agent.context().close();
});
