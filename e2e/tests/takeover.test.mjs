// The two account-takeover paths, walked in the browser as the attacker would, with the default
// 24-hour waiting period for contact changes:
//
// 1. A stolen session: the thief copies the owner's cookies into another browser and goes for
//    «Контактные данные». The password is asked first (the thief does not have it). The owner,
//    with the authenticator app on, gives the password and then the app code («Подтверждение
//    действия»); the new number waits 24 hours; the old number gets an SMS with a link that
//    cancels the change and ends every session — including the thief's.
// 2. A SIM swap: whoever holds the number recovers by SMS; the account also has the app, so the
//    second step is asked, and an SMS code is refused there even when posted directly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import { PASSWORD, e164, readOutbox, registerByPhone, smsTo, submitAndWait, waitForOutbox } from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const pathOf = (page) => new URL(page.url()).pathname;
const squash = (t) => t.replace(/\s+/g, ' ').trim();
const oathtool = (secret, unix) =>
  execFileSync('oathtool', ['--totp', '-b', '-N', `@${unix}`, secret], { encoding: 'utf8' }).trim();
const nowSecs = () => Math.floor(Date.now() / 1000);

/** Turns the authenticator app on for the signed-in `page`; returns its secret. */
async function enableApp(page, base) {
  await page.goto(`${base}/security/factors/totp`);
  assert.equal(pathOf(page), '/security/confirm');
  await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
  await submitAndWait(page, 'Продолжить');
  const secret = (await page.locator('#secret').innerText()).replace(/\s+/g, '');
  await page.getByLabel('Код из приложения', { exact: true }).fill(oathtool(secret, nowSecs()));
  await submitAndWait(page, 'Подключить');
  return secret;
}

