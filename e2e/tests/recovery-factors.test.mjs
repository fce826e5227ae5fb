// Recovery and deactivation of an account with a second factor, in the browser, with and without
// JavaScript.
//
// 1. A person registers, turns the authenticator app on and signs out.
// 2. /recover with the phone → the code by SMS → «Восстановление доступа» asks for the app code
//    (computed by Debian's oathtool) → the new password → the cabinet.
// 3. «Отключить учётную запись» with the password and the checkbox → «Учётная запись отключена»;
//    the cabinet is closed; signing in (password, then a backup code) restores the account and
//    says so.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import {
  CODE_SMS,
  PASSWORD,
  e164,
  fillPersonal,
  readDemoPeople,
  registerByPhone,
  submitAndWait,
  waitForOutbox,
} from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const NEW_PASSWORD = 'Жёлтый-Самовар#73';
const RECOVERY_SMS = /^Код для восстановления доступа: (\d{6})(?!\d)/;
const pathOf = (page) => new URL(page.url()).pathname;
const squash = (t) => t.replace(/\s+/g, ' ').trim();
const oathtool = (secret, unix) =>
  execFileSync('oathtool', ['--totp', '-b', '-N', `@${unix}`, secret], { encoding: 'utf8' }).trim();
const nowSecs = () => Math.floor(Date.now() / 1000);

