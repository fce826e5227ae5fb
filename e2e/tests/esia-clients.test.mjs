// Real ESIA client libraries against a running portal, changing only the base URL and the
// certificates: PyPI `esia-connector` (signs with `openssl smime`, a detached CMS; validates the
// ID token with the portal's key) and npm `esia` (node-forge, an attached CMS; reads the oid from
// the access token). Both call the person API. The portal is configured with ESIA's issuer name,
// which esia-connector compares literally.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import createEsia from 'esia';
import { checkPageShape, launchBrowser } from '../lib/browser.mjs';
import { registerByPhone } from '../lib/portal.mjs';
import { binaryPath, startCallback, startServer } from '../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.E2E_PYTHON ?? path.join(here, '..', '.venv', 'bin', 'python');
const script = path.join(here, '..', 'py', 'esia_connector_client.py');
const SCOPE = 'openid fullname mobile contacts id_doc addresses';

let browser;
let server;
let callback;
let callbackUrl;
let dir;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'uslugi-esia-clients-'));
  writeFileSync(path.join(dir, 'uslugi.toml'), '[esia]\nissuer = "http://esia.gosuslugi.ru/"\n');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'svc.key', '-out', 'svc.crt', '-subj', '/CN=svc', '-days', '30'], {
    cwd: dir,
    stdio: 'pipe',
  });
  [browser, server] = await Promise.all([launchBrowser(), startServer({ env: { USLUGI_CONFIG: path.join(dir, 'uslugi.toml') } })]);
  callback = await startCallback('/esia');
  callbackUrl = callback.url;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function registerService(mnemonic) {
  return JSON.parse(
    execFileSync(
      binaryPath(),
      [
        'admin', 'clients', 'add', '--name', 'Запись в детский сад', '--redirect-uri', callbackUrl, '--scopes', SCOPE,
        '--certificate', path.join(dir, 'svc.crt'), '--client-id', mnemonic,
      ],
      { env: { ...process.env, USLUGI_DATA_DIR: server.dataDir, USLUGI_DATABASE_URL: server.databaseUrl }, encoding: 'utf8' },
    ),
  );
}

/** Opens the service's authorization URL; consents if asked; returns the callback URL. */
async function authorize(page, url) {
  await page.goto(url);
  if (!page.url().startsWith(callbackUrl)) {
    assert.equal(await page.locator('h1').innerText(), 'Доступ к данным', `at ${page.url()}`);
    await checkPageShape(page, 'esia consent');
    await Promise.all([page.waitForURL(`${callbackUrl}?**`), page.getByRole('button', { name: 'Разрешить', exact: true }).click()]);
  }
  return new URL(page.url());
}

test('esia-connector (PyPI) and esia (npm) sign a person in and read the person API', async () => {
  const registered = registerService('KINDERGARTEN');
  assert.equal(registered.client_id, 'KINDERGARTEN');
  assert.equal(registered.certificate_hash.length, 64);
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await registerByPhone(page, server.baseUrl, { last_name: 'Кузнецова', first_name: 'Ольга', middle_name: 'Игоревна', phone: '+7 912 700-00-21' });

  // esia-connector.
  const args = {
    client_id: 'KINDERGARTEN',
    redirect_uri: callbackUrl,
    certificate: path.join(dir, 'svc.crt'),
    key: path.join(dir, 'svc.key'),
    base: server.baseUrl,
    scope: SCOPE,
  };
  const py = (command, extra = {}) =>
    JSON.parse(execFileSync(python, [script, command, JSON.stringify({ ...args, ...extra })], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const start = py('start');
  assert.match(start.url, /\/aas\/oauth2\/ac\?/);
  const back = await authorize(page, start.url);
  const done = py('finish', { code: back.searchParams.get('code'), state: back.searchParams.get('state') });
  assert.ok(Number.isInteger(done.oid) && done.oid > 0, `oid ${done.oid}`);
  assert.equal(done.main.lastName, 'Кузнецова');
  assert.equal(done.main.middleName, 'Игоревна');
  assert.deepEqual(done.main.stateFacts, ['EntityRoot']);
  assert.equal(done.contacts.size, 1);
  assert.equal(done.contacts.elements[0].type, 'MBT');
  assert.equal(done.contacts.elements[0].value, '+7(912)7000021');
  assert.equal(done.documents.size, 0, 'no verified passport yet');
  assert.equal(done.addresses.size, 0);
  // A code that is not valid (any more): the token endpoint refuses, esia-connector reports it.
  assert.throws(() => py('finish', { code: 'used-or-unknown', state: back.searchParams.get('state') }), /HttpError|400/);

  // npm esia: an attached CMS without signed attributes, a fresh state for the token request.
  const esia = createEsia({
    esiaUrl: server.baseUrl,
    clientId: 'KINDERGARTEN',
    redirectUri: callbackUrl,
    scope: SCOPE,
    certificate: readFileSync(path.join(dir, 'svc.crt'), 'utf8'),
    key: readFileSync(path.join(dir, 'svc.key'), 'utf8'),
  });
  const { url } = esia.getAuth();
  const back2 = await authorize(page, url);
  const result = await esia.getAccess(back2.searchParams.get('code'), ['/', '/ctts?embed=(elements)']);
  assert.equal(result.marker.decodedAccessToken['urn:esia:sbj_id'], done.oid);
  assert.equal(result.data[0].firstName, 'Ольга');
  assert.equal(result.data[1].elements[0].value, '+7(912)7000021');
  await context.close();
});
