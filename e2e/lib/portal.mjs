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
