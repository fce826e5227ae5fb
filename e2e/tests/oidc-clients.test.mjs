// A real OpenID Connect client against a running portal: npm `openid-client` (v6) discovers the
// provider, sends a person (headless Chromium) through sign-in and the consent screen, exchanges
// the code with PKCE, validates the ID token against the published keys, reads userinfo and
// refreshes the tokens.
// The client is registered with `uslugi admin clients add`, as an administrator would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import { registerByPhone, submitAndWait } from '../lib/portal.mjs';
import { binaryPath, startCallback, startServer } from '../lib/server.mjs';

let browser;
let server;
let callback;
let callbackUrl;

before(async () => {
  [browser, server] = await Promise.all([launchBrowser(), startServer()]);
  callback = await startCallback('/cb');
  callbackUrl = callback.url;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
});

function registerClient(...extra) {
  const out = execFileSync(
    binaryPath(),
    [
      'admin', 'clients', 'add', '--name', 'Электронный дневник', '--redirect-uri', callbackUrl,
      '--scopes', 'openid fullname phone', '--post-logout-redirect-uri', `${callbackUrl}/bye`, ...extra,
    ],
    { env: { ...process.env, USLUGI_DATA_DIR: server.dataDir, USLUGI_DATABASE_URL: server.databaseUrl }, encoding: 'utf8' },
  );
  return JSON.parse(out);
}

/** Sends the signed-in person through the service's sign-in; returns the callback URL. */
async function signInThrough(page, config, { verifier, state, nonce }) {
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: callbackUrl,
    scope: 'openid fullname phone',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  await page.goto(url.href);
  if (!page.url().startsWith(callbackUrl)) {
    await Promise.all([page.waitForURL(`${callbackUrl}?**`), page.getByRole('button', { name: 'Разрешить', exact: true }).click()]);
  }
  return new URL(page.url());
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

  // The service checks and revokes its tokens: introspection, revocation.
  const live = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(live.active, true);
  assert.equal(live.sub, claims.sub);
  await client.tokenRevocation(config, refreshed.refresh_token);
  assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false);
  await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, claims.sub));

  // The same code a second time is refused by the provider.
  await assert.rejects(
    client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }),
    (e) => e.error === 'invalid_grant' || /invalid_grant/.test(String(e?.cause?.error ?? e?.message)),
  );

  // Logout from the service ends the portal session and comes back with the state.
  const logoutState = client.randomState();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: `${callbackUrl}/bye`,
    state: logoutState,
  });
  await page.goto(endSession.href);
  assert.equal(page.url(), `${callbackUrl}/bye?state=${logoutState}`);
  await page.goto(`${server.baseUrl}/cabinet`);
  assert.match(page.url(), /\/login$/);
  await context.close();
});

test('openid-client: private_key_jwt, ES256 ID tokens and client_credentials', async () => {
  const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const jwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'service-1', use: 'sig', alg: 'ES256' };
  delete jwk.key_ops;
  delete jwk.ext;
  const registered = registerClient('--jwks', JSON.stringify({ keys: [jwk] }), '--id-token-alg', 'ES256', '--client-credentials');
  assert.equal(registered.client_secret, undefined);
  assert.equal(registered.token_endpoint_auth_method, 'private_key_jwt');
  const config = await client.discovery(
    new URL(server.baseUrl),
    registered.client_id,
    { id_token_signed_response_alg: 'ES256' },
    client.PrivateKeyJwt({ key: privateKey, kid: 'service-1' }),
    { execute: [client.allowInsecureRequests] },
  );

  // The service for itself.
  const own = await client.clientCredentialsGrant(config, { scope: 'fullname' });
  assert.equal(own.scope, 'fullname');
  assert.equal(own.refresh_token, undefined);

  // A person through it.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await registerByPhone(page, server.baseUrl, { last_name: 'Петров', first_name: 'Илья', middle_name: '', phone: '+7 912 700-00-02' });
  const checks = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
  const back = await signInThrough(page, config, checks);
  const tokens = await client.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: checks.verifier,
    expectedState: checks.state,
    expectedNonce: checks.nonce,
  });
  const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url').toString());
  assert.equal(header.alg, 'ES256');
  assert.equal(tokens.claims().aud, registered.client_id);
  const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
  assert.equal(info.family_name, 'Петров');

  // The person withdraws the service's access in the cabinet: its tokens stop working.
  await page.goto(`${server.baseUrl}/security/apps`);
  await checkPageShape(page, 'security apps');
  assert.deepEqual(await page.locator('main h2').allInnerTexts(), ['Электронный дневник']);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: /^Отозвать/ }).click()]);
  await page.waitForURL(`${server.baseUrl}/security/apps`);
  assert.equal((await page.getByRole('status').innerText()).trim(), 'Разрешение отозвано');
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub));

  // A logout request without proof of who the person is: the portal asks first.
  await page.goto(`${server.baseUrl}/oauth2/logout?client_id=${registered.client_id}`);
  assert.equal(await page.locator('h1').innerText(), 'Выйти из портала?');
  await checkPageShape(page, 'oauth2 logout');
  await submitAndWait(page, 'Выйти из портала');
  assert.equal(await page.locator('h1').innerText(), 'Вы вышли из портала');
  await context.close();
});
