// The feedback flow, with JavaScript and without: errors next to the fields with the typed values
// kept, the confirmation page, the SMS in the development outbox with the same number, and a
// resubmitted form that still delivers one confirmation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import {
  BAD_FEEDBACK,
  fillFeedback,
  readOutbox,
  sleep,
  smsTo,
  submitFeedback,
  validFeedback,
  waitForOutbox,
} from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const EXPECTED_ERRORS = {
  contact: 'В номере телефона не хватает цифр: нужно 10 цифр после +7',
  message: 'Опишите вопрос подробнее — не меньше 10 символов',
};

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The error shown next to a field: text inside the field's group, between its label and the input. */
async function fieldError(page, id) {
  return page.evaluate((fieldId) => {
    const input = document.getElementById(fieldId);
    if (!input) return { problem: `no #${fieldId}` };
    const label = document.querySelector(`label[for="${fieldId}"]`);
    if (!label) return { problem: `no label for #${fieldId}` };
    const group = input.parentElement;
    if (!group.contains(label)) return { problem: `label of #${fieldId} is not next to it` };
    // The message sits in the field's group, after its label and before the input.
    const between = [...group.querySelectorAll('*')].filter(
      (el) =>
        !label.contains(el) &&
        label.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING &&
        el.compareDocumentPosition(input) & Node.DOCUMENT_POSITION_FOLLOWING,
    );
    const errorEl =
      between.find((el) => /error/i.test(el.className)) ||
      between.find((el) => /^\s*Ошибка/.test(el.textContent));
    return {
      text: errorEl ? errorEl.textContent.replace(/^\s*Ошибка:\s*/, '').trim() : '',
      describedBy: (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean),
      errorId: errorEl?.id || '',
    };
  }, id);
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';

  describe(`feedback ${mode}`, () => {
    let context;
    let page;
    let data;
    let reference;
    let sentBody; // the form body the browser posted for the valid submission

    before(async () => {
      context = await browser.newContext({ javaScriptEnabled });
      page = await context.newPage();
      data = validFeedback(javaScriptEnabled ? 41 : 42);
    });

    after(async () => {
      await context?.close();
    });

    test('the empty form has labelled fields and its hidden tokens', async () => {
      const response = await page.goto(`${server.baseUrl}/feedback`);
      assert.equal(response.status(), 200);
      for (const [label, id] of [
        ['Как к вам обращаться', 'name'],
        ['Электронная почта или мобильный телефон', 'contact'],
        ['Ваш вопрос', 'message'],
      ]) {
        const field = page.getByLabel(label, { exact: true });
        assert.equal(await field.count(), 1, `field labelled «${label}»`);
        assert.equal(await field.getAttribute('id'), id, `«${label}» labels #${id}`);
        assert.ok(await page.locator(`label[for="${id}"]`).isVisible(), `label of #${id} is visible`);
      }
      for (const name of ['csrf_token', 'submission_id']) {
        const value = await page.locator(`form input[type="hidden"][name="${name}"]`).getAttribute('value');
        assert.ok(value && value.length >= 16, `hidden ${name} is missing or short: ${value}`);
      }
      assert.equal(await page.getByRole('button', { name: 'Отправить вопрос' }).count(), 1);
      assert.equal(await page.locator('.error-summary').count(), 0, 'no error summary before submitting');
    });

    test('bad input shows the errors next to the fields and keeps what was typed', async () => {
      const countBefore = (await readOutbox(server.baseUrl)).length;
      await page.goto(`${server.baseUrl}/feedback`);
      await fillFeedback(page, BAD_FEEDBACK);
      const response = await submitFeedback(page);
      assert.ok([200, 400, 422].includes(response.status()), `bad submit answered ${response.status()}`);

      assert.match(await page.title(), /^Ошибка: /);
      assert.equal((await page.locator('h1').innerText()).trim(), 'Обратная связь', 'the same page, not a new one');

      const summary = page.locator('.error-summary');
      assert.equal(await summary.count(), 1, 'error summary');
      assert.match(await summary.innerText(), /Исправьте ошибки/);
      const links = await summary.locator('a').evaluateAll((as) =>
        as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })),
      );
      assert.deepEqual(links.map((l) => l.href), ['#name', '#contact', '#message'], 'summary links, in field order');
      for (const { href, text } of links) {
        const id = href.slice(1);
        const shown = await fieldError(page, id);
        assert.ok(!shown.problem, shown.problem);
        assert.ok(shown.text, `no error message next to #${id}`);
        assert.equal(shown.text, text, `the message next to #${id} differs from the summary`);
        assert.ok(shown.describedBy.includes(shown.errorId), `#${id} is not described by its error`);
        if (EXPECTED_ERRORS[id]) assert.equal(shown.text, EXPECTED_ERRORS[id], `message for #${id}`);
      }

      // Kept values.
      assert.equal(await page.locator('#name').inputValue(), BAD_FEEDBACK.name);
      assert.equal(await page.locator('#contact').inputValue(), BAD_FEEDBACK.contact);
      assert.equal(await page.locator('#message').inputValue(), BAD_FEEDBACK.message);

      // A summary link takes the keyboard to its field.
      await summary.locator('a[href="#contact"]').click();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'contact', 'summary link focuses the field');

      // Nothing was sent for bad input.
      await sleep(1500);
      const outbox = await readOutbox(server.baseUrl);
      assert.equal(outbox.length, countBefore, `messages were sent for invalid input:\n${JSON.stringify(outbox.slice(0, outbox.length - countBefore), null, 2)}`);
    });

    test('fixed input is sent, and the SMS carries the number shown on the page', async () => {
      // Continue on the error page: correct the fields in place, as a person would.
      assert.match(await page.title(), /^Ошибка: /, 'still on the error page from the previous test');
      await fillFeedback(page, data);
      const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/feedback');
      const response = await submitFeedback(page);
      const request = await posted;
      sentBody = { body: request.postData(), contentType: request.headers()['content-type'] };
      assert.equal(response.status(), 200);

      assert.doesNotMatch(await page.title(), /^Ошибка/);
      assert.match(await page.title(), /Обращение отправлено/);
      assert.equal((await page.locator('h1').innerText()).trim(), 'Обращение отправлено');
      reference = (await page.locator('strong.reference').innerText()).trim();
      assert.match(reference, /^\d{6,}$/, `reference number: «${reference}»`);

      const [sms] = await waitForOutbox(
        server.baseUrl,
        (list) => {
          const found = smsTo(list, data.phone);
          return found.length > 0 ? found : null;
        },
        { what: `an SMS to ${data.phone}` },
      );
      assert.equal(sms.channel, 'sms');
      assert.equal(sms.to, data.phone, 'the phone is normalised to +7XXXXXXXXXX');
      assert.match(sms.body, /^Госуслуги: /);
      const inSms = sms.body.match(/№\s*(\d+)/)?.[1];
      assert.equal(inSms, reference, `SMS «${sms.body}» has another number than the page (${reference})`);
      assert.ok(!Number.isNaN(Date.parse(sms.created_at)), `created_at: ${sms.created_at}`);
    });

    test('the same form submitted again delivers one confirmation, not two', async () => {
      assert.ok(sentBody?.body, 'the valid submission was not recorded');
      assert.ok(sentBody.body.includes('submission_id='), 'the posted form has no submission_id');
      assert.ok(sentBody.body.includes('csrf_token='), 'the posted form has no csrf_token');

      // 1) The exact same form data, posted again with the same session cookie.
      const again = await page.request.post(`${server.baseUrl}/feedback`, {
        headers: { 'content-type': sentBody.contentType },
        data: sentBody.body,
      });
      assert.ok(again.status() < 500, `resubmission answered ${again.status()}`);
      assert.notEqual(again.status(), 403, 'the resubmission (same token, same session) was refused as stale');
      const againHtml = await again.text();
      if (againHtml.includes('Обращение отправлено')) {
        const ref = againHtml.match(/class="reference"[^>]*>\s*([^<]+?)\s*</)?.[1];
        assert.equal(ref, reference, 'a resubmission shows another reference number');
      }

      // 2) The browser's own resubmission: reloading the confirmation page posts the form again.
      const reloaded = await page.reload();
      assert.equal(reloaded.request().method(), 'POST', 'reload did not resubmit the form');
      assert.equal(reloaded.status(), 200);
      assert.equal((await page.locator('h1').innerText()).trim(), 'Обращение отправлено');
      assert.equal((await page.locator('strong.reference').innerText()).trim(), reference, 'reload shows another number');

      // Give the worker time to deliver anything extra (it delivers within ~1 s).
      await sleep(3000);
      const outbox = await readOutbox(server.baseUrl);
      const sms = smsTo(outbox, data.phone);
      assert.equal(sms.length, 1, `expected one SMS to ${data.phone}, got ${sms.length}:\n${JSON.stringify(sms, null, 2)}`);
      // And nothing else about this request went out twice (e.g. the note to support).
      const about = outbox.filter((m) => String(m.body).includes(reference) || String(m.subject).includes(reference));
      const keys = about.map((m) => `${m.channel} ${m.to} ${m.subject}`);
      assert.deepEqual(keys, [...new Set(keys)], `duplicate messages about № ${reference}`);
      // Newest first.
      const times = outbox.map((m) => Date.parse(m.created_at));
      assert.deepEqual(times, [...times].sort((a, b) => b - a), '/dev/outbox.json is not newest first');
    });
  });
}
