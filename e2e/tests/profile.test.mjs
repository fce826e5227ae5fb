// Personal data and the standard level, and the contacts, as a person does it in the browser.
//
// The people are the synthetic ones of /demo (development mode), read from that page: one whose
// data all matches becomes standard (with JavaScript the waiting page moves on by itself; without
// it, through its «Обновить статус проверки» link); one whose passport МВД declares invalid and one
// whose SNILS СФР gives to someone else get «Данные не прошли проверку» with the message next to
// the field. Then the contacts: adding an e-mail, changing the phone (the old number is told), and
// «Номер занят» when another account adds a number (the previous holder's e-mail is told).
// Every page on the way gets one h1, no horizontal scrolling at 360×740 and zero serious/critical
// axe findings (JavaScript on).
//
// Rate limits: a server sends at most 5 codes or links per client IP per hour, and every request
// comes from 127.0.0.1, so the file starts two servers. Server 1 (flows 1, 4, 5): A's phone, A's
// new e-mail, A's new phone, B's registration link, B's code for A's number — 5. Server 2
// (flows 2, 3): three registrations — 3.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import {
  PASSWORD,
  e164,
  fieldErrors,
  fillPersonal,
  maskedPhone,
  personalValues,
  readDemoPeople,
  registerByEmail,
  registerByPhone,
  shownPhone,
  sleep,
  smsTo,
  submitAndWait,
  waitForEmail,
  waitForOutbox,
  waitForSmsCode,
} from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const MAX_SENDS_PER_SERVER = 5; // the server refuses the 6th code or link per IP per hour
const RESULT_TIMEOUT_MS = 20_000; // the simulated registries answer after ~3 s

// The pages checked on the way (one h1, 360 px, axe); each is reported by its own test at the end.
const CHECKED_PAGES = [
  '/demo',
  'personal (empty)',
  'personal (errors)',
  'personal (waiting)',
  'personal (verified)',
  'personal (rejected: passport)',
  'personal (rejected: SNILS)',
  'contacts',
  'security/confirm (contacts)',
  'contacts/email',
  'contacts/confirm (e-mail)',
  'contacts/phone',
  'contacts/confirm (number taken)',
];

const OK = /^Все данные сходятся/;
const PASSPORT_INVALID = 'МВД: паспорт недействителен';
const SNILS_MISMATCH = 'СФР: СНИЛС принадлежит другому человеку';
const PASSPORT_INVALID_MESSAGE =
  'Паспорт недействителен по данным МВД. Если вы его заменили, укажите данные нового паспорта';
const VERIFIED_SMS = 'личные данные проверены. Ваша учётная запись стала стандартной.';

const pathOf = (page) => new URL(page.url()).pathname;
const squash = (t) => t.replace(/\s+/g, ' ').trim();
const h1Of = async (page) => squash(await page.locator('h1').innerText());
const mainText = async (page) => squash(await page.locator('main').innerText());
const levelTag = async (page) => squash(await page.locator('main .tag').innerText());

let browser;
let s1; // flows 1, 4, 5
let s2; // flows 2, 3
let people; // from /demo
const contexts = [];
const pageErrors = [];
const checked = new Map(); // label → 'ok' or the error its check threw
const sends = new Map(); // server → codes and links requested

before(async () => {
  // These flows are about what a confirmed contact does once it takes effect: without the
  // 24-hour waiting period (the period and its cancel link: takeover.test.mjs).
  const config = '[auth]\ncontact_change_delay_hours = 0\n';
  [browser, s1, s2] = await Promise.all([launchBrowser(), startServer({ config }), startServer({ config })]);
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await Promise.all([s1?.stop(), s2?.stop()]);
});

/** A new person: a browser context of their own (CSP bypassed so axe can be injected). */
async function newPerson({ javaScriptEnabled = true } = {}) {
  const context = await browser.newContext({ javaScriptEnabled, bypassCSP: true });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  return { context, page };
}

/** Check the page now and record the outcome (the first failure of a label is kept). */
async function check(page, label) {
  assert.ok(CHECKED_PAGES.includes(label), `«${label}» is not in CHECKED_PAGES`);
  try {
    await checkPageShape(page, label);
    if (!(checked.get(label) instanceof Error)) checked.set(label, 'ok');
  } catch (err) {
    checked.set(label, err);
  }
}

