// A Python service with PyPI `authlib` signs a person in through the portal: authorization code
// with PKCE, ID-token validation by authlib (signature, issuer, audience, nonce, at_hash) and
// userinfo. A wrong nonce must make authlib refuse the ID token.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../lib/browser.mjs';
import { registerByPhone } from '../lib/portal.mjs';
import { binaryPath, startCallback, startServer } from '../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.E2E_PYTHON ?? path.join(here, '..', '.venv', 'bin', 'python');
const script = path.join(here, '..', 'py', 'authlib_client.py');

let browser;
let server;
let callback;
let callbackUrl;

before(async () => {
  [browser, server] = await Promise.all([launchBrowser(), startServer()]);
  callback = await startCallback('/auth');
  callbackUrl = callback.url;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
});

function authlib(command, args) {
  return JSON.parse(execFileSync(python, [script, command, JSON.stringify(args)], { encoding: 'utf8' }));
}

test('authlib: authorization code flow with ID-token validation', async () => {
  const registered = JSON.parse(
    execFileSync(
      binaryPath(),
      ['admin', 'clients', 'add', '--name', 'Запись к врачу', '--redirect-uri', callbackUrl, '--scopes', 'openid fullname email phone'],
      { env: { ...process.env, USLUGI_DATA_DIR: server.dataDir, USLUGI_DATABASE_URL: server.databaseUrl }, encoding: 'utf8' },
    ),
  );
  const args = {
    issuer: server.baseUrl,
    client_id: registered.client_id,
    client_secret: registered.client_secret,
    scope: 'openid fullname phone',
    redirect_uri: callbackUrl,
  };
  const context = await browser.newContext();
  const page = await context.newPage();
  await registerByPhone(page, server.baseUrl, { last_name: 'Орлова', first_name: 'Мария', middle_name: 'Петровна', phone: '+7 912 700-00-11' });

  const signIn = async () => {
    const start = authlib('start', args);
    assert.match(start.url, /code_challenge_method=S256/);
    await page.goto(start.url);
    if (!page.url().startsWith(callbackUrl)) {
      assert.equal(await page.locator('h1').innerText(), 'Доступ к данным');
      await Promise.all([page.waitForURL(`${callbackUrl}?**`), page.getByRole('button', { name: 'Разрешить', exact: true }).click()]);
    }
    return { ...start, callback: page.url() };
  };

  const first = await signIn();
  const done = authlib('finish', { ...args, ...first });
  assert.equal(done.claims.iss, server.baseUrl);
  assert.equal(done.claims.aud, registered.client_id);
  assert.equal(done.claims.nonce, first.nonce);
  assert.equal(done.userinfo.family_name, 'Орлова');
  assert.equal(done.userinfo.middle_name, 'Петровна');
  assert.equal(done.userinfo.phone_number, '+79127000011');
  assert.equal(done.userinfo.sub, done.claims.sub);

  // The consent is remembered; a wrong nonce makes authlib refuse the ID token.
  const second = await signIn();
  assert.throws(() => execFileSync(python, [script, 'finish', JSON.stringify({ ...args, ...second, nonce: 'another' })], { stdio: 'pipe' }), /nonce/i);
  await context.close();
});
