// Second factors as a person sets them up and uses them in the browser.
//
// 1. The authenticator app, with and without JavaScript: «Подключить приложение» asks for the
//    password first; the page shows a QR code and the key as text; the code is computed by Debian's
//    oathtool from that text (not by our code); ten backup codes are shown once; after «Выйти» the
//    password alone leads to «Подтверждение входа», where a wrong code is refused at the field and
//    oathtool's next code signs in; a backup code signs in once.
// 2. Passkeys, with JavaScript (browsers offer WebAuthn only to scripts), through Chromium's
//    virtual authenticator (CTAP2, resident keys, user verification): «Добавить ключ доступа»,
//    then the key as the second step after the password, then «Войти по биометрии» without a
//    password; the login history names «Ключ доступа». The site is opened at http://localhost
//    because browsers refuse IP addresses as WebAuthn relying parties.
// 3. Every page on the way: one h1, 360 px, axe (with JavaScript).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import { PASSWORD, registerByPhone, submitAndWait } from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const pathOf = (page) => new URL(page.url()).pathname;
const squash = (t) => t.replace(/\s+/g, ' ').trim();

/** The TOTP code oathtool computes for a base32 key at `unix` seconds. */
function oathtool(secret, unix) {
  return execFileSync('oathtool', ['--totp', '-b', '-N', `@${unix}`, secret], { encoding: 'utf8' }).trim();
}
const nowSecs = () => Math.floor(Date.now() / 1000);

async function confirmPassword(page) {
  assert.equal(pathOf(page), '/security/confirm', `expected the password check, got ${page.url()}`);
  await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
  await submitAndWait(page, 'Продолжить');
}

async function signOut(page) {
  await submitAndWait(page, 'Выйти');
  assert.equal(pathOf(page), '/');
}

async function passwordStep(page, site, phone) {
  await page.goto(`${site}/login`);
  await page.getByLabel('Телефон, почта или СНИЛС', { exact: true }).fill(phone);
  await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
  await submitAndWait(page, 'Войти');
}

