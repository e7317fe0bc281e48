// The community in a real browser: an anonymous reader searches the community on a phone; a
// customer on a phone asks a question (likely answers appear as the title is typed), an agent
// on a laptop answers it, and the customer accepts the answer; the agent opens the moderation
// queue, which customers are not offered; a partner technician reads the partner space;
// axe-core finds no serious problems.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, signIn, audit, overflow, ARTIFACTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

test('a customer asks at 390 px and an agent answers at 1366 px', async () => {
  const problems = [];
  // Anyone reads the public space, linked from the help centre.
  const anonymous = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
  const reader = await anonymous.newPage();
  await reader.goto(`${env.base}/help`);
  await Promise.all([reader.waitForURL(/\/community$/), reader.locator('a[href="/community"]').first().click()]);
  await Promise.all([reader.waitForURL(/\/community\/s\/questions/), reader.locator('a[href="/community/s/questions"]').click()]);
  assert.ok(await reader.locator('ol.results li').count() >= 3, 'the demo questions are listed');
  problems.push(...(await audit(reader)));
  // The community's search, without signing in: answered questions of the public space.
  await reader.goto(`${env.base}/community`);
  await reader.fill('#community-q', 'restore to a different server');
  await Promise.all([reader.waitForURL(/\/community\/search\?q=/), reader.locator('form[role=search] button[type=submit]').click()]);
  const found = await reader.locator('li[data-type=question] a').allTextContents();
  assert.ok(found.some((t) => t.includes('different server')), found.join(' | '));
  assert.equal(await overflow(reader), 0, 'the search fits a phone');
  problems.push(...(await audit(reader)));
  await reader.screenshot({ path: join(ARTIFACTS, 'community-search-390.png'), fullPage: true });
  await anonymous.close();

  const customer = await signIn(env, 'gavin@hooli.example', { width: 390, height: 844 });
  await customer.goto(`${env.base}/community/s/questions/ask`);
  assert.equal(await overflow(customer), 0, 'the ask form fits a phone');
  await customer.locator('#ask-title').pressSequentially('Restore to a different server', { delay: 15 });
  await customer.waitForSelector('#likely:not([hidden]) a', { timeout: 8000 });
  const likely = await customer.locator('#likely-list a').allTextContents();
  assert.ok(likely.some((t) => t.includes('different server')), likely.join(' | '));
  problems.push(...(await audit(customer)));
  await customer.screenshot({ path: join(ARTIFACTS, 'community-ask-390.png'), fullPage: true });
  await customer.fill('#ask-title', 'Can a restore skip files that already exist?');
  await customer.fill('#ask-body', 'We restore into a folder that already holds most of the files.');
  await Promise.all([customer.waitForURL(/\/community\/questions\/\d+/), customer.locator('#ask-form button[type=submit]').click()]);
  const questionUrl = customer.url().replace(/#.*$/, '');
  assert.match(await customer.locator('h1').textContent(), /skip files that already exist/);
  assert.equal(await overflow(customer), 0, 'the question fits a phone');
  problems.push(...(await audit(customer)));

  const agent = await signIn(env, 'ana@northwind.example', { width: 1366, height: 900 });
  await agent.goto(questionUrl);
  await agent.fill('#answer-body', 'Yes: choose "Skip existing files" on the restore options page.');
  await Promise.all([agent.waitForURL(/#post-\d+/), agent.locator('section.card button[type=submit]', { hasText: 'Post the answer' }).click()]);
  assert.ok(await agent.locator('article.answer [data-badge=staff]').first().isVisible(), 'staff are marked');
  problems.push(...(await audit(agent)));
  await agent.screenshot({ path: join(ARTIFACTS, 'community-answer-1366.png'), fullPage: true });

  await customer.goto(questionUrl);
  await Promise.all([customer.waitForURL(/#post-\d+/), customer.locator('button', { hasText: 'Accept this answer' }).click()]);
  assert.ok(await customer.locator('.community-accepted').isVisible(), 'the answer is accepted');
  problems.push(...(await audit(customer)));
  await customer.screenshot({ path: join(ARTIFACTS, 'community-question-390.png'), fullPage: true });

  // Staff tools: the moderation queue is linked for the agent, not for the customer.
  await customer.goto(`${env.base}/community`);
  assert.equal(await customer.locator('a[href="/community/moderation"]').count(), 0, 'no staff link for customers');
  const forbidden = await customer.goto(`${env.base}/community/moderation`);
  assert.equal(forbidden.status(), 403);
  await agent.goto(`${env.base}/community`);
  await Promise.all([agent.waitForURL(/\/community\/moderation$/), agent.locator('#moderation-link').click()]);
  assert.match(await agent.locator('h1').textContent(), /Moderation queue/);
  problems.push(...(await audit(agent)));
  await agent.setViewportSize({ width: 390, height: 844 });
  assert.equal(await overflow(agent), 0, 'the queue fits a phone');
  await agent.screenshot({ path: join(ARTIFACTS, 'community-moderation-390.png'), fullPage: true });
  assert.deepEqual(problems, [], `accessibility violations:\n${problems.join('\n')}`);
});

test('the partner space is for partner technicians', async () => {
  const tech = await signIn(env, 'rita@acme-resellers.example', { width: 390, height: 844 });
  await tech.goto(`${env.base}/community/s/partner-lounge`);
  assert.ok(await tech.locator('ol.results li').count() >= 1);
  assert.deepEqual(await audit(tech), []);
  const customer = await signIn(env, 'peter@initech.example');
  const response = await customer.goto(`${env.base}/community/s/partner-lounge`);
  assert.equal(response.status(), 404);
});
