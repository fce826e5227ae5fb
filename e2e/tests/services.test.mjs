// Services as a person uses them: finds a service by a search in everyday words, opens its card,
// «Получить услугу», fills a two-step form (a refused e-mail shown next to its field), leaves the
// draft, comes back from «Мои заявления», checks «Проверьте данные» and sends — all of it with
// JavaScript off. The same pages, visited with JavaScript on, get one h1, no horizontal
// scrolling at 360×740 and zero serious/critical axe findings.
//
// The person becomes standard first (the service needs it): registered by phone, then the data
// of the demo person whose records all match.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import { fillPersonal, readDemoPeople, registerByPhone, submitAndWait } from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

let server;
let browser;
let withJs; // axe needs script; bypassCSP lets it be injected
let noJs;

const pathOf = (page) => new URL(page.url()).pathname;
const squash = (t) => t.replace(/\s+/g, ' ').trim();
const mainText = async (page) => squash(await page.locator('main').innerText());

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  withJs = await browser.newContext({ bypassCSP: true });
  noJs = await browser.newContext({ javaScriptEnabled: false });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Checks the page's shape in the JavaScript context, on the same session. */
async function shape(path, label) {
  const page = await withJs.newPage();
  const response = await page.goto(`${server.baseUrl}${path}`);
  assert.ok(response.status() < 500, `${label}: ${response.status()}`);
  await checkPageShape(page, label);
  await page.close();
}

test('a standard citizen finds a service, fills the form without JavaScript, saves a draft and sends it', async () => {
  const b = server.baseUrl;
  const setup = await withJs.newPage();
  const people = await readDemoPeople(setup, b);
  const person = people.find((p) => /^Все данные сходятся/.test(p.outcome));
  assert.ok(person, 'a demo person whose data all match');
  await registerByPhone(setup, b, { ...person, phone: '+7 912 000-77-01' });
  await setup.goto(`${b}/profile/personal`);
  await fillPersonal(setup, person);
  await submitAndWait(setup, 'Отправить на проверку');
  for (let i = 0; i < 60; i++) {
    const res = await setup.request.get(`${b}/profile/personal/status`);
    if ((await res.json()).state === 'verified') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await setup.close();
  await noJs.addCookies(await withJs.cookies());

  const page = await noJs.newPage();
  await page.goto(`${b}/`);
  await page.getByLabel('Найти услугу', { exact: true }).fill('выписку из егрн на квартиру');
  await submitAndWait(page, 'Найти');
  assert.equal(pathOf(page), '/search');
  const first = page.locator('main .results__title a').first();
  assert.match(await first.innerText(), /Выписка из ЕГРН/, await mainText(page));
  await Promise.all([page.waitForNavigation(), first.click()]);
  const card = pathOf(page);
  assert.equal(card, '/services/egrn-extract');
  assert.match(await mainText(page), /Госпошлина 350 ₽/);
  await submitAndWait(page, 'Получить услугу');
  assert.match(pathOf(page), /^\/applications\/[0-9a-f-]{36}\/step\/0$/);
  const id = pathOf(page).split('/')[2];
  // The verified name is shown, not asked.
  assert.match(await mainText(page), new RegExp(`${person.last_name} — проверено`));
  await page.getByLabel('Электронная почта', { exact: true }).fill('не адрес');
  const refused = await submitAndWait(page, 'Продолжить');
  assert.equal(refused.status(), 200);
  assert.match(await page.title(), /^Ошибка: /);
  const described = await page.locator('#email').getAttribute('aria-describedby');
  assert.ok(described?.includes('email-error'), `the field points at its message: ${described}`);
  await page.getByLabel('Электронная почта', { exact: true }).fill('smirnova@example.ru');
  await submitAndWait(page, 'Продолжить');
  assert.equal(pathOf(page), `/applications/${id}/step/1`);
  await page.getByLabel('Квартира или комната', { exact: true }).check();
  await page.getByLabel('Кадастровый номер', { exact: true }).fill('77:01:0001001:1234');
  await page.getByLabel('Об объекте недвижимости', { exact: true }).check();
  await submitAndWait(page, 'Сохранить черновик и выйти');
  assert.equal(pathOf(page), '/applications');
  assert.match(await mainText(page), /Черновик сохранён/);
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Продолжить: Выписка из ЕГРН об объекте недвижимости' }).click()]);
  assert.equal(pathOf(page), `/applications/${id}/review`, 'the draft resumes where it stopped');
  assert.match(await mainText(page), /Проверьте данные/);
  assert.match(await mainText(page), /77:01:0001001:1234/);
  await submitAndWait(page, 'Отправить заявление');
  assert.equal(pathOf(page), `/applications/${id}`);
  const text = await mainText(page);
  assert.match(text, /Заявление отправлено\. Его номер — \d{10}/);
  assert.match(text, /Статус Отправлено/);
  assert.match(text, /МСК/);
  // The review of a sent application leads to the application, not to a form to send again.
  await page.goto(`${b}/applications/${id}/review`);
  assert.equal(pathOf(page), `/applications/${id}`);
  await page.goto(`${b}/applications`);
  assert.equal(await page.locator('main table tbody tr').count(), 1, await mainText(page));
  await page.close();

  for (const [path, label] of [
    ['/', 'home'],
    ['/services', 'catalogue'],
    ['/services/category/realty', 'category'],
    [card, 'service card'],
    ['/search?q=загран', 'search results'],
    ['/search?q=ыыыыы', 'search (nothing found)'],
    ['/applications', 'my applications'],
    [`/applications/${id}`, 'an application'],
  ]) {
    await shape(path, label);
  }
});

test('a new draft: its steps and the review pass the same checks', async () => {
  const b = server.baseUrl;
  const page = await withJs.newPage();
  await page.goto(`${b}/services/doctor-appointment`);
  await submitAndWait(page, 'Получить услугу');
  const id = pathOf(page).split('/')[2];
  await checkPageShape(page, 'step 1');
  await page.getByLabel('Номер полиса ОМС', { exact: true }).fill('1234567890123456');
  await page.getByLabel('Телефон для связи', { exact: true }).fill('+7 912 000-77-01');
  await submitAndWait(page, 'Продолжить');
  await checkPageShape(page, 'step 2');
  await submitAndWait(page, 'Продолжить');
  assert.match(await page.title(), /^Ошибка: /);
  await checkPageShape(page, 'step 2 with errors');
  await page.getByLabel('Терапевт', { exact: true }).check();
  await page.getByLabel('Желаемая дата приёма', { exact: true }).fill('15.12.2026');
  await submitAndWait(page, 'Продолжить');
  assert.equal(pathOf(page), `/applications/${id}/review`);
  await checkPageShape(page, 'review');
  await page.close();
});