describe('second factors', () => {
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

  async function newPage(javaScriptEnabled) {
    const context = await browser.newContext({ javaScriptEnabled, bypassCSP: true });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    return page;
  }

  for (const javaScriptEnabled of [true, false]) {
    const mode = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';
    const phone = `+7 912 500-00-${javaScriptEnabled ? '01' : '02'}`;

    test(`the authenticator app is set up and asked at sign-in, ${mode}`, async () => {
      const page = await newPage(javaScriptEnabled);
      const base = server.baseUrl;
      await registerByPhone(page, base, { last_name: 'Орлова', first_name: 'Мария', middle_name: '', phone });
      await page.goto(`${base}/security/factors`);
      await checkPageShape(page, 'security/factors', { axe: javaScriptEnabled });
      await page.getByRole('link', { name: 'Подключить приложение', exact: true }).click();
      await page.waitForLoadState();
      await confirmPassword(page);
      assert.equal(pathOf(page), '/security/factors/totp');
      assert.equal(await page.locator('main svg[role="img"]').count(), 1, 'no QR code');
      await checkPageShape(page, 'security/factors/totp', { axe: javaScriptEnabled });
      const secret = (await page.locator('#secret').innerText()).replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);

      await page.getByLabel('Код из приложения', { exact: true }).fill('000000' === oathtool(secret, nowSecs()) ? '111111' : '000000');
      await submitAndWait(page, 'Подключить');
      assert.match(squash(await page.locator('#code-error').innerText()), /Неверный код/);
      await page.getByLabel('Код из приложения', { exact: true }).fill(oathtool(secret, nowSecs()));
      await submitAndWait(page, 'Подключить');
      assert.equal(await page.locator('h1').innerText(), 'Резервные коды');
      const codes = (await page.locator('#backup-codes li').allInnerTexts()).map(squash);
      assert.equal(codes.length, 10);
      for (const c of codes) assert.match(c, /^\d{4} \d{4}$/);
      await checkPageShape(page, 'backup codes', { axe: javaScriptEnabled });

      await signOut(page);
      await passwordStep(page, base, phone);
      assert.equal(pathOf(page), '/login/factor');
      await checkPageShape(page, 'login/factor (app)', { axe: javaScriptEnabled });
      await page.getByLabel('Код из приложения-аутентификатора', { exact: true }).fill('12345');
      await submitAndWait(page, 'Войти');
      assert.equal(pathOf(page), '/login/factor');
      assert.match(await page.title(), /^Ошибка: /);
      await page.getByLabel('Код из приложения-аутентификатора', { exact: true }).fill(oathtool(secret, nowSecs() + 30));
      await submitAndWait(page, 'Войти');
      assert.equal(pathOf(page), '/cabinet', `the app code led to ${page.url()}`);

      // A backup code, once.
      await signOut(page);
      await passwordStep(page, base, phone);
      await page.getByRole('link', { name: 'Резервный код', exact: true }).click();
      await page.waitForLoadState();
      await page.getByLabel('Резервный код', { exact: true }).fill(codes[0]);
      await submitAndWait(page, 'Войти');
      assert.equal(pathOf(page), '/cabinet');
      await page.goto(`${base}/security`);
      const history = squash(await page.locator('main').innerText());
      assert.match(history, /Код из приложения/);
      assert.match(history, /Резервный код/);

      // The alerts: kept in the cabinet; new-device alerts cannot be turned off.
      await page.goto(`${base}/notifications`);
      assert.match(squash(await page.locator('main').innerText()), /Изменение способов входа/);
      await checkPageShape(page, 'notifications', { axe: javaScriptEnabled });
      await page.goto(`${base}/security/alerts`);
      await page.getByLabel('По СМС').first().uncheck();
      await page.getByLabel('По электронной почте').first().uncheck();
      await submitAndWait(page, 'Сохранить');
      assert.match(await page.title(), /^Ошибка: /);
      assert.match(squash(await page.locator('#new_device_sms-error').innerText()), /отключить нельзя/);
      await checkPageShape(page, 'security/alerts (error)', { axe: javaScriptEnabled });
    });
  }

  test('passkeys: added, asked after the password, and «Войти по биометрии»', async () => {
    const site = server.baseUrl.replace('127.0.0.1', 'localhost');
    const page = await newPage(true);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const phone = '+7 912 500-00-03';
    await registerByPhone(page, server.baseUrl, { last_name: 'Орлова', first_name: 'Анна', middle_name: '', phone }, { site });
    await page.goto(`${site}/security/factors`);
    await page.getByRole('link', { name: 'Добавить ключ доступа', exact: true }).click();
    await page.waitForLoadState();
    await confirmPassword(page);
    assert.equal(pathOf(page), '/security/factors/passkey');
    await checkPageShape(page, 'security/factors/passkey');
    await page.getByLabel('Название ключа', { exact: true }).fill('Ноутбук');
    await Promise.all([page.waitForURL('**/security/factors/codes'), page.getByRole('button', { name: 'Добавить ключ' }).click()]);
    assert.equal((await page.locator('#backup-codes li').count()), 10);
    await page.goto(`${site}/security/factors`);
    assert.match(squash(await page.locator('main').innerText()), /Ноутбук, добавлен/);

    await signOut(page);
    await passwordStep(page, site, phone);
    assert.equal(pathOf(page), '/login/factor');
    await checkPageShape(page, 'login/factor (passkey)');
    await Promise.all([page.waitForURL('**/cabinet'), page.getByRole('button', { name: 'Подтвердить ключом доступа' }).click()]);

    await signOut(page);
    await page.goto(`${site}/login`);
    await checkPageShape(page, 'login (with «Войти по биометрии»)');
    await Promise.all([page.waitForURL('**/cabinet'), page.getByRole('button', { name: 'Войти по биометрии' }).click()]);
    await page.goto(`${site}/security`);
    assert.match(squash(await page.locator('main').innerText()), /Ключ доступа/);
  });

  test('no script errors on the way', () => {
    assert.deepEqual(pageErrors, []);
  });
});
