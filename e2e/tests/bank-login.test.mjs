// «Войти через банк» in the browser with npm `oidc-provider` as the partner bank: the first
// sign-in creates a simplified account from the bank's data (with its verified phone), the link
// shows in the security cabinet and can be removed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import { submitAndWait } from '../lib/portal.mjs';
import { freePort, startServer } from '../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let browser;
let server;
let bank;
let dir;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'uslugi-bank-'));
  const bankPort = await freePort();
  const secret = 'bank-secret-' + Math.random().toString(36).slice(2);
  writeFileSync(
    path.join(dir, 'uslugi.toml'),
    `[[banks]]\nid = "testbank"\nname = "Тестовый банк"\nissuer = "http://127.0.0.1:${bankPort}"\nclient_id = "uslugi"\nclient_secret = "${secret}"\nscopes = "openid profile phone"\n`,
  );
  [browser, server] = await Promise.all([launchBrowser(), startServer({ env: { USLUGI_CONFIG: path.join(dir, 'uslugi.toml') } })]);
  bank = spawn(process.execPath, [path.join(here, '..', 'bank', 'provider.mjs'), String(bankPort), `${server.baseUrl}/login/bank/testbank/callback`, secret], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise((resolve, reject) => {
    bank.stdout.once('data', resolve);
    bank.once('exit', (code) => reject(new Error(`the bank exited with ${code}`)));
  });
});

after(async () => {
  bank?.kill();
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a person signs in through the bank, and the link can be removed', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${server.baseUrl}/login`);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: 'Войти через банк' }).click()]);
  assert.equal(await page.locator('h1').innerText(), 'Вход через банк');
  await checkPageShape(page, 'bank list');
  await Promise.all([page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//), page.getByRole('link', { name: 'Тестовый банк' }).click()]);

  // The bank's own pages (oidc-provider's development sign-in and consent).
  await page.locator('input[name="login"]').fill('ivanova');
  await page.locator('input[name="password"]').fill('any');
  await Promise.all([page.waitForLoadState('load'), page.locator('button[type="submit"]').click()]);
  await Promise.all([page.waitForURL(`${server.baseUrl}/cabinet`), page.locator('button[type="submit"]').click()]);

  assert.match(await page.getByRole('status').innerText(), /Создана упрощённая учётная запись по данным банка/);
  assert.match(await page.locator('main').innerText(), /Иванова Мария Сергеевна/);
  await page.goto(`${server.baseUrl}/profile/contacts`);
  assert.match(await page.locator('main').innerText(), /\+7 912 700-00-31/);

  await page.goto(`${server.baseUrl}/security/banks`);
  await checkPageShape(page, 'security banks');
  assert.deepEqual(await page.locator('main tbody td:first-child').allInnerTexts(), ['Тестовый банк']);
  await submitAndWait(page, 'Отвязать Тестовый банк');
  assert.equal((await page.getByRole('status').innerText()).trim(), 'Банк отвязан');
  assert.match(await page.locator('main').innerText(), /Вход через банк не привязан/);
  await context.close();
});
