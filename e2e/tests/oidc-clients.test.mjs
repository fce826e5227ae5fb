// A real OpenID Connect client against a running portal: npm `openid-client` (v6) discovers the
// provider, sends a person (headless Chromium) through sign-in and the consent screen, exchanges
// the code with PKCE, validates the ID token against the published keys, reads userinfo and
// refreshes the tokens.
// The client is registered with `uslugi admin clients add`, as an administrator would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import { registerByPhone, submitAndWait } from '../lib/portal.mjs';
import { binaryPath, freePort, startServer } from '../lib/server.mjs';

let browser;
let server;
let callback;
let callbackUrl;

before(async () => {
  [browser, server] = await Promise.all([launchBrowser(), startServer()]);
  const port = await freePort();
  callbackUrl = `http://127.0.0.1:${port}/cb`;
  callback = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="ru"><title>Сервис</title><h1>Сервис</h1></html>');
  });
  await new Promise((r) => callback.listen(port, '127.0.0.1', r));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((r) => (callback ? callback.close(r) : r()));
});

function registerClient() {
  const out = execFileSync(
    binaryPath(),
    ['admin', 'clients', 'add', '--name', 'Электронный дневник', '--redirect-uri', callbackUrl, '--scopes', 'openid fullname phone'],
    { env: { ...process.env, USLUGI_DATA_DIR: server.dataDir, USLUGI_DATABASE_URL: server.databaseUrl }, encoding: 'utf8' },
  );
  return JSON.parse(out);
}

test('openid-client: authorization code with PKCE, ID token validation, userinfo', async () => {
  const registered = registerClient();
  assert.ok(registered.client_id && registered.client_secret);
  const config = await client.discovery(new URL(server.baseUrl), registered.client_id, registered.client_secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  assert.equal(config.serverMetadata().issuer, server.baseUrl);

  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const phone = '+7 912 700-00-01';
  await registerByPhone(page, server.baseUrl, { last_name: 'Соколова', first_name: 'Вера', middle_name: 'Ильинична', phone });

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: callbackUrl,
    scope: 'openid fullname phone',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  await page.goto(url.href);
  assert.equal(await page.locator('h1').innerText(), 'Доступ к данным');
  const asked = (await page.locator('main li').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(asked, ['Уровень учётной записи', 'ФИО', 'Номер мобильного телефона']);
  await checkPageShape(page, 'oauth2 consent');
  await Promise.all([page.waitForURL(`${callbackUrl}?**`), page.getByRole('button', { name: 'Разрешить', exact: true }).click()]);

  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, server.baseUrl);
  assert.equal(claims.aud, registered.client_id);
  assert.equal(claims.level, 'simplified');
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.family_name, 'Соколова');
  assert.equal(info.middle_name, 'Ильинична');
  assert.equal(info.phone_number, '+79127000001');

  // A refresh gives new tokens (the refresh token rotates); the new access token works.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  const again = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  assert.equal(again.family_name, 'Соколова');

  // The same code a second time is refused by the provider.
  await assert.rejects(
    client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }),
    (e) => e.error === 'invalid_grant' || /invalid_grant/.test(String(e?.cause?.error ?? e?.message)),
  );
  await context.close();
});
