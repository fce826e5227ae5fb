// Signing in, the security cabinet, changing the password and recovering access, as a person does
// it in the browser, with JavaScript and without.
//
// 1. /login: the form; after registering person A by phone and «Выйти», empty fields, a wrong
//    password and an unknown phone («Неверный логин или пароль», the same page either way, the
//    password never refilled), then the right password with A's number spelt another way.
// 2. /security: a second browser context signed in as A; «Активные сеансы» shows both, «Завершить»
//    ends the other one; «История входов» lists the failed and the successful sign-ins.
// 3. /security/password: a wrong current password, then the change; the other session is ended,
//    the old password no longer signs in, the new one does.
// 4. /recover: an unknown phone gets the same «Введите код» page and no SMS; A's phone gets the
//    code by SMS, then the new password → the cabinet; every other session of A is ended.
// 5. The pages on the way get one h1, no horizontal scrolling at 360×740 and (with JavaScript)
//    zero serious/critical axe findings; each is reported by its own test at the end.
//
// Limits: a server sends at most 5 codes per client IP per hour, and after 3 failed sign-ins per
// client in 15 minutes /login asks a captcha question. Each mode starts its own server and asks it
// for 3 codes (A's registration, the unknown phone's and A's recovery); the third failed sign-in
// (the old password after the change) brings the captcha, which `signIn` answers when asked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import {
  PASSWORD,
  e164,
  fieldErrors,
  maskedPhone,
  readOutbox,
  registerByPhone,
  shownPhone,
  sleep,
  smsTo,
  submitAndWait,
  waitForOutbox,
} from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const MAX_SENDS_PER_SERVER = 5; // the server refuses the 6th code per IP per hour
const INVALID = 'Неверный логин или пароль';
const NEW_PASSWORD = 'Синий-Кофейник#17'; // set on /security/password
const RECOVERED_PASSWORD = 'Жёлтый-Самовар#73'; // set through /recover
const RECOVERY_SMS = /^Код для восстановления доступа: (\d{6})(?!\d)/;
const CAPTCHA_WORDS = ['ноль', 'один', 'два', 'три', 'четыре', 'пять', 'шесть', 'семь', 'восемь', 'девять'];

// The pages checked on the way (one h1, 360 px, axe with JavaScript).
const CHECKED_PAGES = [
  'login (empty fields)',
  'login (wrong password)',
  'security (two sessions)',
  'security/password (wrong current password)',
  'recover',
  'recover/confirm (wrong code)',
  'recover/password (errors)',
];

const pathOf = (page) => new URL(page.url()).pathname;
const squash = (t) => t.replace(/\s+/g, ' ').trim();
const h1Of = async (page) => squash(await page.locator('h1').innerText());
const mainText = async (page) => squash(await page.locator('main').innerText());
/** The success notice in main ('' if none). */
async function notice(page) {
  const el = page.locator('main [role="status"]');
  return (await el.count()) ? squash(await el.innerText()) : '';
}
/** A code that is not `code`. */
const wrongCode = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/**
 * Assert the page shows exactly `expected` (field id → exact text or RegExp), in this order, next
 * to the fields (visible, aria-described) and in the summary «Исправьте ошибки» with the same
 * words; the title starts «Ошибка: »; with JavaScript the focus is on the summary.
 */
async function assertFieldErrors(page, expected, { label, javaScriptEnabled }) {
  assert.match(await page.title(), /^Ошибка: /, `${label}: title «${await page.title()}»`);
  const got = await fieldErrors(page);
  const ids = Object.keys(expected);
  assert.deepEqual(Object.keys(got.fields), ids, `${label}: fields in error: ${JSON.stringify(got.fields)}`);
  assert.ok(got.summary, `${label}: no error summary`);
  assert.equal(got.summary.title, 'Исправьте ошибки', `${label}: summary title`);
  assert.deepEqual(got.summary.links.map((l) => l.href), ids.map((id) => `#${id}`), `${label}: summary links`);
  for (const [i, id] of ids.entries()) {
    const f = got.fields[id];
    if (expected[id] instanceof RegExp) assert.match(f.text, expected[id], `${label}: message next to #${id}`);
    else assert.equal(f.text, expected[id], `${label}: message next to #${id}`);
    assert.ok(f.visible, `${label}: the message for #${id} is not visible`);
    assert.ok(f.described, `${label}: #${id} is not aria-described by its message`);
    assert.equal(got.summary.links[i].text, f.text, `${label}: the summary says something else than #${id}`);
  }
  if (javaScriptEnabled) {
    assert.ok(
      await page.evaluate(() => document.activeElement?.classList.contains('error-summary')),
      `${label}: focus is not on the error summary`,
    );
  }
}

