// Helpers that know the portal's pages: the feedback form, the development outbox,
// and the list of pages every accessibility and layout check visits.
import assert from 'node:assert/strict';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET /dev/outbox.json (newest first). */
export async function readOutbox(baseUrl) {
  const res = await fetch(`${baseUrl}/dev/outbox.json`);
  assert.equal(res.status, 200, `GET /dev/outbox.json answered ${res.status}`);
  assert.match(res.headers.get('content-type') || '', /application\/json/);
  const list = await res.json();
  assert.ok(Array.isArray(list), `/dev/outbox.json is not an array: ${JSON.stringify(list).slice(0, 200)}`);
  return list;
}

/**
 * Poll /dev/outbox.json until `predicate(list)` returns a truthy value (returned), or fail after
 * `timeoutMs` showing what the outbox held.
 */
export async function waitForOutbox(baseUrl, predicate, { timeoutMs = 10_000, what = 'a message' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let list = [];
  for (;;) {
    list = await readOutbox(baseUrl);
    const found = predicate(list);
    if (found) return found;
    if (Date.now() > deadline) {
      assert.fail(`waited ${timeoutMs / 1000} s for ${what} in /dev/outbox.json; it holds:\n${JSON.stringify(list, null, 2)}`);
    }
    await sleep(200);
  }
}

/** SMS messages in the outbox sent to `phone` (E.164, e.g. +79123456789). */
export function smsTo(list, phone) {
  return list.filter((m) => m.channel === 'sms' && m.to === phone);
}

/** Fill the feedback form on the current page (values may be '' to leave a field empty). */
export async function fillFeedback(page, { name, contact, message }) {
  await page.getByLabel('Как к вам обращаться', { exact: true }).fill(name);
  await page.getByLabel('Электронная почта или мобильный телефон', { exact: true }).fill(contact);
  await page.getByLabel('Ваш вопрос', { exact: true }).fill(message);
}

/** Click «Отправить вопрос» and wait for the page the server answers with. */
export async function submitFeedback(page) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/feedback'),
    page.getByRole('button', { name: 'Отправить вопрос' }).click(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

export const BAD_FEEDBACK = { name: '', contact: '8912', message: 'Коротко' };

let phoneCounter = 0;
/** A fresh valid feedback with its own phone, so messages of different tests do not mix. */
export function validFeedback(lastDigits) {
  phoneCounter += 1;
  const tail = String(lastDigits ?? 10 + phoneCounter).padStart(2, '0').slice(-2);
  return {
    name: 'Анна Петрова',
    contact: `+7 912 345-67-${tail}`,
    phone: `+791234567${tail}`,
    message: 'Как получить справку об отсутствии судимости через портал?',
  };
}

/** Open the feedback form and submit invalid input; the page shows the errors. */
export async function openFeedbackWithErrors(page, baseUrl) {
  await page.goto(`${baseUrl}/feedback`);
  await fillFeedback(page, BAD_FEEDBACK);
  return submitFeedback(page);
}

/** Open the feedback form and submit valid input; the page is «Обращение отправлено». */
export async function openFeedbackSent(page, baseUrl, data = validFeedback()) {
  await page.goto(`${baseUrl}/feedback`);
  await fillFeedback(page, data);
  return submitFeedback(page);
}

/** Labels of the registration form (step 1), by field id. */
export const REGISTRATION_LABELS = {
  last_name: 'Фамилия',
  first_name: 'Имя',
  middle_name: 'Отчество (если есть)',
  phone: 'Мобильный телефон',
  email: 'Электронная почта',
};

/**
 * Click a button (or press a key, with `{ key }`) and wait for the page the browser lands on,
 * after any redirects; returns that page's response.
 */
export async function submitAndWait(page, buttonName, { key } = {}) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    key ? page.keyboard.press(key) : page.getByRole('button', { name: buttonName, exact: true }).click(),
  ]);
  return response;
}

/** Fill step 1 of the registration (fields left out of `data` are cleared). */
export async function fillRegistration(page, data) {
  for (const [id, label] of Object.entries(REGISTRATION_LABELS)) {
    await page.getByLabel(label, { exact: true }).fill(data[id] ?? '');
  }
}

export const BAD_REGISTRATION = { last_name: 'Смирнова2', first_name: '', middle_name: 'Сергеевна', phone: '8912', email: '' };

/** Open /register and submit invalid input (no code is sent); the page shows the errors. */
export async function openRegisterWithErrors(page, baseUrl) {
  await page.goto(`${baseUrl}/register`);
  await fillRegistration(page, BAD_REGISTRATION);
  return submitAndWait(page, 'Продолжить');
}