describe('account takeover', () => {
  let browser;
  let server;
  const contexts = [];

  before(async () => {
    [browser, server] = await Promise.all([launchBrowser(), startServer()]);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  async function newContext() {
    const context = await browser.newContext({ bypassCSP: true });
    contexts.push(context);
    return context;
  }

  test('a stolen session cannot change the phone; the owner can, and the old number can cancel it', async () => {
    const base = server.baseUrl;
    const phone = '+7 912 700-00-01';
    const newPhone = '+7 912 700-00-02';
    const owner = await newContext();
    const page = await owner.newPage();
    await registerByPhone(page, base, { last_name: 'Орлова', first_name: 'Вера', middle_name: '', phone });
    const secret = await enableApp(page, base);

    // The thief's browser with the owner's cookies.
    const thiefContext = await newContext();
    await thiefContext.addCookies(await owner.cookies());
    const thief = await thiefContext.newPage();
    await thief.goto(`${base}/cabinet`);
    assert.equal(pathOf(thief), '/cabinet', 'the copied session does not work');
    await thief.goto(`${base}/profile/contacts/phone`);
    assert.equal(pathOf(thief), '/security/confirm', 'the phone form opened without a password');
    await thief.getByLabel('Пароль', { exact: true }).fill('Угаданный-Пароль#1');
    await submitAndWait(thief, 'Продолжить');
    assert.match(squash(await thief.locator('main').innerText()), /Неверный пароль/);
    await thief.goto(`${base}/profile/contacts/phone`);
    assert.equal(pathOf(thief), '/security/confirm');

    // The owner: the password, then the app code, then the form.
    await page.goto(`${base}/profile/contacts`);
    await page.getByRole('link', { name: 'Изменить мобильный телефон' }).click();
    await page.waitForLoadState();
    assert.equal(pathOf(page), '/security/confirm');
    await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
    await submitAndWait(page, 'Продолжить');
    assert.equal(pathOf(page), '/login/factor');
    assert.equal(squash(await page.locator('h1').innerText()), 'Подтверждение действия');
    await checkPageShape(page, 'step-up: the second factor');
    await page.getByLabel('Код из приложения-аутентификатора', { exact: true }).fill(oathtool(secret, nowSecs() + 30));
    await submitAndWait(page, 'Подтвердить');
    assert.equal(pathOf(page), '/profile/contacts/phone');
    await page.getByLabel('Новый номер мобильного телефона', { exact: true }).fill(newPhone);
    await submitAndWait(page, 'Получить код');
    const codeSms = await waitForOutbox(base, (l) => smsTo(l, e164(newPhone))[0], { what: 'the code to the new phone' });
    await page.getByLabel('Код подтверждения', { exact: true }).fill(codeSms.body.match(/(\d{6})/)[1]);
    await submitAndWait(page, 'Подтвердить');
    assert.equal(pathOf(page), '/profile/contacts');
    const main = squash(await page.locator('main').innerText());
    assert.match(main, /начнёт действовать \d\d\.\d\d\.\d{4} \d\d:\d\d МСК/);
    assert.ok(main.includes('+7 912 700-00-01'), `the old number is no longer listed: ${main}`);
    await checkPageShape(page, 'contacts: a change waiting');

    // The old number is told, with a link that cancels the change.
    const notice = await waitForOutbox(
      base,
      (l) => smsTo(l, e164(phone)).find((m) => m.body.includes('/contacts/cancel/')),
      { what: 'the cancel link to the old number' },
    );
    const link = notice.body.match(/https?:\/\/\S+\/contacts\/cancel\/\S+/)[0];
    const holder = await (await newContext()).newPage();
    await holder.goto(link);
    await checkPageShape(holder, 'contacts/cancel');
    await submitAndWait(holder, 'Отменить изменение');
    assert.match(squash(await holder.locator('main').innerText()), /Изменение отменено/);

    // Every session ended: the thief's and the owner's.
    await thief.goto(`${base}/cabinet`);
    assert.equal(pathOf(thief), '/login', 'the thief is still signed in');
    await page.goto(`${base}/cabinet`);
    assert.equal(pathOf(page), '/login');
  });

  test('a SIM swap does not pass the recovery\'s second step with an SMS code', async () => {
    const base = server.baseUrl;
    const phone = '+7 912 700-00-03';
    const owner = await newContext();
    const page = await owner.newPage();
    await registerByPhone(page, base, { last_name: 'Орлова', first_name: 'Вера', middle_name: '', phone });
    await enableApp(page, base);
    // The SMS factor as well (its page needs the password within 5 minutes, given above).
    await page.goto(`${base}/security/factors`);
    await submitAndWait(page, 'Включить код по СМС');
    await submitAndWait(page, 'Выйти');

    // The attacker holds the number (reads its SMS) and recovers.
    const attacker = await (await newContext()).newPage();
    await attacker.goto(`${base}/recover`);
    await attacker.getByLabel('Телефон или почта', { exact: true }).fill(phone);
    await submitAndWait(attacker, 'Получить код');
    const sms = await waitForOutbox(
      base,
      (l) => smsTo(l, e164(phone)).find((m) => /^Код для восстановления доступа: \d{6}/.test(m.body)),
      { what: 'the recovery code' },
    );
    const recoveryCode = sms.body.match(/(\d{6})/)[1];
    await attacker.getByLabel('Код для восстановления', { exact: true }).fill(recoveryCode);
    await submitAndWait(attacker, 'Подтвердить');
    assert.equal(pathOf(attacker), '/login/factor');
    const offered = squash(await attacker.locator('main').innerText());
    assert.ok(!offered.includes('Код по СМС'), `the SMS code is offered: ${offered}`);

    // Posted directly, as a script would: asking for a code and giving the recovery's code.
    const csrf = await attacker.locator('input[name=csrf_token]').first().inputValue();
    const before = smsTo(await readOutbox(base), e164(phone)).length;
    const send = await attacker.request.post(`${base}/login/factor`, {
      form: { csrf_token: csrf, method: 'sms', action: 'send' },
      headers: { origin: base },
      maxRedirects: 0,
    });
    assert.equal(send.status(), 422);
    const give = await attacker.request.post(`${base}/login/factor`, {
      form: { csrf_token: csrf, method: 'sms', code: recoveryCode },
      headers: { origin: base },
      maxRedirects: 0,
    });
    assert.equal(give.status(), 422);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(smsTo(await readOutbox(base), e164(phone)).length, before, 'an SMS code was sent');
    await attacker.goto(`${base}/recover/password`);
    assert.equal(pathOf(attacker), '/login/factor', 'the recovery went on without the second factor');
  });
});