/** Every password input on the page is empty, and none of `secrets` is in the HTML. */
async function assertPasswordsEmpty(page, secrets, label) {
  const values = await page.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll('input[type="password"]')].map((i) => [i.id, i.value])),
  );
  assert.ok(Object.keys(values).length > 0, `${label}: no password fields`);
  for (const [id, v] of Object.entries(values)) assert.equal(v, '', `${label}: #${id} was refilled`);
  const html = await page.content();
  for (const s of secrets) assert.ok(!html.includes(s), `${label}: «${s}» is in the page's HTML`);
}

/**
 * The rows of the table under the main h2 `heading`: { headers, rows: [{ cells, buttons }] },
 * or null when there is no such heading or no table under it.
 */
async function tableUnder(page, heading) {
  return page.evaluate((heading) => {
    const sq = (t) => t.replace(/\s+/g, ' ').trim();
    const h2 = [...document.querySelectorAll('main h2')].find((h) => sq(h.textContent) === heading);
    if (!h2) return null;
    let table = null;
    for (let el = h2.nextElementSibling; el && el.tagName !== 'H2' && !table; el = el.nextElementSibling) {
      table = el.tagName === 'TABLE' ? el : el.querySelector('table');
    }
    if (!table) return null;
    return {
      headers: [...table.querySelectorAll('thead th')].map((th) => sq(th.innerText)),
      rows: [...table.querySelectorAll('tbody tr')].map((tr) => ({
        cells: [...tr.querySelectorAll('td')].map((td) => sq(td.innerText)),
        buttons: [...tr.querySelectorAll('button')].map((b) => sq(b.innerText)),
      })),
    };
  }, heading);
}

/**
 * The sign-in page as text and as markup with the typed login and the CSRF token blanked out,
 * to compare two answers.
 */
async function loginPageSnapshot(page) {
  return page.evaluate(() => {
    const body = document.body.cloneNode(true);
    for (const el of body.querySelectorAll('#login')) el.removeAttribute('value');
    for (const el of body.querySelectorAll('input[name="csrf_token"]')) el.setAttribute('value', '');
    return {
      title: document.title,
      text: document.body.innerText.replace(/\s+/g, ' ').trim(),
      html: body.innerHTML,
    };
  });
}

