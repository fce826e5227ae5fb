// Registration as a person does it in the browser, with JavaScript and without: step 1 (name and
// a phone or an e-mail) with its errors, the SMS code or the e-mail link from the development
// outbox, the password step with its errors, the cabinet, «Выйти»; the e-mail link used twice;
// «Номер занят»; step 1 by keyboard alone. Every page on the way gets one h1, no horizontal
// scrolling at 360×740 and (with JavaScript, where axe can run) zero serious/critical axe findings.
//
// Rate limits: the server sends at most 5 codes or links per client IP per hour, and every test
// comes from 127.0.0.1, so each mode starts its own server and requests 4 codes or links from it:
// person A's phone, the e-mail, person B's phone (A's number again) and the keyboard test's phone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { axeCheck, launchBrowser } from '../lib/browser.mjs';
import {
  REGISTRATION_LABELS,
  fillRegistration,
  readOutbox,
  sleep,
  smsTo,
  submitAndWait,
  waitForOutbox,
} from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const PASSWORD = 'Зелёный-Чайник#42';
const SMALL = { width: 360, height: 740 };
const CODE_SMS = /^Код подтверждения: (\d{6})\. Никому не сообщайте его\. Госуслуги$/;
const MAX_SENDS_PER_SERVER = 4; // the server refuses the 6th per IP per hour; stay well under

// The pages the flow checks on its way (step 1, empty and with errors, is in PAGES of
// lib/portal.mjs, checked by a11y.test.mjs and layout.test.mjs).
const CHECKED_PAGES = [
  'confirm (phone)',
  'confirm (phone, wrong code)',
  'password (errors)',
  'cabinet',
  'confirm (e-mail)',
  'e-mail link page',
  'used e-mail link',
  'password (number taken)',
];

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const pathOf = (page) => new URL(page.url()).pathname;
const squash = (t) => t.replace(/\s+/g, ' ').trim();
const h1Of = async (page) => squash(await page.locator('h1').innerText());
const mainText = async (page) => squash(await page.locator('main').innerText());

/** A code that is not `code` (same length, digits only). */
const wrongCode = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/**
 * Errors on the current form page: per input, the `.error-message` its aria-describedby points
 * at and the one shown in its form group (both without the hidden «Ошибка:» prefix); and the
 * error summary's links.
 */
async function errorsOnPage(page) {
  return page.evaluate(() => {
    const clean = (t) => t.replace(/\s+/g, ' ').replace(/^\s*Ошибка:\s*/, '').trim();
    const fields = {};
    for (const input of document.querySelectorAll('main form input:not([type="hidden"])')) {
      const described = (input.getAttribute('aria-describedby') || '')
        .split(/\s+/)
        .filter(Boolean)
        .map((id) => document.getElementById(id))
        .filter((el) => el && el.classList.contains('error-message'));
      const group = input.closest('.form-group');
      const shown = group ? [...group.querySelectorAll('.error-message')] : [];
      const visible = shown.every((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0;
      });
      if (described.length || shown.length) {
        fields[input.id] = {
          described: described.map((el) => clean(el.textContent)),
          shown: shown.map((el) => clean(el.textContent)),
          visible,
        };
      }
    }
    const summary = document.querySelector('.error-summary');
    return {
      fields,
      summary: summary
        ? {
            title: summary.querySelector('h2')?.textContent.trim() ?? '',
            links: [...summary.querySelectorAll('a')].map((a) => ({
              href: a.getAttribute('href'),
              text: a.textContent.replace(/\s+/g, ' ').trim(),
            })),
          }
        : null,
      focusedSummary: document.activeElement?.classList.contains('error-summary') ?? false,
    };
  });
}

/**
 * Assert the page shows exactly the `expected` errors (field id → exact text, or a RegExp), in
 * this order, next to the fields and in the summary «Исправьте ошибки», with an «Ошибка: » title.
 */
