// CSRF: a POST to /feedback without a valid token is refused with the Russian 403 page
// «Страница устарела», and nothing is sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import {
  fillFeedback,
  readOutbox,
  sleep,
  smsTo,
  submitFeedback,
  validFeedback,
  waitForOutbox,
} from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

let server;
let browser;
let context;
let page;
const data = validFeedback(77);
const form = { name: data.name, contact: data.contact, message: data.message };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext();
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function assertStalePage(response, label) {
  assert.equal(response.status(), 403, `${label}: status`);
  assert.match(response.headers()['content-type'] || '', /^text\/html/, `${label}: content-type`);
  const html = await response.text();
  assert.match(html, /<html[^>]*\blang="ru"/, `${label}: not a Russian page`);
  assert.match(html, /<title>[^<]*Страница устарела/, `${label}: title`);
  assert.match(html, /<h1[^>]*>\s*Страница устарела\s*<\/h1>/, `${label}: h1`);
}

describe('CSRF protection of /feedback', () => {
  test('a POST without any token or session is refused', async () => {
    const response = await page.request.post(`${server.baseUrl}/feedback`, { form });
    await assertStalePage(response, 'no token, no session');
  });

  test('a POST from a session that opened the form, but without its token, is refused', async () => {
    await page.goto(`${server.baseUrl}/feedback`);
    assert.ok((await context.cookies(server.baseUrl)).length >= 1, 'the form page set no session cookie');
    const submissionId = await page.locator('input[name="submission_id"]').getAttribute('value');
    const response = await page.request.post(`${server.baseUrl}/feedback`, {
      form: { ...form, submission_id: submissionId },
    });
    await assertStalePage(response, 'session cookie, no token');
  });

  test('a POST with a wrong or foreign token is refused', async () => {
    await page.goto(`${server.baseUrl}/feedback`);
    const token = await page.locator('input[name="csrf_token"]').getAttribute('value');
    const submissionId = await page.locator('input[name="submission_id"]').getAttribute('value');
    assert.ok(token, 'no csrf_token on the form');
    // Tampered token in the right session.
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    await assertStalePage(
      await page.request.post(`${server.baseUrl}/feedback`, {
        form: { ...form, csrf_token: tampered, submission_id: submissionId },
      }),
      'tampered token',
    );
    // A real token, but from another session (another browser context has no cookie for it).
    const other = await browser.newContext();
    try {
      await assertStalePage(
        await other.request.post(`${server.baseUrl}/feedback`, {
          form: { ...form, csrf_token: token, submission_id: submissionId },
        }),
        "another session's token",
      );
    } finally {
      await other.close();
    }
  });

  test('the 403 page in the browser is the Russian «Страница устарела» page', async () => {
    // A form on the page, whose token is removed before it is sent: what a person sees.
    await page.goto(`${server.baseUrl}/feedback`);
    await page.locator('#name').fill(form.name);
    await page.locator('#contact').fill(form.contact);
    await page.locator('#message').fill(form.message);
    await page.evaluate(() => document.querySelector('input[name="csrf_token"]').remove());
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Отправить вопрос' }).click(),
    ]);
    await page.waitForLoadState('load');
    assert.equal(response.status(), 403);
    assert.equal((await page.locator('h1').innerText()).trim(), 'Страница устарела');
    assert.match(await page.locator('main').innerText(), /обновите страницу/i, 'the page says what to do');
  });

  test('nothing refused was sent', async () => {
    await sleep(1500);
    const outbox = await readOutbox(server.baseUrl);
    assert.deepEqual(smsTo(outbox, data.phone), [], 'an SMS went out for a refused request');
    assert.deepEqual(
      outbox.filter((m) => String(m.body).includes(data.message)),
      [],
      'a message went out for a refused request',
    );
  });

  test('control: the same data with its token is accepted and confirmed by SMS', async () => {
    await page.goto(`${server.baseUrl}/feedback`);
    await fillFeedback(page, data);
    const response = await submitFeedback(page);
    assert.equal(response.status(), 200);
    assert.equal((await page.locator('h1').innerText()).trim(), 'Обращение отправлено');
    const reference = (await page.locator('strong.reference').innerText()).trim();
    const sms = await waitForOutbox(server.baseUrl, (list) => smsTo(list, data.phone)[0], {
      what: `an SMS to ${data.phone}`,
    });
    assert.ok(sms.body.includes(reference), `SMS «${sms.body}» lacks № ${reference}`);
  });
});