/**
 * The pages every accessibility and layout check visits. `open(page, baseUrl)` navigates and
 * returns the main response; `status` and `h1` are what that page must show; `errors: true`
 * marks a form page showing errors for the fields `errorFields`. Pages that need a code or a
 * link (the later registration steps, the cabinet) are checked in tests/registration.test.mjs,
 * which keeps count of the codes its servers send.
 */
export const PAGES = [
  { name: 'home', status: 200, h1: 'Государственные услуги', open: (p, b) => p.goto(`${b}/`) },
  { name: 'help', status: 200, h1: 'Помощь', open: (p, b) => p.goto(`${b}/help`) },
  { name: 'privacy', status: 200, h1: 'Политика конфиденциальности', open: (p, b) => p.goto(`${b}/privacy`) },
  { name: 'accessibility', status: 200, h1: 'Доступность портала', open: (p, b) => p.goto(`${b}/accessibility`) },
  { name: 'feedback (empty)', status: 200, h1: 'Обратная связь', open: (p, b) => p.goto(`${b}/feedback`) },
  {
    name: 'feedback (errors shown)',
    status: 200,
    h1: 'Обратная связь',
    errors: true,
    errorFields: ['name', 'contact', 'message'],
    open: openFeedbackWithErrors,
  },
  { name: 'register (empty)', status: 200, h1: 'Регистрация', open: (p, b) => p.goto(`${b}/register`) },
  {
    name: 'register (errors shown)',
    status: 200,
    h1: 'Регистрация',
    errors: true,
    errorFields: ['last_name', 'first_name', 'phone'],
    open: openRegisterWithErrors,
  },
  { name: 'login (empty)', status: 200, h1: 'Вход', open: (p, b) => p.goto(`${b}/login`) },
  {
    name: 'login (wrong password)',
    status: 200,
    h1: 'Вход',
    errors: true,
    errorFields: ['password'],
    open: async (p, b) => {
      await p.goto(`${b}/login`);
      await p.fill('#login', '+7 912 999-99-99');
      await p.fill('#password', 'Неверный-Пароль#1');
      const [response] = await Promise.all([
        p.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
        p.getByRole('button', { name: 'Войти', exact: true }).click(),
      ]);
      await p.waitForLoadState('load');
      return response;
    },
  },
  { name: 'recover (empty)', status: 200, h1: 'Восстановление доступа', open: (p, b) => p.goto(`${b}/recover`) },
  { name: 'recover/lost (empty)', status: 200, h1: 'Восстановление без второго фактора', open: (p, b) => p.goto(`${b}/recover/lost`) },
  {
    name: 'recover/lost (errors shown)',
    status: 200,
    h1: 'Восстановление без второго фактора',
    errors: true,
    errorFields: ['email', 'last_name', 'first_name', 'birth_date', 'snils'],
    open: async (p, b) => {
      await p.goto(`${b}/recover/lost`);
      return submitAndWait(p, 'Получить код');
    },
  },
  { name: 'feedback sent', status: 200, h1: 'Обращение отправлено', open: (p, b) => openFeedbackSent(p, b) },
  {
    name: 'dev outbox (with messages)',
    status: 200,
    h1: 'Отправленные сообщения',
    open: async (p, b) => {
      await waitForOutbox(b, (list) => list.length > 0, { what: 'at least one message' });
      return p.goto(`${b}/dev/outbox`);
    },
  },
  { name: '404', status: 404, h1: 'Страница не найдена', open: (p, b) => p.goto(`${b}/no-such-page/at-all`) },
];

// ---------------------------------------------------------------------------------------------
// Registration, demo people and personal data (used by tests/profile.test.mjs and
// tests/zz-no-plaintext.test.mjs).

/** The password every test account gets (passes the portal's policy). */
export const PASSWORD = 'Зелёный-Чайник#42';

/** The SMS with a code, as the portal sends it for registration and for a new contact. */
export const CODE_SMS = /^Код подтверждения: (\d{6})\. Никому не сообщайте его\. Госуслуги$/;

/** `+7 912 345-67-89` (or any spelling) → `+79123456789`. */
export function e164(phone) {
  const digits = phone.replace(/\D/g, '');
  return `+7${digits.slice(-10)}`;
}

/** `+79123456789` → `+7 912 345-67-89`, as the portal shows a number. */
export function shownPhone(phone) {
  const d = e164(phone).slice(2);
  return `+7 ${d.slice(0, 3)} ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8, 10)}`;
}

/** `+79123456789` → `+7 912 ***-**-89`, as the portal masks a number. */
export function maskedPhone(phone) {
  const d = e164(phone).slice(2);
  return `+7 ${d.slice(0, 3)} ***-**-${d.slice(8, 10)}`;
}

/**
 * Wait until `count` SMS have gone to `phone` (E.164) and return the code in the newest one.
 */