async function assertErrors(page, expected, { javaScriptEnabled, label }) {
  assert.match(await page.title(), /^Ошибка: /, `${label}: title «${await page.title()}»`);
  const got = await errorsOnPage(page);
  assert.ok(got.summary, `${label}: no error summary`);
  assert.equal(got.summary.title, 'Исправьте ошибки', `${label}: summary title`);
  const ids = Object.keys(expected);
  assert.deepEqual(Object.keys(got.fields), ids, `${label}: fields in error: ${JSON.stringify(got.fields)}`);
  assert.deepEqual(
    got.summary.links.map((l) => l.href),
    ids.map((id) => `#${id}`),
    `${label}: summary links ${JSON.stringify(got.summary.links)}`,
  );
  for (const [i, id] of ids.entries()) {
    const f = got.fields[id];
    assert.equal(f.shown.length, 1, `${label}: #${id}: messages next to the field: ${JSON.stringify(f.shown)}`);
    assert.ok(f.visible, `${label}: #${id}: the message is not visible`);
    assert.deepEqual(f.described, f.shown, `${label}: #${id} is not aria-described by its message`);
    const text = f.shown[0];
    if (expected[id] instanceof RegExp) assert.match(text, expected[id], `${label}: message for #${id}`);
    else assert.equal(text, expected[id], `${label}: message for #${id}`);
    assert.equal(got.summary.links[i].text, text, `${label}: the summary says something else than #${id}`);
  }
  if (javaScriptEnabled) assert.ok(got.focusedSummary, `${label}: focus is not on the error summary`);
}

/** The value of each step-1 field. */
async function startValues(page) {
  const values = {};
  for (const id of Object.keys(REGISTRATION_LABELS)) values[id] = await page.locator(`#${id}`).inputValue();
  return values;
}

/** Wait for the newest SMS to `phone` once there are `count` of them; return its code. */
async function codeFor(baseUrl, phone, count = 1) {
  const list = await waitForOutbox(
    baseUrl,
    (l) => {
      const found = smsTo(l, phone);
      return found.length >= count ? found : null;
    },
    { what: `${count} SMS to ${phone}` },
  );
  assert.equal(list.length, count, `SMS to ${phone}: ${JSON.stringify(list, null, 2)}`);
  const sms = list[0];
  assert.equal(sms.subject ?? '', '', 'an SMS has no subject');
  assert.match(sms.body, CODE_SMS, `SMS body «${sms.body}»`);
  assert.ok(!Number.isNaN(Date.parse(sms.created_at)), `created_at: ${sms.created_at}`);
  return sms.body.match(CODE_SMS)[1];
}

