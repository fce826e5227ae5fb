// Personal data is never stored or logged in plaintext. (Named zz- so it runs last.)
//
// One demo person whose data all matches walks the whole portal in the browser: registration by
// e-mail (the link), the password, a phone added as the second contact (the code), the personal
// data with ИНН until «Данные проверены», and a question through /feedback answered by phone.
// The server is then stopped (SIGTERM) and every file of its data directory (the SQLite database
// with its -wal and -shm files when present; keys.toml excluded) and everything it wrote to
// stdout and stderr is searched, as bytes, for the person's СНИЛС, passport, ИНН, phone and
// e-mail in UTF-8. Values the portal keeps in clear on purpose (the account level, the journal's
// event names) must be found, so the search cannot pass by reading nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import {
  e164,
  fillFeedback,
  fillPersonal,
  readDemoPeople,
  PASSWORD,
  registerByEmail,
  submitAndWait,
  submitFeedback,
  readOutbox,
  waitForOutbox,
  waitForSmsCode,
} from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const EMAIL_TYPED = 'Nikto.Ne.Uznaet@Example.RU';
const EMAIL = EMAIL_TYPED.toLowerCase();
const PHONE = '+7 902 555-44-37';
const KEYS_FILE = 'keys.toml';

let server;
let browser;
let person; // the demo person, with the values the search looks for
let linkToken; // the registration link's token, which the log must not hold
let stopped; // the server's exit
const files = []; // { name, bytes } searched