export async function waitForSmsCode(baseUrl, phone, count = 1) {
  const list = await waitForOutbox(
    baseUrl,
    (l) => {
      const found = smsTo(l, phone);
      return found.length >= count ? found : null;
    },
    { what: `${count} SMS to ${phone}` },
  );
  assert.equal(list.length, count, `SMS to ${phone}: ${JSON.stringify(list, null, 2)}`);
  const m = list[0].body.match(CODE_SMS);
  assert.ok(m, `the newest SMS to ${phone} has no code: «${list[0].body}»`);
  return m[1];
}

/** Wait for an e-mail to `address` (lowercase) whose subject is `subject`; newest first. */
export async function waitForEmail(baseUrl, address, subject, { count = 1 } = {}) {
  const list = await waitForOutbox(
    baseUrl,
    (l) => {
      const found = l.filter((m) => m.channel === 'email' && m.to === address && m.subject === subject);
      return found.length >= count ? found : null;
    },
    { what: `${count} e-mail(s) «${subject}» to ${address}` },
  );
  return list[0];
}

/** Fill and submit step 3 (password, confirmation, consent); returns the response. */
export async function submitRegistrationPassword(page, { password = PASSWORD, confirmation = password, consent = true } = {}) {
  await page.locator('#password').fill(password);
  await page.locator('#password_confirmation').fill(confirmation);
  await page.locator('#consent').setChecked(consent);
  return submitAndWait(page, 'Зарегистрироваться');
}

/**
 * Register a person by phone in `page` (a fresh context): /register with the name and phone,
 * the SMS code from the outbox, the password → the cabinet. `person` has last_name, first_name,
 * middle_name and phone (any spelling). Sends one code. `smsBefore`: SMS to that phone already
 * in the outbox (the new code is the next one). `site`: the address the browser uses, when it differs
 * from `baseUrl` (passkeys need http://localhost, the outbox is read at 127.0.0.1).
 */
export async function registerByPhone(page, baseUrl, person, { smsBefore = 0, site = baseUrl } = {}) {
  await page.goto(`${site}/register`);
  await fillRegistration(page, { ...person, email: '' });
  await submitAndWait(page, 'Продолжить');
  assert.equal(new URL(page.url()).pathname, '/register/confirm', `step 1 for ${person.last_name} led to ${page.url()}`);
  const code = await waitForSmsCode(baseUrl, e164(person.phone), smsBefore + 1);
  await page.getByLabel('Код из SMS', { exact: true }).fill(code);
  await submitAndWait(page, 'Подтвердить');
  assert.equal(new URL(page.url()).pathname, '/register/password', `the code for ${person.last_name} led to ${page.url()}`);
  const response = await submitRegistrationPassword(page);
  assert.equal(new URL(page.url()).pathname, '/cabinet', `registration of ${person.last_name} ended at ${page.url()}`);
  return response;
}

/**
 * Register a person by e-mail in `page`: /register with the name and e-mail, the link from the
 * outbox (opened in the same tab), «Подтвердить адрес», the password → the cabinet. Sends one link.
 */
export async function registerByEmail(page, baseUrl, person) {
  await page.goto(`${baseUrl}/register`);
  await fillRegistration(page, { ...person, phone: '' });
  await submitAndWait(page, 'Продолжить');
  assert.equal(new URL(page.url()).pathname, '/register/confirm', `step 1 for ${person.last_name} led to ${page.url()}`);
  const address = person.email.toLowerCase();
  const letter = await waitForEmail(baseUrl, address, 'Подтверждение регистрации');
  const found = letter.body.match(/https?:\/\/\S+\/register\/email\/[0-9a-f]{64}/);
  assert.ok(found, `no registration link in «${letter.body}»`);
  await page.goto(found[0]);
  await submitAndWait(page, 'Подтвердить адрес');
  assert.equal(new URL(page.url()).pathname, '/register/password', `the link for ${address} led to ${page.url()}`);
  const response = await submitRegistrationPassword(page);
  assert.equal(new URL(page.url()).pathname, '/cabinet', `registration of ${address} ended at ${page.url()}`);
  return response;
}

/** The demo page's summary-list labels → the personal-data form's field ids. */
export const DEMO_FIELDS = {
  'Пол': 'sex_label',
  'Дата рождения': 'birth_date',
  'Место рождения': 'birth_place',
  'Паспорт: серия и номер': 'passport',
  'Дата выдачи': 'passport_issued_on',
  'Кем выдан': 'passport_issuer',
  'Код подразделения': 'division_code',
  'СНИЛС': 'snils',
  'ИНН': 'inn',
  'Адрес регистрации': 'address',
};

/**
 * The synthetic people of /demo (development mode), read from the page in `page`: for each,
 * the name parts, `outcome` («Результат проверки»), `sex` ('male' | 'female'), `sex_label`,
 * and the form's values by field id (passport_series, passport_number, …).
 */