/** Count a code or link `server` is about to send. */
function countSend(server) {
  const n = (sends.get(server) ?? 0) + 1;
  assert.ok(n <= MAX_SENDS_PER_SERVER, `this test would request code no. ${n} from one server`);
  sends.set(server, n);
}

/** The form's values for a demo person. */
const personalData = (p) => ({
  sex: p.sex,
  birth_date: p.birth_date,
  birth_place: p.birth_place,
  passport_series: p.passport_series,
  passport_number: p.passport_number,
  passport_issued_on: p.passport_issued_on,
  passport_issuer: p.passport_issuer,
  division_code: p.division_code,
  snils: p.snils,
  inn: p.inn,
  address: p.address,
});

/** From the cabinet, «Заполнить личные данные» → the empty form. */
async function openPersonalFromCabinet(page, baseUrl) {
  if (pathOf(page) !== '/cabinet') await page.goto(`${baseUrl}/cabinet`);
  const link = page.getByRole('link', { name: 'Заполнить личные данные', exact: true });
  assert.equal(await link.count(), 1, `the cabinet has no link «Заполнить личные данные»: «${await mainText(page)}»`);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), link.click()]);
  assert.equal(pathOf(page), '/profile/personal', `«Заполнить личные данные» led to ${page.url()}`);
  assert.equal(await h1Of(page), 'Личные данные');
}

/** Submit the person's data; the answer is the waiting page. */
async function submitForCheck(page, data) {
  await fillPersonal(page, data);
  const response = await submitAndWait(page, 'Отправить на проверку');
  assert.equal(response.status(), 200);
  assert.equal(pathOf(page), '/profile/personal', `the submission led to ${page.url()}`);
  assert.equal(await h1Of(page), 'Ожидание проверки данных', `after submitting: «${await mainText(page)}»`);
}

/** The check state as the waiting page's script sees it. */
async function checkState(page, baseUrl) {
  const res = await page.request.get(`${baseUrl}/profile/personal/status`);
  assert.equal(res.status(), 200, `/profile/personal/status answered ${res.status()}`);
  return (await res.json()).state;
}

/** Follow a link by its exact accessible name and wait for the page it leads to. */
async function follow(page, name) {
  const link = page.getByRole('link', { name, exact: true });
  assert.equal(await link.count(), 1, `no single link «${name}» on ${page.url()}: «${await mainText(page)}»`);
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), link.click()]);
  return response;
}

/** The contacts page's list: label → value. */
async function contactsList(page) {
  return page.evaluate(() => {
    const out = {};
    for (const row of document.querySelectorAll('main .summary-list__row')) {
      const dt = row.querySelector('dt');
      const dd = row.querySelector('dd:not(.summary-list__actions)');
      if (dt && dd) out[dt.textContent.replace(/\s+/g, ' ').trim()] = dd.textContent.replace(/\s+/g, ' ').trim();
    }
    return out;
  });
}

/** The success notice on the contacts page ('' if none). */
async function notice(page) {
  const el = page.locator('main [role="status"]');
  return (await el.count()) ? squash(await el.innerText()) : '';
}

/**
 * Assert the page shows exactly `expected` (field id → exact text or RegExp) next to the fields,
 * in this order, each aria-described and linked from the summary with the same text.
 */
async function assertFieldErrors(page, expected, { label, summaryTitle }) {
  const got = await fieldErrors(page);
  const ids = Object.keys(expected);
  assert.deepEqual(Object.keys(got.fields), ids, `${label}: fields in error: ${JSON.stringify(got.fields, null, 1)}`);
  assert.ok(got.summary, `${label}: no error summary`);
  assert.equal(got.summary.title, summaryTitle, `${label}: summary title`);
  assert.deepEqual(got.summary.links.map((l) => l.href), ids.map((id) => `#${id}`), `${label}: summary links`);
  for (const [i, id] of ids.entries()) {
    const f = got.fields[id];
    if (expected[id] instanceof RegExp) assert.match(f.text, expected[id], `${label}: message next to #${id}`);
    else assert.equal(f.text, expected[id], `${label}: message next to #${id}`);
    assert.ok(f.visible, `${label}: the message for #${id} is not visible`);
    assert.ok(f.described, `${label}: #${id} is not aria-described by its message`);
    assert.equal(got.summary.links[i].text, f.text, `${label}: the summary says something else than #${id}`);
  }
}