/** Answer /login's captcha question («Проверочный вопрос: Сколько будет семь плюс четыре?»). */
async function answerCaptcha(page) {
  const label = squash(await page.locator('label[for="captcha"]').innerText());
  const m = label.match(/Сколько будет (\S+) (плюс|минус) (\S+)\?/);
  assert.ok(m, `a captcha question that cannot be read: «${label}»`);
  const [a, b] = [CAPTCHA_WORDS.indexOf(m[1]), CAPTCHA_WORDS.indexOf(m[3])];
  assert.ok(a >= 0 && b >= 0, `captcha numbers not in words: «${label}»`);
  await page.locator('#captcha').fill(String(m[2] === 'плюс' ? a + b : a - b));
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';
  const tail = javaScriptEnabled ? '0' : '1'; // distinct numbers per mode
  const A = {
    last_name: 'Волкова',
    first_name: 'Елена',
    middle_name: 'Павловна',
    phone: `+7 912 400-00-${tail}1`,
  };
  const A_OTHER_SPELLING = `8 (912) 400-00-${tail}1`;
  const UNKNOWN = `+7 912 400-00-${tail}9`; // nobody's number

  describe(`sign-in, security and recovery ${mode}`, () => {
    let browser;
    let server;
    let sends = 0;
    const contexts = [];
    const pageErrors = [];
    const checked = new Map(); // label → 'ok' or the error its check threw
    let page1; // A's first browser: registers, signs in, manages the security cabinet
    let page2; // A's second browser
    let page3; // the browser that recovers access

    before(async () => {
      [browser, server] = await Promise.all([launchBrowser(), startServer()]);
    });

    after(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await browser?.close();
      await server?.stop();
    });

    async function newBrowserPage() {
      const context = await browser.newContext({ javaScriptEnabled, bypassCSP: true });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
      return page;
    }

    /** One h1, no horizontal scrolling at 360×740, axe with JavaScript; recorded, not thrown. */
    async function check(page, label) {
      assert.ok(CHECKED_PAGES.includes(label), `«${label}» is not in CHECKED_PAGES`);
      try {
        await checkPageShape(page, label, { axe: javaScriptEnabled });
        if (!(checked.get(label) instanceof Error)) checked.set(label, 'ok');
      } catch (err) {
        checked.set(label, err);
      }
    }

    function countSend() {
      sends += 1;
      assert.ok(sends <= MAX_SENDS_PER_SERVER, `this test would request code no. ${sends} from one server`);
    }

    /**
     * Sign in on /login with `login` and `password` and return the response of the page landed
     * on. When the portal asks its captcha question (after 3 failed sign-ins from this client),
     * it is answered; a first submission refused only for the missing answer is repeated once.
     */
    async function signIn(page, login, password) {
      if (pathOf(page) !== '/login') await page.goto(`${server.baseUrl}/login`);
      for (let round = 0; ; round += 1) {
        await page.getByLabel('Телефон, почта или СНИЛС', { exact: true }).fill(login);
        await page.getByLabel('Пароль', { exact: true }).fill(password);
        if (await page.locator('#captcha').count()) await answerCaptcha(page);
        const response = await submitAndWait(page, 'Войти');
        if (round === 0 && pathOf(page) === '/login') {
          const errors = await fieldErrors(page);
          if (Object.keys(errors.fields).join() === 'captcha') continue;
        }
        return response;
      }
    }

    /** Open /cabinet in `page`; returns the path it ends on. */
    async function cabinetPath(page) {
      await page.goto(`${server.baseUrl}/cabinet`);
      return pathOf(page);
    }

    describe('1. /login', () => {
      test('the form: h1, labelled fields, «Войти», links to /recover and /register', async () => {
        page1 = await newBrowserPage();
        const response = await page1.goto(`${server.baseUrl}/login`);
        assert.equal(response.status(), 200);
        assert.equal(await h1Of(page1), 'Вход');
        assert.doesNotMatch(await page1.title(), /^Ошибка/);
        const login = page1.getByLabel('Телефон, почта или СНИЛС', { exact: true });
        assert.equal(await login.count(), 1, 'one field «Телефон, почта или СНИЛС»');
        assert.equal(await login.getAttribute('id'), 'login');
        assert.equal(await login.inputValue(), '');
        const password = page1.getByLabel('Пароль', { exact: true });
        assert.equal(await password.count(), 1, 'one field «Пароль»');
        assert.equal(await password.getAttribute('id'), 'password');
        assert.equal(await password.getAttribute('type'), 'password');
        assert.equal(await page1.getByRole('button', { name: 'Войти', exact: true }).count(), 1, 'no button «Войти»');
        assert.equal(await page1.locator('#captcha').count(), 0, 'a captcha before any failure');
        for (const [name, target] of [['Восстановить доступ', '/recover'], ['Зарегистрируйтесь', '/register']]) {
          const link = page1.locator('main').getByRole('link', { name, exact: true });
          assert.equal(await link.count(), 1, `no link «${name}»`);
          const href = await link.getAttribute('href');
          assert.equal(new URL(href, server.baseUrl).pathname, target, `«${name}» points to ${href}`);
        }
        assert.equal(await page1.locator('.error-summary').count(), 0, 'an error summary before submitting');
      });

      test('empty fields: «Введите телефон, почту или СНИЛС» and «Введите пароль»', async () => {
        await page1.getByLabel('Телефон, почта или СНИЛС', { exact: true }).fill('');
        await page1.getByLabel('Пароль', { exact: true }).fill('');
        const response = await submitAndWait(page1, 'Войти');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/login');
        assert.equal(await h1Of(page1), 'Вход');
        await assertFieldErrors(
          page1,
          { login: 'Введите телефон, почту или СНИЛС', password: 'Введите пароль' },
          { label: 'empty fields', javaScriptEnabled },
        );
        await check(page1, 'login (empty fields)');
      });

      test('A registers by phone and signs out with «Выйти»', async () => {
        countSend();
        await registerByPhone(page1, server.baseUrl, A);
        const signOut = page1.locator('header').getByRole('button', { name: 'Выйти', exact: true });
        assert.equal(await signOut.count(), 1, 'no «Выйти» in the header');
        await Promise.all([page1.waitForNavigation({ waitUntil: 'load' }), signOut.click()]);
        assert.equal(pathOf(page1), '/', `«Выйти» led to ${page1.url()}`);
        assert.equal(await cabinetPath(page1), '/login', 'the cabinet is still open after «Выйти»');
      });

      let wrongPasswordPage;
      test('a wrong password: «Неверный логин или пароль» next to the password and in the summary', async () => {
        await page1.goto(`${server.baseUrl}/login`);
        const response = await signIn(page1, A.phone, 'Зелёный-Чайник#24');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/login', `a wrong password led to ${page1.url()}`);
        assert.equal(await h1Of(page1), 'Вход');
        await assertFieldErrors(page1, { password: INVALID }, { label: 'wrong password', javaScriptEnabled });
        assert.equal(await page1.locator('#login').inputValue(), A.phone, 'the typed login is not kept');
        await assertPasswordsEmpty(page1, ['Зелёный-Чайник#24'], 'wrong password');
        wrongPasswordPage = await loginPageSnapshot(page1);
        await check(page1, 'login (wrong password)');
      });

      test('an unknown phone: the same message and the same page apart from the typed login', async () => {
        await page1.goto(`${server.baseUrl}/login`);
        const response = await signIn(page1, UNKNOWN, PASSWORD);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/login', `an unknown phone led to ${page1.url()}`);
        await assertFieldErrors(page1, { password: INVALID }, { label: 'unknown phone', javaScriptEnabled });
        assert.equal(await page1.locator('#login').inputValue(), UNKNOWN, 'the typed login is not kept');
        await assertPasswordsEmpty(page1, [PASSWORD], 'unknown phone');
        assert.ok(wrongPasswordPage, 'no wrong-password page to compare with');
        const unknownPage = await loginPageSnapshot(page1);
        assert.equal(unknownPage.title, wrongPasswordPage.title, 'the titles differ');
        assert.equal(unknownPage.text, wrongPasswordPage.text, 'the page texts differ');
        assert.equal(unknownPage.html, wrongPasswordPage.html, 'the pages differ in markup (login and CSRF token aside)');
      });

      test('the right password with the phone spelt «8 (9xx) …» → the cabinet', async () => {
        const response = await signIn(page1, A_OTHER_SPELLING, PASSWORD);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/cabinet', `signing in led to ${page1.url()}: «${await mainText(page1)}»`);
        assert.equal(await h1Of(page1), 'Здравствуйте, Елена Павловна!');
        assert.ok((await mainText(page1)).includes(shownPhone(A.phone)), 'the cabinet does not show A\'s phone');
      });
    });

    describe('2. /security', () => {
      test('a second browser signs in; the cabinet links to «Безопасность»', async () => {
        page2 = await newBrowserPage();
        await signIn(page2, A.phone, PASSWORD);
        assert.equal(pathOf(page2), '/cabinet', `the second browser's sign-in led to ${page2.url()}`);

        await page1.goto(`${server.baseUrl}/cabinet`);
        const link = page1.getByRole('link', { name: 'Безопасность: сеансы, история входов, пароль', exact: true });
        assert.equal(await link.count(), 1, 'the cabinet has no link «Безопасность: сеансы, история входов, пароль»');
        const [response] = await Promise.all([page1.waitForNavigation({ waitUntil: 'load' }), link.click()]);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/security', `the link led to ${page1.url()}`);
        assert.equal(await h1Of(page1), 'Безопасность');
      });

      test('«Активные сеансы»: this one («Этот сеанс») and the other with «Завершить», «Chrome, Linux»', async () => {
        const table = await tableUnder(page1, 'Активные сеансы');
        assert.ok(table, 'no table under «Активные сеансы»');
        assert.equal(table.rows.length, 2, `sessions: ${JSON.stringify(table.rows)}`);
        const device = table.headers.indexOf('Устройство');
        assert.ok(device >= 0, `no column «Устройство»: ${JSON.stringify(table.headers)}`);
        const ip = table.headers.indexOf('IP-адрес');
        assert.ok(ip >= 0, `no column «IP-адрес»: ${JSON.stringify(table.headers)}`);
        const current = table.rows.filter((r) => r.cells.some((c) => c === 'Этот сеанс'));
        const others = table.rows.filter((r) => !r.cells.some((c) => c === 'Этот сеанс'));
        assert.equal(current.length, 1, `rows marked «Этот сеанс»: ${JSON.stringify(table.rows)}`);
        assert.deepEqual(current[0].buttons, [], 'the current session has a button');
        assert.equal(others.length, 1);
        assert.equal(others[0].buttons.length, 1, `the other session's buttons: ${JSON.stringify(others[0].buttons)}`);
        assert.match(others[0].buttons[0], /^Завершить/, 'the other session has no «Завершить»');
        for (const r of table.rows) {
          assert.equal(r.cells[device], 'Chrome, Linux', `device of a Chromium session: ${JSON.stringify(r.cells)}`);
          assert.equal(r.cells[ip], '127.0.0.1', `IP of a session: ${JSON.stringify(r.cells)}`);
        }
        await check(page1, 'security (two sessions)');
      });

      test('«Завершить» on the other row: «Сеанс завершён», and that browser is signed out', async () => {
        const row = page1.locator('main tbody tr', { has: page1.getByRole('button', { name: /^Завершить/ }) });
        assert.equal(await row.count(), 1, 'not exactly one row with «Завершить»');
        const [response] = await Promise.all([
          page1.waitForNavigation({ waitUntil: 'load' }),
          row.getByRole('button', { name: /^Завершить/ }).click(),
        ]);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/security', `«Завершить» led to ${page1.url()}`);
        assert.equal(await notice(page1), 'Сеанс завершён');
        const table = await tableUnder(page1, 'Активные сеансы');
        assert.ok(table, 'no table under «Активные сеансы» after «Завершить»');
        assert.equal(table.rows.length, 1, `sessions after «Завершить»: ${JSON.stringify(table.rows)}`);
        assert.ok(table.rows[0].cells.includes('Этот сеанс'), 'the session left is not this one');
        assert.equal(await cabinetPath(page2), '/login', 'the ended session still opens the cabinet');
        assert.equal(await cabinetPath(page1), '/cabinet', 'the session that ended the other one was signed out');
      });

      test('«История входов»: «Неверный пароль» and «Вход выполнен», newest first', async () => {
        await page1.goto(`${server.baseUrl}/security`);
        const table = await tableUnder(page1, 'История входов');
        assert.ok(table, `no table under «История входов»: «${await mainText(page1)}»`);
        const result = table.headers.indexOf('Результат');
        assert.ok(result >= 0, `no column «Результат»: ${JSON.stringify(table.headers)}`);
        // A's attempts: the wrong password, then the sign-ins of the first and the second browser.
        assert.deepEqual(
          table.rows.map((r) => r.cells[result]),
          ['Вход выполнен', 'Вход выполнен', 'Неверный пароль'],
          `history: ${JSON.stringify(table.rows)}`,
        );
        for (const r of table.rows) {
          assert.ok(r.cells.some((c) => /^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$/.test(c)), `a row without a time: ${JSON.stringify(r.cells)}`);
        }
      });
    });

    describe('3. /security/password', () => {
      test('«Сменить пароль» → the form: h1, three labelled password fields, «Сменить пароль»', async () => {
        // The second browser signs in again, so the change has another session to end.
        await signIn(page2, A.phone, PASSWORD);
        assert.equal(pathOf(page2), '/cabinet', `the second browser's sign-in led to ${page2.url()}`);

        await page1.goto(`${server.baseUrl}/security`);
        const link = page1.getByRole('link', { name: 'Сменить пароль', exact: true });
        assert.equal(await link.count(), 1, '/security has no link «Сменить пароль»');
        const [response] = await Promise.all([page1.waitForNavigation({ waitUntil: 'load' }), link.click()]);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/security/password', `«Сменить пароль» led to ${page1.url()}`);
        assert.equal(await h1Of(page1), 'Смена пароля');
        for (const [label, id] of [
          ['Текущий пароль', 'current_password'],
          ['Новый пароль', 'password'],
          ['Повторите новый пароль', 'password_confirmation'],
        ]) {
          const field = page1.getByLabel(label, { exact: true });
          assert.equal(await field.count(), 1, `one field «${label}»`);
          assert.equal(await field.getAttribute('id'), id, `«${label}» labels #${id}`);
          assert.equal(await field.getAttribute('type'), 'password', `«${label}» is not a password field`);
        }
        assert.equal(await page1.getByRole('button', { name: 'Сменить пароль', exact: true }).count(), 1);
      });

      async function fillChange(current, password, confirmation = password) {
        await page1.getByLabel('Текущий пароль', { exact: true }).fill(current);
        await page1.getByLabel('Новый пароль', { exact: true }).fill(password);
        await page1.getByLabel('Повторите новый пароль', { exact: true }).fill(confirmation);
        return submitAndWait(page1, 'Сменить пароль');
      }

      test('a wrong current password: «Неверный текущий пароль», the fields empty', async () => {
        const response = await fillChange('Зелёный-Чайник#24', NEW_PASSWORD);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/security/password', `a wrong current password led to ${page1.url()}`);
        assert.equal(await h1Of(page1), 'Смена пароля');
        await assertFieldErrors(page1, { current_password: 'Неверный текущий пароль' }, { label: 'wrong current password', javaScriptEnabled });
        await assertPasswordsEmpty(page1, ['Зелёный-Чайник#24', NEW_PASSWORD], 'wrong current password');
        await check(page1, 'security/password (wrong current password)');
        assert.equal(await cabinetPath(page2), '/cabinet', 'a refused change ended the other session');
      });

      test('the change: back on /security with the notice; the other browser is signed out', async () => {
        await page1.goto(`${server.baseUrl}/security/password`);
        // The services' access goes too unless the person unticks it (ticked by default).
        const revoke = page1.getByLabel(/Отозвать и доступ сервисов к данным/);
        assert.equal(await revoke.isChecked(), true, '«Отозвать и доступ сервисов» is not ticked by default');
        const response = await fillChange(PASSWORD, NEW_PASSWORD);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page1), '/security', `the change led to ${page1.url()}: «${await mainText(page1)}»`);
        assert.equal(await h1Of(page1), 'Безопасность');
        assert.equal(
          await notice(page1),
          'Пароль изменён. Сеансы на других устройствах завершены, доступ сервисов к данным отозван',
        );
        const table = await tableUnder(page1, 'Активные сеансы');
        assert.equal(table?.rows.length, 1, `sessions after the change: ${JSON.stringify(table?.rows)}`);
        assert.equal(await cabinetPath(page2), '/login', 'the other browser is still signed in after the change');
        assert.equal(await cabinetPath(page1), '/cabinet', 'the browser that changed the password was signed out');
      });

      test('the old password no longer signs in; the new one does', async () => {
        let response = await signIn(page2, A.phone, PASSWORD);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page2), '/login', `the old password led to ${page2.url()}`);
        const errors = await fieldErrors(page2);
        assert.equal(errors.fields.password?.text, INVALID, `the old password: ${JSON.stringify(errors.fields)}`);

        response = await signIn(page2, A.phone, NEW_PASSWORD);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page2), '/cabinet', `the new password led to ${page2.url()}: «${await mainText(page2)}»`);
        assert.equal(await h1Of(page2), 'Здравствуйте, Елена Павловна!');
      });
    });

    describe('4. /recover', () => {
      let unknownConfirm; // the «Введите код» page for the unknown phone: { text, html }

      /** The «Введите код» page's text and markup, the CSRF token blanked out. */
      const confirmSnapshot = (page) =>
        page.evaluate(() => {
          const main = document.querySelector('main').cloneNode(true);
          for (const el of main.querySelectorAll('input[name="csrf_token"]')) el.setAttribute('value', '');
          return { text: document.querySelector('main').innerText.replace(/\s+/g, ' ').trim(), html: main.innerHTML };
        });

      async function startRecovery(page, login) {
        await page.getByLabel('Телефон или почта', { exact: true }).fill(login);
        countSend();
        return submitAndWait(page, 'Получить код');
      }

      test('the form: h1 «Восстановление доступа», «Телефон или почта», «Получить код»', async () => {
        page3 = await newBrowserPage();
        const response = await page3.goto(`${server.baseUrl}/recover`);
        assert.equal(response.status(), 200);
        assert.equal(await h1Of(page3), 'Восстановление доступа');
        const field = page3.getByLabel('Телефон или почта', { exact: true });
        assert.equal(await field.count(), 1, 'one field «Телефон или почта»');
        assert.equal(await field.getAttribute('id'), 'login');
        assert.equal(await field.inputValue(), '');
        assert.equal(await page3.getByRole('button', { name: 'Получить код', exact: true }).count(), 1);
        await check(page3, 'recover');
      });

      test('an unknown phone: the «Введите код» page with its masked number', async () => {
        const response = await startRecovery(page3, UNKNOWN);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page3), '/recover/confirm', `an unknown phone led to ${page3.url()}: «${await mainText(page3)}»`);
        assert.equal(await h1Of(page3), 'Введите код');
        const text = await mainText(page3);
        assert.ok(text.includes(maskedPhone(UNKNOWN)), `the masked number ${maskedPhone(UNKNOWN)} is not shown: «${text}»`);
        assert.equal(await page3.getByLabel('Код для восстановления', { exact: true }).count(), 1);
        unknownConfirm = await confirmSnapshot(page3);
      });

      test('A\'s phone: the same page with A\'s masked number, and the code by SMS', async () => {
        await page3.goto(`${server.baseUrl}/recover`);
        const response = await startRecovery(page3, A.phone);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page3), '/recover/confirm', `«Получить код» led to ${page3.url()}: «${await mainText(page3)}»`);
        assert.equal(await h1Of(page3), 'Введите код');
        const text = await mainText(page3);
        assert.ok(text.includes(maskedPhone(A.phone)), `the masked number ${maskedPhone(A.phone)} is not shown: «${text}»`);
        assert.ok(!text.includes(shownPhone(A.phone)), 'the page shows the full number');
        const code = page3.getByLabel('Код для восстановления', { exact: true });
        assert.equal(await code.count(), 1, 'no field «Код для восстановления»');
        assert.equal(await code.getAttribute('id'), 'code');
        assert.equal(await page3.getByRole('button', { name: 'Подтвердить', exact: true }).count(), 1);

        assert.ok(unknownConfirm, 'no page for the unknown phone to compare with');
        const mine = await confirmSnapshot(page3);
        const swap = (s) => s.split(maskedPhone(UNKNOWN)).join(maskedPhone(A.phone));
        assert.equal(mine.text, swap(unknownConfirm.text), 'an unknown phone gets another page text');
        assert.equal(mine.html, swap(unknownConfirm.html), 'an unknown phone gets other markup');

        const sms = await waitForOutbox(
          server.baseUrl,
          (l) => smsTo(l, e164(A.phone)).find((m) => RECOVERY_SMS.test(m.body)),
          { what: `the recovery SMS to ${e164(A.phone)}` },
        );
        assert.match(sms.body, /^Код для восстановления доступа: \d{6}\. Никому не сообщайте его\. Госуслуги$/);
      });

      test('no message went to the unknown phone', async () => {
        await sleep(500); // A's SMS, asked for later, is out; give any stray one a moment more
        const list = await readOutbox(server.baseUrl);
        const toUnknown = list.filter((m) => m.to === e164(UNKNOWN) || m.to === UNKNOWN);
        assert.deepEqual(toUnknown, [], 'a message went to the unknown phone');
        // Sign-ins from the other browser contexts also tell A about a new device; count the codes.
        const codes = smsTo(list, e164(A.phone)).filter((m) => !m.body.includes('нового устройства'));
        assert.equal(codes.length, 2, `SMS to A (registration, recovery): ${JSON.stringify(codes)}`);
        assert.ok(
          smsTo(list, e164(A.phone)).some((m) => m.body.includes('с нового устройства (Chrome, Linux)')),
          'the sign-in from the second browser was reported as a new device',
        );
      });

      test('a wrong code is refused; the right one → «Новый пароль»', async () => {
        const list = await readOutbox(server.baseUrl);
        const sms = smsTo(list, e164(A.phone)).find((m) => RECOVERY_SMS.test(m.body));
        assert.ok(sms, 'no recovery SMS');
        const code = sms.body.match(RECOVERY_SMS)[1];

        const field = page3.getByLabel('Код для восстановления', { exact: true });
        await field.fill(wrongCode(code));
        let response = await submitAndWait(page3, 'Подтвердить');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page3), '/recover/confirm', `a wrong code led to ${page3.url()}`);
        assert.equal(await h1Of(page3), 'Введите код');
        await assertFieldErrors(page3, { code: 'Неверный код. Осталось 2 попытки' }, { label: 'wrong code', javaScriptEnabled });
        await check(page3, 'recover/confirm (wrong code)');

        await page3.getByLabel('Код для восстановления', { exact: true }).fill(code);
        response = await submitAndWait(page3, 'Подтвердить');
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page3), '/recover/password', `the right code led to ${page3.url()}: «${await mainText(page3)}»`);
        assert.equal(await h1Of(page3), 'Новый пароль');
        for (const [label, id] of [['Новый пароль', 'password'], ['Повторите пароль', 'password_confirmation']]) {
          const f = page3.getByLabel(label, { exact: true });
          assert.equal(await f.count(), 1, `one field «${label}»`);
          assert.equal(await f.getAttribute('id'), id, `«${label}» labels #${id}`);
          assert.equal(await f.getAttribute('type'), 'password');
        }
        assert.equal(await page3.getByRole('button', { name: 'Сохранить пароль', exact: true }).count(), 1);
      });

      async function fillNew(password, confirmation = password) {
        await page3.getByLabel('Новый пароль', { exact: true }).fill(password);
        await page3.getByLabel('Повторите пароль', { exact: true }).fill(confirmation);
        return submitAndWait(page3, 'Сохранить пароль');
      }

      test('password errors: empty, and a confirmation that differs', async () => {
        const cases = [
          { label: 'no password', input: ['', ''], errors: { password: 'Придумайте новый пароль' } },
          {
            label: 'confirmation differs',
            input: [RECOVERED_PASSWORD, 'Жёлтый-Самовар#37'],
            errors: { password_confirmation: 'Пароли не совпадают. Введите пароль ещё раз' },
          },
        ];
        for (const c of cases) {
          const response = await fillNew(...c.input);
          assert.equal(response.status(), 200, `${c.label}: status`);
          assert.equal(pathOf(page3), '/recover/password', `${c.label}: led to ${page3.url()}`);
          assert.equal(await h1Of(page3), 'Новый пароль', `${c.label}: h1`);
          await assertFieldErrors(page3, c.errors, { label: c.label, javaScriptEnabled });
          await assertPasswordsEmpty(page3, c.input.filter(Boolean), c.label);
          if (c.label === 'no password') await check(page3, 'recover/password (errors)');
        }
      });

      test('the new password → the cabinet with the notice; A\'s other browsers are signed out', async () => {
        assert.equal(await cabinetPath(page2), '/cabinet', 'the second browser was not signed in before the recovery');
        const response = await fillNew(RECOVERED_PASSWORD);
        assert.equal(response.status(), 200);
        assert.equal(pathOf(page3), '/cabinet', `the new password led to ${page3.url()}: «${await mainText(page3)}»`);
        assert.equal(await h1Of(page3), 'Здравствуйте, Елена Павловна!');
        assert.equal(await notice(page3), 'Пароль изменён. Все остальные сеансы завершены');
        assert.equal(await cabinetPath(page2), '/login', 'the second browser is still signed in after the recovery');
        assert.equal(await cabinetPath(page1), '/login', 'the first browser is still signed in after the recovery');
        await page3.goto(`${server.baseUrl}/security`);
        const table = await tableUnder(page3, 'Активные сеансы');
        assert.equal(table?.rows.length, 1, `sessions after the recovery: ${JSON.stringify(table?.rows)}`);
        assert.ok(table.rows[0].cells.includes('Этот сеанс'));
      });
    });

    describe('5. accessibility and layout (one h1, 360 px, axe with JavaScript)', () => {
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