async function submitPassword(page, { password, confirmation, consent }) {
  await page.locator('#password').fill(password);
  await page.locator('#password_confirmation').fill(confirmation);
  await page.locator('#consent').setChecked(consent);
  return submitAndWait(page, 'Зарегистрироваться');
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';
  const tail = javaScriptEnabled ? '0' : '1'; // distinct numbers and addresses per mode
  const A = {
    last_name: 'Смирнова',
    first_name: 'Анна',
    middle_name: 'Сергеевна',
    phone: `8 912 000-00-${tail}1`,
    email: '',
    e164: `+791200000${tail}1`,
    shown: `+7 912 000-00-${tail}1`,
    masked: `+7 912 ***-**-${tail}1`,
  };
  const E = {
    last_name: 'Кузнецова',
    first_name: 'Мария',
    middle_name: 'Ивановна',
    phone: '',
    email: javaScriptEnabled ? 'Maria.Kuznetsova.JS@Example.RU' : 'Maria.Kuznetsova.NoJS@Example.RU',
  };
  const B = {
    last_name: 'Петров',
    first_name: 'Иван',
    middle_name: 'Николаевич',
    phone: `+7 (912) 000-00-${tail}1`, // A's number, typed another way
    email: '',
  };
  const K = { last_name: 'Орлова', first_name: 'Ольга', middle_name: '', phone: `8 912 000-00-${tail}3`, e164: `+791200000${tail}3` };

  describe(`registration ${mode}`, () => {
    let server;
    let sends = 0; // codes and links this server was asked for
    const contexts = [];
    const pageErrors = [];
    const checked = new Map(); // page label → 'ok' or the error its check threw

    /** A new person: a browser context of their own (CSP bypassed so axe can be injected). */
    async function newPerson() {
      const context = await browser.newContext({ javaScriptEnabled, bypassCSP: true });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
      return { context, page };
    }

    /**
     * Check the page now (exactly one h1, no horizontal scrolling at 360×740, with JavaScript
     * also axe) and record the outcome under `label`; the tests «accessibility and layout: …» at
     * the end report it, so a finding on one page does not stop the flow that leads to the next.
     */
    async function checkPage(page, label) {
      assert.ok(CHECKED_PAGES.includes(label), `«${label}» is not in CHECKED_PAGES`);
      try {
        await checkPageNow(page, label);
        checked.set(label, 'ok');
      } catch (err) {
        checked.set(label, err);
      }
    }

    async function checkPageNow(page, label) {
      const h1s = await page.locator('h1').allInnerTexts();
      assert.equal(h1s.length, 1, `${label}: h1 elements: ${JSON.stringify(h1s)}`);
      if (javaScriptEnabled) await axeCheck(page, `${label} (${page.url()})`);
      const size = page.viewportSize();
      await page.setViewportSize(SMALL);
      const m = await page.evaluate((width) => {
        const name = (el) => `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}>`;
        return {
          doc: document.documentElement.scrollWidth,
          body: document.body.scrollWidth,
          wide: [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > width + 0.5)
            .slice(0, 6)
            .map((el) => `${name(el)} right=${Math.round(el.getBoundingClientRect().right)}`),
        };
      }, SMALL.width);
      await page.setViewportSize(size);
      assert.ok(m.doc <= SMALL.width, `${label}: horizontal scrolling at ${SMALL.width} px, scrollWidth ${m.doc}; overflowing: ${m.wide.join(', ')}`);
      assert.ok(m.body <= SMALL.width, `${label}: body.scrollWidth ${m.body} > ${SMALL.width}`);
    }

    /** Submit a valid step 1 (counts the code or link it requests). */
    async function continueStep1(page) {
      assert.ok(sends < MAX_SENDS_PER_SERVER, `this test would request code no. ${sends + 1} from one server`);
      sends += 1;
      return submitAndWait(page, 'Продолжить');
    }

    before(async () => {
      server = await startServer();
    });

    after(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await server?.stop();
    });

    describe('by phone (person A)', () => {
      let page;
      let context;

      before(async () => {
        ({ page, context } = await newPerson());
      });

      test('step 1 has the labelled fields', async () => {
        const response = await page.goto(`${server.baseUrl}/register`);
        assert.equal(response.status(), 200);
        assert.equal(await h1Of(page), 'Регистрация');
        assert.match(await mainText(page), /Шаг 1 из 3/);
        assert.doesNotMatch(await page.title(), /^Ошибка/);
        for (const [id, label] of Object.entries(REGISTRATION_LABELS)) {
          const field = page.getByLabel(label, { exact: true });
          assert.equal(await field.count(), 1, `one field labelled «${label}»`);
          assert.equal(await field.getAttribute('id'), id, `«${label}» labels #${id}`);
          assert.equal(await field.inputValue(), '', `#${id} starts empty`);
        }
        assert.equal(await page.getByRole('button', { name: 'Продолжить', exact: true }).count(), 1);
        assert.equal(await page.locator('.error-summary').count(), 0, 'no error summary before submitting');
      });

      test('bad input: the errors next to the fields and in the summary, typed values kept', async () => {
        const cases = [
          {
            label: 'bad name, no first name, short phone',
            data: { last_name: 'Смирнова2', first_name: '', middle_name: 'Сергеевна', phone: '8912', email: '' },
            errors: {
              last_name: /^Фамилия может содержать только буквы/,
              first_name: 'Введите имя',
              phone: 'В номере телефона не хватает цифр: нужно 10 цифр после +7',
            },
          },
          {
            label: 'both phone and e-mail',
            data: { ...A, email: 'anna@example.ru' },
            errors: { email: /^Укажите что-то одно: телефон или почту\. / },
          },
          {
            label: 'neither phone nor e-mail',
            data: { ...A, phone: '', email: '' },
            errors: { phone: 'Укажите мобильный телефон или электронную почту' },
          },
        ];
        for (const c of cases) {
          await fillRegistration(page, c.data);
          const response = await submitAndWait(page, 'Продолжить');
          assert.equal(response.status(), 200, `${c.label}: status`);
          assert.equal(pathOf(page), '/register', `${c.label}: moved on to ${page.url()}`);
          assert.equal(await h1Of(page), 'Регистрация', `${c.label}: h1`);
          await assertErrors(page, c.errors, { javaScriptEnabled, label: c.label });
          const expectedValues = {};
          for (const id of Object.keys(REGISTRATION_LABELS)) expectedValues[id] = c.data[id];
          assert.deepEqual(await startValues(page), expectedValues, `${c.label}: typed values not kept`);
        }
        // Nothing was sent for bad input.
        await sleep(1000);
        const outbox = await readOutbox(server.baseUrl);
        assert.deepEqual(outbox, [], 'messages were sent for invalid input');
      });

      test('with a phone: the confirm page and the code by SMS', async () => {
        await fillRegistration(page, A);
        const response = await continueStep1(page);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/register/confirm');
        assert.equal(await h1Of(page), 'Введите код из SMS');
        const text = await mainText(page);
        assert.match(text, /Шаг 2 из 3/);
        assert.ok(text.includes(A.masked), `the page does not show the masked number ${A.masked}: «${text}»`);
        assert.ok(!text.includes(A.shown), 'the page shows the full number');
        assert.equal(await page.getByRole('heading', { name: 'Номер занят' }).count(), 0, 'a free number is shown as taken');
        assert.equal(await page.getByLabel('Код из SMS', { exact: true }).getAttribute('id'), 'code');
        await checkPage(page, 'confirm (phone)');
      });

      test('a wrong code is refused with the tries left; the right one leads to step 3', async () => {
        const code = await codeFor(server.baseUrl, A.e164);
        await page.getByLabel('Код из SMS', { exact: true }).fill(wrongCode(code));
        let response = await submitAndWait(page, 'Подтвердить');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/register/confirm');
        assert.equal(await h1Of(page), 'Введите код из SMS');
        await assertErrors(page, { code: 'Неверный код. Осталось 2 попытки' }, { javaScriptEnabled, label: 'wrong code' });
        await checkPage(page, 'confirm (phone, wrong code)');

        await page.getByLabel('Код из SMS', { exact: true }).fill(code);
        response = await submitAndWait(page, 'Подтвердить');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/register/password', `the right code led to ${page.url()}`);
      });

      test('step 3: password errors, and the passwords are never refilled', async () => {
        assert.equal(await h1Of(page), 'Придумайте пароль');
        assert.match(await mainText(page), /Шаг 3 из 3/);
        assert.equal(await page.getByLabel('Пароль', { exact: true }).getAttribute('id'), 'password');
        assert.equal(await page.getByLabel('Повторите пароль', { exact: true }).getAttribute('id'), 'password_confirmation');
        const consentLabel = squash(await page.locator('label[for="consent"]').innerText());
        assert.match(consentLabel, /^Я согласен\(на\) на обработку персональных данных/);
        assert.equal(await page.locator('#consent').getAttribute('type'), 'checkbox');
        assert.equal(await page.locator('#consent').isChecked(), false, 'consent is pre-checked');
        assert.equal(await page.getByRole('button', { name: 'Зарегистрироваться', exact: true }).count(), 1);

        const consentError = 'Подтвердите согласие на обработку персональных данных — без него регистрация невозможна';
        const cases = [
          {
            label: 'weak password, no consent',
            input: { password: 'qwerty12', confirmation: 'qwerty12', consent: false },
            errors: { password: /Добавьте в пароль заглавную букву/, consent: consentError },
          },
          {
            label: 'confirmation differs',
            input: { password: PASSWORD, confirmation: 'Зелёный-Чайник#24', consent: true },
            errors: { password_confirmation: 'Пароли не совпадают. Введите пароль ещё раз' },
          },
          {
            label: 'no consent',
            input: { password: PASSWORD, confirmation: PASSWORD, consent: false },
            errors: { consent: consentError },
          },
        ];
        for (const c of cases) {
          const response = await submitPassword(page, c.input);
          assert.equal(response.status(), 200, `${c.label}: status`);
          assert.equal(pathOf(page), '/register/password', `${c.label}: moved on to ${page.url()}`);
          assert.equal(await h1Of(page), 'Придумайте пароль', `${c.label}: h1`);
          await assertErrors(page, c.errors, { javaScriptEnabled, label: c.label });
          assert.equal(await page.locator('#password').inputValue(), '', `${c.label}: the password was refilled`);
          assert.equal(await page.locator('#password_confirmation').inputValue(), '', `${c.label}: the confirmation was refilled`);
          const html = await page.content();
          assert.ok(!html.includes(c.input.password), `${c.label}: the password is in the page's HTML`);
          assert.ok(!html.includes(c.input.confirmation), `${c.label}: the confirmation is in the page's HTML`);
          if (c.label === 'weak password, no consent') await checkPage(page, 'password (errors)');
        }
      });

      test('a good password creates the account: the cabinet', async () => {
        const response = await submitPassword(page, { password: PASSWORD, confirmation: PASSWORD, consent: true });
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/cabinet', `registration ended at ${page.url()}`);
        assert.equal(await h1Of(page), 'Здравствуйте, Анна Сергеевна!');
        const text = await mainText(page);
        assert.ok(text.includes('Смирнова Анна Сергеевна'), `the full name is not shown: «${text}»`);
        assert.ok(text.includes(A.shown), `the phone ${A.shown} is not shown: «${text}»`);
        assert.equal(squash(await page.locator('main .tag').innerText()), 'Упрощённая', 'level tag');
        const notice = page.locator('main [role="status"]');
        assert.equal(await notice.count(), 1, 'no success notice');
        assert.match(squash(await notice.innerText()), /^Учётная запись создана/);
        const fill = page.getByRole('link', { name: 'Заполнить личные данные', exact: true });
        assert.equal(await fill.count(), 1, 'no link «Заполнить личные данные»');
        const header = page.locator('header');
        assert.match(squash(await header.innerText()), /Личный кабинет/);
        assert.equal(await header.getByRole('button', { name: 'Выйти', exact: true }).count(), 1, 'no «Выйти» button');
        assert.equal(await header.getByRole('link', { name: 'Войти', exact: true }).count(), 0, 'a signed-in header offers «Войти»');
        await checkPage(page, 'cabinet');

        // The notice is shown once; the cabinet itself stays.
        await page.reload();
        assert.equal(pathOf(page), '/cabinet');
        assert.equal(await page.locator('main [role="status"]').count(), 0, 'the success notice is shown again after reload');
        // A signed-in person opening /register again is sent to the cabinet.
        await page.goto(`${server.baseUrl}/register`);
        assert.equal(pathOf(page), '/cabinet', `/register while signed in showed ${page.url()}`);
      });

      test('«Выйти» leads home and the cabinet is closed afterwards', async () => {
        const response = await submitAndWait(page, 'Выйти');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/', `after «Выйти»: ${page.url()}`);
        assert.equal(await h1Of(page), 'Государственные услуги');
        assert.equal(await page.locator('header').getByRole('link', { name: 'Войти', exact: true }).count(), 1, 'no «Войти» after signing out');
        assert.equal(await page.locator('header').getByRole('button', { name: 'Выйти', exact: true }).count(), 0, '«Выйти» still shown');
        await page.goto(`${server.baseUrl}/cabinet`);
        assert.ok(pathOf(page).endsWith('/login'), `/cabinet after signing out showed ${page.url()}`);
        assert.equal(context.pages().length, 1);
      });
    });

    describe('by e-mail', () => {
      let page;
      let context;
      let link;
      const email = E.email.toLowerCase();

      before(async () => {
        ({ page, context } = await newPerson());
      });

      test('with an e-mail: «Проверьте почту» and the letter with a link', async () => {
        await page.goto(`${server.baseUrl}/register`);
        await fillRegistration(page, E);
        const response = await continueStep1(page);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/register/confirm');
        assert.equal(await h1Of(page), 'Проверьте почту');
        assert.match(await mainText(page), /Шаг 2 из 3/);
        assert.equal(await page.locator('#code').count(), 0, 'an e-mail registration asks for a code');
        await checkPage(page, 'confirm (e-mail)');

        const letter = await waitForOutbox(
          server.baseUrl,
          (l) => l.find((m) => m.channel === 'email' && m.to === email),
          { what: `an e-mail to ${email}` },
        );
        assert.equal(letter.subject, 'Подтверждение регистрации');
        const escaped = server.baseUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        const found = letter.body.match(new RegExp(`${escaped}/register/email/([0-9a-f]{64})(?![0-9a-zA-Z])`));
        assert.ok(found, `no link ${server.baseUrl}/register/email/<64 hex> in «${letter.body}»`);
        link = found[0];
      });

      test('the link asks to confirm; confirming leads to step 3 and then the cabinet', async () => {
        assert.ok(link, 'no link from the previous test');
        // The person opens the letter's link in another tab.
        const tab = await context.newPage();
        tab.on('pageerror', (e) => pageErrors.push(`${tab.url()}: ${e.message}`));
        let response = await tab.goto(link);
        assert.equal(response.status(), 200);
        assert.equal(await h1Of(tab), 'Подтвердите адрес электронной почты');
        await checkPage(tab, 'e-mail link page');
        await page.close(); // the first tab would refresh itself every 10 s

        response = await submitAndWait(tab, 'Подтвердить адрес');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(tab), '/register/password', `the link led to ${tab.url()}`);
        assert.equal(await h1Of(tab), 'Придумайте пароль');
        assert.match(await mainText(tab), /Адрес электронной почты подтверждён/);

        response = await submitPassword(tab, { password: PASSWORD, confirmation: PASSWORD, consent: true });
        assert.equal(response.status(), 200);
        assert.equal(pathOf(tab), '/cabinet', `registration ended at ${tab.url()}`);
        assert.equal(await h1Of(tab), 'Здравствуйте, Мария Ивановна!');
        const text = await mainText(tab);
        assert.ok(text.includes('Кузнецова Мария Ивановна'), `the full name is not shown: «${text}»`);
        assert.ok(text.includes(email), `the e-mail ${email} (lowercased) is not shown: «${text}»`);
        assert.ok(!text.includes(E.email), 'the e-mail is shown as typed, not lowercased');
        assert.equal(squash(await tab.locator('main .tag').innerText()), 'Упрощённая');
      });

      test('the same link again: «Ссылка недействительна», already registered', async () => {
        assert.ok(link, 'no link from the first test');
        const other = await newPerson();
        let response = await other.page.goto(link);
        assert.equal(response.status(), 200);
        assert.equal(await h1Of(other.page), 'Подтвердите адрес электронной почты');
        response = await submitAndWait(other.page, 'Подтвердить адрес');
        assert.ok(response.status() >= 400 && response.status() < 500, `a used link answered ${response.status()}`);
        assert.equal(await h1Of(other.page), 'Ссылка недействительна');
        assert.match(await mainText(other.page), /уже зарегистрирована/);
        assert.notEqual(pathOf(other.page), '/register/password');
        await checkPage(other.page, 'used e-mail link');
      });
    });

    describe('«Номер занят» (person B, A\'s number)', () => {
      let page;

      before(async () => {
        ({ page } = await newPerson());
      });

      test('the confirm page does not say whether the number has an account', async () => {
        await page.goto(`${server.baseUrl}/register`);
        await fillRegistration(page, B);
        const response = await continueStep1(page);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/register/confirm');
        assert.equal(await h1Of(page), 'Введите код из SMS');
        const heading = page.getByRole('heading', { name: 'Номер занят', exact: true });
        assert.equal(await heading.count(), 0, '«Номер занят» before the code tells who has an account');
        assert.ok((await mainText(page)).includes(A.masked), 'the masked number is not shown');
      });

      test('B confirms with the newest code and gets the number', async () => {
        const code = await codeFor(server.baseUrl, A.e164, 2);
        await page.getByLabel('Код из SMS', { exact: true }).fill(code);
        let response = await submitAndWait(page, 'Подтвердить');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/register/password', `B's code led to ${page.url()}`);
        // The code proved the number is B's: now B is told it moves here, without A's name.
        const heading = page.getByRole('heading', { name: 'Номер занят', exact: true });
        assert.equal(await heading.count(), 1, 'no «Номер занят» notice after the code');
        assert.ok(await heading.isVisible(), '«Номер занят» is not visible');
        const html = await page.content();
        for (const part of [A.last_name, A.first_name, A.middle_name]) {
          assert.ok(!html.includes(part), `B's page reveals A's name («${part}»)`);
        }
        await checkPage(page, 'password (number taken)');
        response = await submitPassword(page, { password: PASSWORD, confirmation: PASSWORD, consent: true });
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/cabinet', `B's registration ended at ${page.url()}`);
        assert.equal(await h1Of(page), 'Здравствуйте, Иван Николаевич!');
        const text = await mainText(page);
        assert.ok(text.includes('Петров Иван Николаевич'), `B's full name is not shown: «${text}»`);
        assert.ok(text.includes(A.shown), `B's cabinet does not show the phone ${A.shown}: «${text}»`);
        assert.ok(!text.includes('Смирнова'), "B's cabinet shows A's name");
      });
    });

    describe('keyboard only', () => {
      test('step 1 with Tab, typing and Enter', async () => {
        const { page } = await newPerson();
        await page.goto(`${server.baseUrl}/register`);
        const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
        let presses = 0;
        while ((await focusedId()) !== 'last_name') {
          presses += 1;
          assert.ok(presses <= 12, `#last_name not reached after ${presses - 1} Tab presses`);
          await page.keyboard.press('Tab');
        }
        const order = ['last_name', 'first_name', 'middle_name', 'phone'];
        for (const [i, id] of order.entries()) {
          if (i > 0) {
            await page.keyboard.press('Tab');
            assert.equal(await focusedId(), id, `Tab after #${order[i - 1]} went to #${await focusedId()}`);
          }
          if (K[id]) await page.keyboard.type(K[id]);
        }
        assert.ok(sends < MAX_SENDS_PER_SERVER, `code no. ${sends + 1} from one server`);
        sends += 1;
        const response = await submitAndWait(page, null, { key: 'Enter' });
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page), '/register/confirm', `Enter led to ${page.url()}`);
        assert.equal(await h1Of(page), 'Введите код из SMS');
        await codeFor(server.baseUrl, K.e164); // the typed number got its code
      });
    });

    describe('accessibility and layout of the registration pages', () => {
      for (const label of CHECKED_PAGES) {
        test(label, () => {
          const outcome = checked.get(label);
          if (outcome instanceof Error) throw outcome;
          assert.equal(outcome, 'ok', `the flow did not reach «${label}», so it was not checked`);
        });
      }
    });

    test('no uncaught script errors on any page', () => {
      assert.deepEqual(pageErrors, []);
    });
  });
}