/**
 * With JavaScript, the page the person is on moves by itself from the waiting page to the result:
 * wait (no reload) for an h1 other than «Ожидание проверки данных».
 */
async function waitForResultByScript(page) {
  const started = Date.now();
  await page
    .locator('h1', { hasNotText: 'Ожидание проверки данных' })
    .waitFor({ timeout: RESULT_TIMEOUT_MS })
    .catch(async (err) => {
      throw new Error(
        `the waiting page did not move on by itself within ${RESULT_TIMEOUT_MS / 1000} s (h1 «${await h1Of(page).catch(() => '?')}»): ${err.message}`,
      );
    });
  await page.waitForLoadState('load');
  return Date.now() - started;
}

describe('the demo people', () => {
  test('/demo lists people with every field, the outcomes the flows need among them', async () => {
    const { page } = await newPerson();
    people = await readDemoPeople(page, s1.baseUrl);
    assert.equal(await h1Of(page), 'Демонстрационные данные');
    await check(page, '/demo');
    for (const p of people) {
      assert.match(p.snils, /^\d{3}-\d{3}-\d{3} \d{2}$/, `${p.name}: СНИЛС «${p.snils}»`);
      assert.match(p.inn, /^\d{12}$/, `${p.name}: ИНН «${p.inn}»`);
      assert.match(p.birth_date, /^\d{2}\.\d{2}\.\d{4}$/, `${p.name}: birth date «${p.birth_date}»`);
      assert.match(p.division_code, /^\d{3}-\d{3}$/, `${p.name}: division code «${p.division_code}»`);
    }
    assert.ok(people.filter((p) => OK.test(p.outcome)).length >= 3, `fewer than 3 people whose data matches: ${people.map((p) => p.outcome)}`);
    assert.ok(people.some((p) => p.outcome === PASSPORT_INVALID), `no «${PASSPORT_INVALID}» person`);
    assert.ok(people.some((p) => p.outcome === SNILS_MISMATCH), `no «${SNILS_MISMATCH}» person`);
    await page.close();
  });
});