export async function readDemoPeople(page, baseUrl) {
  const response = await page.goto(`${baseUrl}/demo`);
  assert.equal(response.status(), 200, `/demo answered ${response.status()}`);
  const raw = await page.evaluate(() => {
    const squash = (t) => t.replace(/\s+/g, ' ').trim();
    return [...document.querySelectorAll('main h2')].map((h2) => {
      const person = { name: squash(h2.textContent), outcome: '', rows: {} };
      for (let el = h2.nextElementSibling; el && el.tagName !== 'H2'; el = el.nextElementSibling) {
        const text = squash(el.textContent);
        if (el.tagName === 'P' && text.startsWith('Результат проверки:')) {
          person.outcome = text.replace(/^Результат проверки:\s*/, '');
        }
        if (el.tagName === 'DL') {
          for (const dt of el.querySelectorAll('dt')) {
            const dd = dt.nextElementSibling;
            if (dd && dd.tagName === 'DD') person.rows[squash(dt.textContent)] = squash(dd.textContent);
          }
        }
      }
      return person;
    });
  });
  const people = raw
    .filter((p) => p.outcome)
    .map((p) => {
      const [last_name, first_name, ...rest] = p.name.split(' ');
      const person = { name: p.name, last_name, first_name, middle_name: rest.join(' '), outcome: p.outcome };
      for (const [label, key] of Object.entries(DEMO_FIELDS)) {
        assert.ok(label in p.rows, `/demo: ${p.name} has no «${label}»: ${JSON.stringify(p.rows)}`);
        person[key] = p.rows[label];
      }
      const passport = person.passport.match(/^(\d{2}) ?(\d{2}) (\d{6})$/);
      assert.ok(passport, `/demo: ${p.name}: passport «${person.passport}» is not «SSSS NNNNNN»`);
      person.passport_series = `${passport[1]}${passport[2]}`;
      person.passport_number = passport[3];
      assert.ok(['Мужской', 'Женский'].includes(person.sex_label), `/demo: ${p.name}: sex «${person.sex_label}»`);
      person.sex = person.sex_label === 'Мужской' ? 'male' : 'female';
      return person;
    });
  assert.ok(people.length > 0, '/demo lists no people');
  return people;
}

/** The text fields of /profile/personal, by id, in the form's order. */
export const PERSONAL_TEXT_FIELDS = [
  'birth_date',
  'birth_place',
  'passport_series',
  'passport_number',
  'passport_issued_on',
  'passport_issuer',
  'division_code',
  'snils',
  'inn',
  'address',
];

/**
 * Fill /profile/personal with `data` (field id → value; `sex` 'male' | 'female' | '' for none —
 * with '' no radio is touched, so none is checked on a fresh form).
 */
export async function fillPersonal(page, data) {
  if (data.sex) {
    await page.getByLabel(data.sex === 'male' ? 'Мужской' : 'Женский', { exact: true }).check();
  }
  for (const id of PERSONAL_TEXT_FIELDS) await page.locator(`#${id}`).fill(data[id] ?? '');
}

/** The current values of /profile/personal: the text fields and the checked sex ('' if none). */
export async function personalValues(page) {
  const values = {
    sex: await page.evaluate(() => document.querySelector('input[name="sex"]:checked')?.value ?? ''),
  };
  for (const id of PERSONAL_TEXT_FIELDS) values[id] = await page.locator(`#${id}`).inputValue();
  return values;
}

/**
 * Errors next to the fields on a form page: field id (the first input of the form group that
 * shows an `.error-message`) → { text, described } where `described` says whether the input, or
 * for a radio group its fieldset, is aria-described by that message; and the summary's links.
 */
export async function fieldErrors(page) {
  return page.evaluate(() => {
    const clean = (t) => t.replace(/\s+/g, ' ').replace(/^\s*Ошибка:\s*/, '').trim();
    const fields = {};
    for (const msg of document.querySelectorAll('main form .error-message')) {
      const group = msg.closest('.form-group');
      const input = group?.querySelector('input, select, textarea');
      const id = input?.id || `(no field for «${clean(msg.textContent)}»)`;
      const owner = input?.type === 'radio' ? input.closest('fieldset') : input;
      const described = ((owner && owner.getAttribute('aria-describedby')) || '').split(/\s+/).includes(msg.id);
      const r = msg.getBoundingClientRect();
      fields[id] = { text: clean(msg.textContent), described: Boolean(msg.id) && described, visible: r.width > 0 && r.height > 0 };
    }
    const summary = document.querySelector('.error-summary');
    return {
      fields,
      summary: summary
        ? {
            title: summary.querySelector('h2')?.textContent.replace(/\s+/g, ' ').trim() ?? '',
            links: [...summary.querySelectorAll('a')].map((a) => ({
              href: a.getAttribute('href'),
              text: a.textContent.replace(/\s+/g, ' ').trim(),
            })),
          }
        : null,
    };
  });
}