before(async () => {
  [server, browser] = await Promise.all([startServer({ keepDir: true, logFile: true }), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.remove();
});

const pathOf = (page) => new URL(page.url()).pathname;
const h1Of = async (page) => (await page.locator('h1').innerText()).replace(/\s+/g, ' ').trim();

/** Every file under `dir` (recursively), as paths relative to it. */
async function listFiles(dir, prefix = '') {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** Where `needle` (UTF-8) occurs in `bytes`: offsets, at most `max`. */
function occurrences(bytes, needle, max = 5) {
  const n = Buffer.from(needle, 'utf8');
  const found = [];
  for (let i = bytes.indexOf(n); i >= 0 && found.length < max; i = bytes.indexOf(n, i + 1)) found.push(i);
  return found;
}

/** The bytes around an offset, printable, for the report. */
function around(bytes, offset, length) {
  const from = Math.max(0, offset - 48);
  const to = Math.min(bytes.length, offset + length + 48);
  return bytes.subarray(from, to).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}

test('a demo person walks the portal: e-mail, phone, personal data with ИНН, a question', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const people = await readDemoPeople(page, server.baseUrl);
  const p = people.find((x) => /^Все данные сходятся/.test(x.outcome));
  assert.ok(p, `no demo person whose data all matches: ${people.map((x) => x.outcome)}`);
  assert.match(p.inn, /^\d{12}$/, `the person has no ИНН: «${p.inn}»`);
  person = { ...p, email: EMAIL_TYPED, phone: PHONE };

  // Registration by e-mail: the link, the password → the cabinet.
  await registerByEmail(page, server.baseUrl, person);
  const letter = (await readOutbox(server.baseUrl)).find((m) => m.channel === 'email' && m.to === EMAIL);
  linkToken = letter.body.match(/\/register\/email\/([0-9a-f]{64})/)[1];
  assert.ok((await page.locator('main').innerText()).includes(EMAIL), 'the cabinet does not show the e-mail');

  // The phone as the second contact.
  await page.goto(`${server.baseUrl}/profile/contacts/phone`);
  assert.equal(pathOf(page), '/security/confirm');
  await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD);
  await submitAndWait(page, 'Продолжить');
  await page.getByLabel('Новый номер мобильного телефона', { exact: true }).fill(PHONE);
  await submitAndWait(page, 'Получить код');
  assert.equal(pathOf(page), '/profile/contacts/confirm', `«Получить код» led to ${page.url()}`);
  const code = await waitForSmsCode(server.baseUrl, e164(PHONE));
  await page.getByLabel('Код подтверждения', { exact: true }).fill(code);
  await submitAndWait(page, 'Подтвердить');
  assert.equal(pathOf(page), '/profile/contacts');
  // The new phone waits out its 24 hours (stored encrypted meanwhile, which the scan below
  // checks too).
  assert.match(await page.locator('main').innerText(), /начнёт действовать/);

  // The personal data, ИНН included, until «Данные проверены».
  await page.goto(`${server.baseUrl}/profile/personal`);
  await fillPersonal(page, {
    sex: p.sex,
    birth_date: p.birth_date,
    birth_place: p.birth_place,
    passport_series: p.passport_series,
    passport_number: p.passport_number,
    passport_issued_on: p.passport_issued_on,
    passport_issuer: p.passport_issuer,
    division_code: p.division_code,
    snils: p.snils,
    inn: p.inn,
    address: p.address,
  });
  await submitAndWait(page, 'Отправить на проверку');
  assert.equal(await h1Of(page), 'Ожидание проверки данных');
  await page.locator('h1', { hasText: 'Данные проверены' }).waitFor({ timeout: 20_000 });
  assert.match(await page.locator('main').innerText(), /стандартная/);

  // A question to support, answered by phone.
  await page.goto(`${server.baseUrl}/feedback`);
  await fillFeedback(page, {
    name: `${p.first_name} ${p.last_name}`,
    contact: PHONE,
    message: 'Как записаться на приём в МФЦ для замены паспорта?',
  });
  const response = await submitFeedback(page);
  assert.equal(response.status(), 200);
  assert.equal(await h1Of(page), 'Обращение отправлено');
  // Everything queued was delivered (the worker writes the development outbox) before stopping.
  await waitForOutbox(
    server.baseUrl,
    (l) => l.some((m) => m.channel === 'sms' && m.to === e164(PHONE) && /обращение/.test(m.body)),
    { what: 'the feedback confirmation SMS' },
  );
  await context.close();
});

test('the server stops on SIGTERM; its data directory and log are read', async () => {
  assert.ok(person, 'the walk did not finish');
  stopped = await server.stop();
  assert.ok(stopped, 'the server did not exit');
  const names = await listFiles(server.dataDir);
  if (server.postgres) {
    // On PostgreSQL the data live in the cluster: a full dump stands for the database file.
    const dump = execFileSync('pg_dump', ['--no-owner', server.databaseUrl], { maxBuffer: 256 * 1024 * 1024 });
    files.push({ name: 'data/uslugi.db (pg_dump)', bytes: dump });
  } else {
    assert.ok(names.includes('uslugi.db'), `no uslugi.db in the data directory: ${names}`);
  }
  assert.ok(names.includes(KEYS_FILE), `no ${KEYS_FILE} in the data directory: ${names}`);
  const keys = await stat(path.join(server.dataDir, KEYS_FILE));
  assert.ok(keys.size > 0, `${KEYS_FILE} is empty`);
  for (const name of names.filter((n) => n !== KEYS_FILE)) {
    files.push({ name: `data/${name}`, bytes: await readFile(path.join(server.dataDir, name)) });
  }
  files.push({ name: 'server log (stdout+stderr)', bytes: await readFile(server.logPath) });
  const db = files.find((f) => f.name.startsWith('data/uslugi.db'));
  assert.ok(db && db.bytes.length > 0, 'the database is empty');
  console.log(
    `scanned ${files.reduce((s, f) => s + f.bytes.length, 0)} bytes: ` +
      files.map((f) => `${f.name} ${f.bytes.length}`).join(', ') +
      `; server exit: code ${stopped.code}, signal ${stopped.signal}`,
  );
});

test('the search finds what the portal keeps in clear (so it does read the data)', () => {
  assert.ok(files.length > 0, 'nothing was read');
  const db = files.filter((f) => f.name.startsWith('data/uslugi.db'));
  const log = files.find((f) => f.name.startsWith('server log'));
  const inDb = (needle) => db.some((f) => occurrences(f.bytes, needle, 1).length > 0);
  assert.ok(inDb('standard'), 'the level «standard» is not in the database files');
  assert.ok(inDb('profile.verified'), 'the journal event «profile.verified» is not in the database files');
  assert.ok(inDb('registry.check'), 'the job kind «registry.check» is not in the database files');
  assert.ok(occurrences(log.bytes, 'registry check finished', 1).length > 0, 'the log does not say the registry check finished');
  assert.ok(occurrences(log.bytes, 'Uslugi is listening', 1).length > 0, 'the log does not hold the start-up line');
});

test('no file and no log line holds the СНИЛС, passport, ИНН, phone or e-mail in plaintext', () => {
  assert.ok(person && files.length > 0, 'nothing to search');
  const snilsDigits = person.snils.replace(/\D/g, '');
  assert.match(snilsDigits, /^\d{11}$/);
  const snilsSpelled = `${snilsDigits.slice(0, 3)}-${snilsDigits.slice(3, 6)}-${snilsDigits.slice(6, 9)} ${snilsDigits.slice(9)}`;
  const s = person.passport_series;
  const n = person.passport_number;
  const phone = e164(PHONE);
  const needles = {
    'СНИЛС XXX-XXX-XXX YY': snilsSpelled,
    'СНИЛС, 11 digits': snilsDigits,
    'passport SSSSNNNNNN': `${s}${n}`,
    'passport SSSS NNNNNN': `${s} ${n}`,
    'passport SS SS NNNNNN': `${s.slice(0, 2)} ${s.slice(2)} ${n}`,
    'ИНН': person.inn,
    'phone +7XXXXXXXXXX': phone,
    'phone, 10 national digits': phone.slice(2),
    'e-mail': EMAIL,
  };
  const found = [];
  for (const f of files) {
    for (const [what, needle] of Object.entries(needles)) {
      for (const at of occurrences(f.bytes, needle)) {
        found.push(`${f.name}: ${what} «${needle}» at byte ${at}: …${around(f.bytes, at, Buffer.byteLength(needle))}…`);
      }
    }
  }
  console.log(
    `searched ${files.length} file(s) for ${Object.keys(needles).length} values: ${found.length === 0 ? 'none found' : `${found.length} found`}`,
  );
  assert.deepEqual(found, [], `personal data in plaintext:\n${found.join('\n')}`);
});

test('the log holds no link token (requests are logged by their route, not their path)', () => {
  const log = files.find((f) => f.name.startsWith('server log'));
  assert.ok(log && linkToken, 'nothing to search');
  assert.deepEqual(occurrences(log.bytes, linkToken), [], 'the registration link token is in the log');
});