describe('server 1: personal data with JavaScript, contacts, «Номер занят»', () => {
  let A; // registers by phone, becomes standard, adds an e-mail, changes the phone
  let B; // registers by e-mail, then takes A's number
  let pageA;
  let contextA;

  before(() => {
    assert.ok(people, 'the demo people were not read');
    const ok = people.filter((p) => OK.test(p.outcome));
    A = { ...ok[0], phone: '+7 901 555-01-01', newPhone: '+7 901 555-01-09', email: 'a.profile.e2e@example.ru' };
    B = { ...ok[1], email: 'B.Profile.E2E@Example.RU' };
  });

  describe('flow 2: personal data and the standard level', () => {
    test('A registers; the cabinet offers «Заполнить личные данные» → the empty form', async () => {
      ({ page: pageA, context: contextA } = await newPerson());
      countSend(s1);
      await registerByPhone(pageA, s1.baseUrl, A);
      assert.equal(await levelTag(pageA), 'Упрощённая', 'level of a new account');
      await openPersonalFromCabinet(pageA, s1.baseUrl);
      assert.equal(await pageA.locator('input[name="sex"][type="radio"]').count(), 2, 'two sex radios');
      assert.equal(await pageA.getByLabel('Мужской', { exact: true }).getAttribute('value'), 'male');
      assert.equal(await pageA.getByLabel('Женский', { exact: true }).getAttribute('value'), 'female');
      assert.deepEqual(await personalValues(pageA), {
        sex: '', birth_date: '', birth_place: '', passport_series: '', passport_number: '', passport_issued_on: '',
        passport_issuer: '', division_code: '', snils: '', inn: '', address: '',
      }, 'the form does not start empty');
      assert.equal(await pageA.getByRole('button', { name: 'Отправить на проверку', exact: true }).count(), 1);
      assert.equal(await pageA.locator('.error-summary').count(), 0, 'an error summary before submitting');
      assert.equal(await checkState(pageA, s1.baseUrl), 'empty');
      await check(pageA, 'personal (empty)');
    });

    test('bad values: the exact messages next to the fields, typed values kept, nothing submitted', async () => {
      const bad = {
        ...personalData(A),
        sex: '',
        birth_date: '31.02.1990',
        snils: '112-233-445 96',
        inn: '500100732250',
      };
      await fillPersonal(pageA, bad);
      const response = await submitAndWait(pageA, 'Отправить на проверку');
      assert.equal(response.status(), 200);
      assert.equal(pathOf(pageA), '/profile/personal');
      assert.equal(await h1Of(pageA), 'Личные данные');
      assert.match(await pageA.title(), /^Ошибка: /, `title «${await pageA.title()}»`);
      await assertFieldErrors(
        pageA,
        {
          sex: 'Выберите пол',
          birth_date: /^Такой даты нет/,
          snils: 'СНИЛС указан с ошибкой: не сходится контрольное число. Проверьте цифры',
          inn: /^ИНН указан с ошибкой/,
        },
        { label: 'bad values', summaryTitle: 'Исправьте ошибки' },
      );
      assert.deepEqual(await personalValues(pageA), bad, 'typed values were not kept');
      assert.ok(
        await pageA.evaluate(() => document.activeElement?.classList.contains('error-summary')),
        'focus is not on the error summary',
      );
      await check(pageA, 'personal (errors)');
      assert.equal(await checkState(pageA, s1.baseUrl), 'empty', 'bad values were submitted for the check');
    });

    test('the real data: «Ожидание проверки данных», then by itself «Данные проверены», стандартная', async () => {
      let navigations = 0;
      const onNav = (frame) => {
        if (frame === pageA.mainFrame()) navigations += 1;
      };
      await submitForCheck(pageA, personalData(A));
      pageA.on('framenavigated', onNav);
      assert.equal(await pageA.getByRole('link', { name: 'Обновить статус проверки', exact: true }).count(), 1);
      await check(pageA, 'personal (waiting)');
      assert.equal(await checkState(pageA, s1.baseUrl), 'pending');

      const waited = await waitForResultByScript(pageA);
      pageA.off('framenavigated', onNav);
      assert.ok(navigations >= 1, 'the result appeared without a navigation');
      assert.equal(pathOf(pageA), '/profile/personal', `the waiting page moved to ${pageA.url()}`);
      assert.equal(await h1Of(pageA), 'Данные проверены', `after ${waited} ms: «${await mainText(pageA)}»`);
      const text = await mainText(pageA);
      assert.match(text, /стандартная/, `no «стандартная»: «${text}»`);
      assert.ok(text.includes(A.snils), `the verified data do not show the СНИЛС ${A.snils}: «${text}»`);
      assert.ok(text.includes(A.inn), `the verified data do not show the ИНН ${A.inn}: «${text}»`);
      assert.equal(await checkState(pageA, s1.baseUrl), 'verified');
      await check(pageA, 'personal (verified)');
    });

    test('the cabinet shows «Стандартная»; the SMS says the account became standard', async () => {
      await pageA.goto(`${s1.baseUrl}/cabinet`);
      assert.equal(await levelTag(pageA), 'Стандартная');
      assert.equal(await pageA.getByRole('link', { name: 'Заполнить личные данные', exact: true }).count(), 0,
        'a standard account is still asked to fill in its personal data');
      assert.equal(await pageA.getByRole('link', { name: 'Личные данные', exact: true }).count(), 1, 'no link «Личные данные»');
      const sms = await waitForOutbox(
        s1.baseUrl,
        (l) => smsTo(l, e164(A.phone)).find((m) => m.body.includes(VERIFIED_SMS)),
        { what: `the «проверены» SMS to ${e164(A.phone)}` },
      );
      assert.match(sms.body, /^Госуслуги: личные данные проверены\. Ваша учётная запись стала стандартной\.$/);
    });
  });

  describe('flow 3: contacts', () => {
    test('«Контактные данные» → «Добавить» e-mail → code by e-mail → confirmed and listed', async () => {
      assert.ok(pageA, 'A did not register');
      await pageA.goto(`${s1.baseUrl}/cabinet`);
      await follow(pageA, 'Контактные данные');
      assert.equal(pathOf(pageA), '/profile/contacts');
      assert.equal(await h1Of(pageA), 'Контактные данные');
      assert.deepEqual(await contactsList(pageA), {
        'Мобильный телефон': shownPhone(A.phone),
        'Электронная почта': 'Не указана',
      });
      await check(pageA, 'contacts');

      await follow(pageA, 'Добавить электронную почту');
      // Contacts open the account: the password is asked again first.
      assert.equal(pathOf(pageA), '/security/confirm');
      await check(pageA, 'security/confirm (contacts)');
      await pageA.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
      await submitAndWait(pageA, 'Продолжить');
      assert.equal(pathOf(pageA), '/profile/contacts/email');
      assert.equal(await h1Of(pageA), 'Электронная почта');
      const field = pageA.getByLabel('Новый адрес электронной почты', { exact: true });
      assert.equal(await field.count(), 1, 'no field «Новый адрес электронной почты»');
      assert.equal(await field.inputValue(), '');
      await check(pageA, 'contacts/email');
      await field.fill(A.email);
      countSend(s1);
      await submitAndWait(pageA, 'Получить код');
      assert.equal(pathOf(pageA), '/profile/contacts/confirm', `«Получить код» led to ${pageA.url()}`);
      assert.equal(await h1Of(pageA), 'Введите код');
      assert.ok((await mainText(pageA)).includes('a***@example.ru'), `the masked address is not shown: «${await mainText(pageA)}»`);
      assert.equal(await pageA.getByRole('heading', { name: 'Номер занят' }).count(), 0, 'a free address is shown as taken');
      const codeField = pageA.getByLabel('Код подтверждения', { exact: true });
      assert.equal(await codeField.count(), 1, 'no field «Код подтверждения»');
      await check(pageA, 'contacts/confirm (e-mail)');

      const letter = await waitForEmail(s1.baseUrl, A.email, 'Подтверждение адреса электронной почты');
      const m = letter.body.match(/Код подтверждения: (\d{6})(?!\d)/);
      assert.ok(m, `no «Код подтверждения: NNNNNN» in «${letter.body}»`);
      await codeField.fill(m[1]);
      await submitAndWait(pageA, 'Подтвердить');
      assert.equal(pathOf(pageA), '/profile/contacts', `the code led to ${pageA.url()}`);
      assert.equal(await notice(pageA), 'Адрес электронной почты подтверждён и сохранён');
      assert.deepEqual(await contactsList(pageA), {
        'Мобильный телефон': shownPhone(A.phone),
        'Электронная почта': A.email,
      });
    });

    test('«Изменить» the phone: the old number stays until the new one is confirmed, then is told', async () => {
      await follow(pageA, 'Изменить мобильный телефон');
      assert.equal(pathOf(pageA), '/profile/contacts/phone');
      assert.equal(await h1Of(pageA), 'Мобильный телефон');
      await check(pageA, 'contacts/phone');
      await pageA.getByLabel('Новый номер мобильного телефона', { exact: true }).fill(A.newPhone);
      countSend(s1);
      await submitAndWait(pageA, 'Получить код');
      assert.equal(pathOf(pageA), '/profile/contacts/confirm', `«Получить код» led to ${pageA.url()}`);
      assert.ok((await mainText(pageA)).includes(maskedPhone(A.newPhone)), 'the masked new number is not shown');

      // Before confirming: the contacts (in another tab) still list the old number.
      const tab = await contextA.newPage();
      await tab.goto(`${s1.baseUrl}/profile/contacts`);
      assert.deepEqual(await contactsList(tab), {
        'Мобильный телефон': shownPhone(A.phone),
        'Электронная почта': A.email,
      }, 'before confirming, the contacts changed');
      await tab.close();

      const code = await waitForSmsCode(s1.baseUrl, e164(A.newPhone));
      await pageA.getByLabel('Код подтверждения', { exact: true }).fill(code);
      await submitAndWait(pageA, 'Подтвердить');
      assert.equal(pathOf(pageA), '/profile/contacts', `the code led to ${pageA.url()}`);
      assert.equal(await notice(pageA), 'Номер телефона подтверждён и сохранён');
      assert.deepEqual(await contactsList(pageA), {
        'Мобильный телефон': shownPhone(A.newPhone),
        'Электронная почта': A.email,
      });
      const told = await waitForOutbox(
        s1.baseUrl,
        (l) => smsTo(l, e164(A.phone)).find((msg) => msg.body.includes('изменён на')),
        { what: `the «изменён» SMS to the old number ${e164(A.phone)}` },
      );
      assert.ok(told.body.includes(`изменён на ${maskedPhone(A.newPhone)}`), `the old number was told «${told.body}»`);
      assert.ok(!told.body.includes(shownPhone(A.newPhone)) && !told.body.includes(e164(A.newPhone)),
        `the SMS to the old number shows the whole new number: «${told.body}»`);
    });
  });

  describe('flow 4: «Номер занят» when adding a phone', () => {
    let pageB;

    test('B (by e-mail) adds A\'s number: nothing said before the code, nothing of A\'s name', async () => {
      assert.ok(pageA, 'A did not register');
      ({ page: pageB } = await newPerson());
      countSend(s1);
      await registerByEmail(pageB, s1.baseUrl, B);
      await pageB.goto(`${s1.baseUrl}/profile/contacts`);
      assert.deepEqual(await contactsList(pageB), {
        'Мобильный телефон': 'Не указан',
        'Электронная почта': B.email.toLowerCase(),
      });
      await follow(pageB, 'Добавить мобильный телефон');
      assert.equal(pathOf(pageB), '/security/confirm');
      await pageB.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
      await submitAndWait(pageB, 'Продолжить');
      assert.equal(pathOf(pageB), '/profile/contacts/phone');
      const typed = `8 (${e164(A.newPhone).slice(2, 5)}) ${e164(A.newPhone).slice(5, 8)}-${e164(A.newPhone).slice(8, 10)}-${e164(A.newPhone).slice(10)}`;
      await pageB.getByLabel('Новый номер мобильного телефона', { exact: true }).fill(typed);
      countSend(s1);
      await submitAndWait(pageB, 'Получить код');
      assert.equal(pathOf(pageB), '/profile/contacts/confirm', `«Получить код» led to ${pageB.url()}`);
      // Nothing said before the code: that would tell anyone who has an account.
      assert.ok(!(await mainText(pageB)).includes('другой учётной записи'), `«Номер занят» before the code: «${await mainText(pageB)}»`);
      assert.ok((await mainText(pageB)).includes(maskedPhone(A.newPhone)), 'the masked number is not shown');
      const html = await pageB.content();
      for (const part of [A.last_name, A.first_name, A.middle_name].filter(Boolean)) {
        assert.ok(!html.includes(part), `B's page reveals A's name («${part}»)`);
      }
      assert.ok(!html.includes(A.email), "B's page reveals A's e-mail");
      await check(pageB, 'contacts/confirm (number taken)');
    });

    test('B confirms: the number is B\'s, gone from A, and A\'s e-mail is told', async () => {
      assert.ok(pageB, 'B did not get to the confirm page');
      const code = await waitForSmsCode(s1.baseUrl, e164(A.newPhone), 2);
      await pageB.getByLabel('Код подтверждения', { exact: true }).fill(code);
      await submitAndWait(pageB, 'Подтвердить');
      assert.equal(pathOf(pageB), '/profile/contacts', `B's code led to ${pageB.url()}`);
      assert.equal(await notice(pageB), 'Номер телефона подтверждён и сохранён. Номер был указан в другой учётной записи: он отвязан от неё, а её владелец получил уведомление');
      assert.deepEqual(await contactsList(pageB), {
        'Мобильный телефон': shownPhone(A.newPhone),
        'Электронная почта': B.email.toLowerCase(),
      });
      const letter = await waitForEmail(s1.baseUrl, A.email, 'Контакт отвязан от учётной записи');
      assert.match(letter.body, /отвязан от вашей учётной записи/, `the letter to A: «${letter.body}»`);
      for (const part of [B.last_name, B.first_name]) {
        assert.ok(!letter.body.includes(part), `the letter to A names B («${part}»)`);
      }
      await pageA.goto(`${s1.baseUrl}/profile/contacts`);
      assert.deepEqual(await contactsList(pageA), {
        'Мобильный телефон': 'Не указан',
        'Электронная почта': A.email,
      }, "A's contacts after B took the number");
    });
  });
});