describe('recovery and deactivation with a second factor', () => {
  let browser;
  let server;
  const contexts = [];
  const pageErrors = [];

  before(async () => {
    [browser, server] = await Promise.all([launchBrowser(), startServer()]);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  for (const javaScriptEnabled of [true, false]) {
    const mode = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';
    const phone = `+7 912 600-00-${javaScriptEnabled ? '01' : '02'}`;

    test(`recovery asks for the app code, and deactivation is undone by signing in, ${mode}`, async () => {
      const context = await browser.newContext({ javaScriptEnabled, bypassCSP: true });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
      const base = server.baseUrl;
      await registerByPhone(page, base, { last_name: 'Громова', first_name: 'Ольга', middle_name: '', phone });

      // The app, set up with oathtool's code.
      await page.goto(`${base}/security/factors/totp`);
      assert.equal(pathOf(page), '/security/confirm');
      await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
      await submitAndWait(page, 'Продолжить');
      const secret = (await page.locator('#secret').innerText()).replace(/\s+/g, '');
      await page.getByLabel('Код из приложения', { exact: true }).fill(oathtool(secret, nowSecs()));
      await submitAndWait(page, 'Подключить');
      const codes = (await page.locator('#backup-codes li').allInnerTexts()).map(squash);
      assert.equal(codes.length, 10);
      await submitAndWait(page, 'Выйти');

      // Recovery: the SMS code, then the app code, then the new password.
      await page.goto(`${base}/recover`);
      await page.getByLabel('Телефон или почта', { exact: true }).fill(phone);
      await submitAndWait(page, 'Получить код');
      const sms = await waitForOutbox(
        base,
        (l) => l.find((m) => m.channel === 'sms' && m.to === e164(phone) && RECOVERY_SMS.test(m.body)),
        { what: `the recovery code to ${phone}` },
      );
      await page.getByLabel('Код для восстановления', { exact: true }).fill(sms.body.match(RECOVERY_SMS)[1]);
      await submitAndWait(page, 'Подтвердить');
      assert.equal(pathOf(page), '/login/factor', `after the recovery code: ${page.url()}`);
      assert.equal(squash(await page.locator('h1').innerText()), 'Восстановление доступа');
      await checkPageShape(page, 'recovery: the second factor', { axe: javaScriptEnabled });
      await page.getByLabel('Код из приложения-аутентификатора', { exact: true }).fill(oathtool(secret, nowSecs() + 30));
      await submitAndWait(page, 'Продолжить');
      assert.equal(pathOf(page), '/recover/password');
      await page.getByLabel('Новый пароль', { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel('Повторите пароль', { exact: true }).fill(NEW_PASSWORD);
      await submitAndWait(page, 'Сохранить пароль');
      assert.equal(pathOf(page), '/cabinet');

      // Deactivation, then signing in again restores the account.
      await page.goto(`${base}/security/deactivate`);
      await checkPageShape(page, 'security/deactivate', { axe: javaScriptEnabled });
      await page.getByLabel('Пароль', { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel(/Понимаю, что без входа/).check();
      await submitAndWait(page, 'Отключить учётную запись');
      assert.equal(squash(await page.locator('h1').innerText()), 'Учётная запись отключена');
      await checkPageShape(page, 'deactivated', { axe: javaScriptEnabled });
      await page.goto(`${base}/cabinet`);
      assert.equal(pathOf(page), '/login');
      await page.getByLabel('Телефон, почта или СНИЛС', { exact: true }).fill(phone);
      await page.getByLabel('Пароль', { exact: true }).fill(NEW_PASSWORD);
      await submitAndWait(page, 'Войти');
      assert.equal(pathOf(page), '/login/factor');
      // The app's next code was used by the recovery, and each code works once: a backup code.
      await page.getByRole('link', { name: 'Резервный код', exact: true }).click();
      await page.waitForLoadState();
      await page.getByLabel('Резервный код', { exact: true }).fill(codes[0]);
      await submitAndWait(page, 'Войти');
      assert.equal(pathOf(page), '/cabinet');
      assert.match(squash(await page.locator('main').innerText()), /Учётная запись снова активна: отключение отменено/);
    });
  }

  test('no script errors on the way', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe('the lost-factor path («Восстановление без второго фактора»)', () => {
  let browser;
  let server;
  let context;

  before(async () => {
    // The e-mail added below must be in effect for the lost-factor path at once.
    [browser, server] = await Promise.all([
      launchBrowser(),
      startServer({ config: '[auth]\ncontact_change_delay_hours = 0\n' }),
    ]);
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  test('verified data + a code to the e-mail + a new phone turn the factor off', async () => {
    context = await browser.newContext({ javaScriptEnabled: true, bypassCSP: true });
    const page = await context.newPage();
    const base = server.baseUrl;
    const people = await readDemoPeople(page, base);
    const p = people.find((x) => /^Все данные сходятся/.test(x.outcome));
    assert.ok(p, 'no demo person whose data match');
    const phone = '+7 912 600-00-03';
    const newPhone = '+7 912 600-00-04';
    const email = 'lost.e2e@example.ru';
    await registerByPhone(page, base, { ...p, phone });

    // Verified personal data.
    await page.goto(`${base}/profile/personal`);
    await fillPersonal(page, p);
    await submitAndWait(page, 'Отправить на проверку');
    for (let i = 0; i < 100 && squash(await page.locator('h1').innerText()) !== 'Данные проверены'; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      await page.goto(`${base}/profile/personal`);
    }
    assert.equal(squash(await page.locator('h1').innerText()), 'Данные проверены');

    // An e-mail, confirmed by its code.
    await page.goto(`${base}/profile/contacts/email`);
    assert.equal(pathOf(page), '/security/confirm');
    await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
    await submitAndWait(page, 'Продолжить');
    await page.getByLabel('Новый адрес электронной почты', { exact: true }).fill(email);
    await submitAndWait(page, 'Получить код');
    const mail = await waitForOutbox(base, (l) => l.find((m) => m.channel === 'email' && m.to === email), { what: 'the e-mail code' });
    await page.getByLabel('Код подтверждения', { exact: true }).fill(mail.body.match(/\b(\d{6})\b/)[1]);
    await submitAndWait(page, 'Подтвердить');

    // The app on (the password was checked for the e-mail a moment ago), then everything «lost».
    await page.goto(`${base}/security/factors/totp`);
    const secret = (await page.locator('#secret').innerText()).replace(/\s+/g, '');
    await page.getByLabel('Код из приложения', { exact: true }).fill(oathtool(secret, nowSecs()));
    await submitAndWait(page, 'Подключить');
    await submitAndWait(page, 'Выйти');

    await page.goto(`${base}/recover/lost`);
    await page.getByLabel('Электронная почта учётной записи', { exact: true }).fill(email);
    await page.getByLabel('Фамилия', { exact: true }).fill(p.last_name);
    await page.getByLabel('Имя', { exact: true }).fill(p.first_name);
    await page.getByLabel('Отчество (если есть)', { exact: true }).fill(p.middle_name);
    await page.getByLabel('Дата рождения', { exact: true }).fill(p.birth_date);
    await page.getByLabel('СНИЛС', { exact: true }).fill(p.snils);
    await page.getByLabel('Пароль от учётной записи', { exact: true }).fill(PASSWORD);
    await submitAndWait(page, 'Получить код');
    assert.equal(pathOf(page), '/recover/lost/confirm');
    await checkPageShape(page, 'recover/lost/confirm');
    const letter = await waitForOutbox(
      base,
      (l) => l.find((m) => m.channel === 'email' && m.to === email && /восстановления доступа/.test(m.body)),
      { what: 'the lost-factor code' },
    );
    await page.getByLabel('Код из письма', { exact: true }).fill(letter.body.match(/\b(\d{6})\b/)[1]);
    await submitAndWait(page, 'Подтвердить');
    assert.equal(pathOf(page), '/recover/lost/phone');
    await checkPageShape(page, 'recover/lost/phone');
    await page.getByLabel('Мобильный телефон', { exact: true }).fill(newPhone);
    await submitAndWait(page, 'Получить код');
    const sms = await waitForOutbox(
      base,
      (l) => l.find((m) => m.channel === 'sms' && m.to === e164(newPhone) && CODE_SMS.test(m.body)),
      { what: 'the code to the new phone' },
    );
    await page.getByLabel('Код из СМС', { exact: true }).fill(sms.body.match(CODE_SMS)[1]);
    await submitAndWait(page, 'Подтвердить');
    assert.equal(squash(await page.locator('h1').innerText()), 'Доступ восстановлен');
    await checkPageShape(page, 'recover/lost done');

    // The new phone and the password sign in without a second step.
    await page.goto(`${base}/login`);
    await page.getByLabel('Телефон, почта или СНИЛС', { exact: true }).fill(newPhone);
    await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
    await submitAndWait(page, 'Войти');
    assert.equal(pathOf(page), '/cabinet');
  });
});