describe('server 2: without JavaScript, and data the registries reject', () => {
  let okPerson;
  let passportPerson;
  let snilsPerson;

  before(() => {
    assert.ok(people, 'the demo people were not read');
    const ok = people.filter((p) => OK.test(p.outcome));
    okPerson = { ...ok[2], phone: '+7 901 555-02-01' };
    passportPerson = { ...people.find((p) => p.outcome === PASSPORT_INVALID), phone: '+7 901 555-02-02' };
    snilsPerson = { ...people.find((p) => p.outcome === SNILS_MISMATCH), phone: '+7 901 555-02-03' };
  });

  test('without JavaScript: «Обновить статус проверки» until «Данные проверены»', async () => {
    const { page } = await newPerson({ javaScriptEnabled: false });
    countSend(s2);
    await registerByPhone(page, s2.baseUrl, okPerson);
    await openPersonalFromCabinet(page, s2.baseUrl);
    await submitForCheck(page, personalData(okPerson));
    const refresh = page.getByRole('link', { name: 'Обновить статус проверки', exact: true });
    assert.equal(await refresh.count(), 1, 'no link «Обновить статус проверки»');
    const deadline = Date.now() + 15_000;
    let clicks = 0;
    while ((await h1Of(page)) === 'Ожидание проверки данных') {
      assert.ok(Date.now() < deadline, `still «Ожидание проверки данных» after ${clicks} clicks in 15 s`);
      await sleep(1000);
      const link = page.getByRole('link', { name: 'Обновить статус проверки', exact: true });
      assert.equal(await link.count(), 1, `the waiting page lost its link after ${clicks} clicks`);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), link.click()]);
      clicks += 1;
      assert.equal(pathOf(page), '/profile/personal', `«Обновить статус проверки» led to ${page.url()}`);
    }
    assert.ok(clicks >= 1, 'the result was there before any click');
    assert.equal(await h1Of(page), 'Данные проверены', `after ${clicks} clicks: «${await mainText(page)}»`);
    assert.match(await mainText(page), /стандартная/);
    await page.goto(`${s2.baseUrl}/cabinet`);
    assert.equal(await levelTag(page), 'Стандартная');
  });

  for (const c of [
    {
      name: 'МВД: the passport is invalid',
      person: () => passportPerson,
      label: 'personal (rejected: passport)',
      errors: { passport_number: PASSPORT_INVALID_MESSAGE },
    },
    {
      name: 'СФР: the SNILS belongs to someone else',
      person: () => snilsPerson,
      label: 'personal (rejected: SNILS)',
      errors: { snils: /^СНИЛС не соответствует данным СФР/ },
    },
  ]) {
    test(`${c.name}: «Данные не прошли проверку», the message at the field, the rest kept`, async () => {
      const person = c.person();
      const { page } = await newPerson();
      countSend(s2);
      await registerByPhone(page, s2.baseUrl, person);
      await openPersonalFromCabinet(page, s2.baseUrl);
      const data = personalData(person);
      await submitForCheck(page, data);
      await waitForResultByScript(page);
      assert.equal(pathOf(page), '/profile/personal');
      assert.equal(await h1Of(page), 'Личные данные', `the result page: «${await mainText(page)}»`);
      const heading = page.getByRole('heading', { name: 'Данные не прошли проверку', exact: true });
      assert.equal(await heading.count(), 1, `no «Данные не прошли проверку»: «${await mainText(page)}»`);
      await assertFieldErrors(page, c.errors, { label: c.name, summaryTitle: 'Данные не прошли проверку' });
      assert.deepEqual(await personalValues(page), data, 'the submitted values were not kept');
      assert.equal(await checkState(page, s2.baseUrl), 'failed');
      await check(page, c.label);
      await page.goto(`${s2.baseUrl}/cabinet`);
      assert.equal(await levelTag(page), 'Упрощённая', 'a rejected check changed the level');
      assert.match(await mainText(page), /Данные не прошли проверку/, 'the cabinet does not say the check failed');
    });
  }
});

describe('accessibility and layout of the profile pages', () => {
  for (const label of CHECKED_PAGES) {
    test(label, () => {
      const outcome = checked.get(label);
      if (outcome instanceof Error) throw outcome;
      assert.equal(outcome, 'ok', `the flow did not reach «${label}», so it was not checked`);
    });
  }

  test('no uncaught script errors on any page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
