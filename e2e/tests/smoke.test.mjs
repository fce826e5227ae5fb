// Smoke: the home page, its headers and assets, the footer, the 404 page; nothing leaves the origin.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Assert the security headers every response must carry. */
function assertSecurityHeaders(headers, label) {
  const csp = headers['content-security-policy'];
  assert.ok(csp, `${label}: no Content-Security-Policy header`);
  assert.ok(!csp.includes("'unsafe-inline'"), `${label}: CSP allows 'unsafe-inline': ${csp}`);
  assert.ok(!csp.includes("'unsafe-eval'"), `${label}: CSP allows 'unsafe-eval': ${csp}`);
  assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/, `${label}: CSP lacks frame-ancestors 'none': ${csp}`);
  assert.match(csp, /(^|;)\s*(default-src|script-src) /, `${label}: CSP restricts no scripts: ${csp}`);
  assert.equal(headers['x-content-type-options'], 'nosniff', `${label}: X-Content-Type-Options`);
  assert.ok(headers['referrer-policy'], `${label}: no Referrer-Policy header`);
  assert.notEqual(headers['referrer-policy'].trim(), 'unsafe-url', `${label}: Referrer-Policy is unsafe-url`);
  assert.ok(headers['permissions-policy'], `${label}: no Permissions-Policy header`);
  assert.ok((headers['x-request-id'] || '').trim().length >= 8, `${label}: no x-request-id header`);
}

describe('home page', () => {
  test('renders in Russian with the security headers, its own stylesheet, and no other origin', async () => {
    const context = await browser.newContext();
    const requests = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const consoleErrors = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));

    const response = await page.goto(`${server.baseUrl}/`);
    await page.waitForLoadState('networkidle');

    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'] || '', /^text\/html/);
    assertSecurityHeaders(response.headers(), 'GET /');

    assert.equal(await page.evaluate(() => document.documentElement.getAttribute('lang')), 'ru');
    assert.match(await page.title(), /Госуслуги/);
    const h1 = page.locator('h1');
    assert.equal(await h1.count(), 1, 'exactly one h1');
    assert.equal((await h1.innerText()).trim(), 'Государственные услуги');

    // Header: «Войти» → /login and «Зарегистрироваться» → /register (not followed: not built yet).
    const header = page.locator('header');
    assert.equal(await header.getByRole('link', { name: 'Войти', exact: true }).getAttribute('href'), '/login');
    assert.equal(
      await header.getByRole('link', { name: 'Зарегистрироваться', exact: true }).getAttribute('href'),
      '/register',
    );
    // The portal name links home.
    assert.equal(await header.getByRole('link', { name: 'Госуслуги', exact: true }).getAttribute('href'), '/');

    // Stylesheet: every <link rel=stylesheet> loads with 200 text/css and is applied.
    const cssHrefs = await page.$$eval('link[rel="stylesheet"]', (ls) => ls.map((l) => l.href));
    assert.ok(cssHrefs.length >= 1, 'the page links no stylesheet');
    for (const href of cssHrefs) {
      assert.ok(href.startsWith(server.baseUrl), `stylesheet from another origin: ${href}`);
      const css = await page.request.get(href);
      assert.equal(css.status(), 200, `${href} answered ${css.status()}`);
      assert.match(css.headers()['content-type'] || '', /^text\/css/, `${href} content-type`);
      assert.ok((await css.text()).length > 100, `${href} is (nearly) empty`);
    }
    const ruleCount = await page.evaluate(() =>
      [...document.styleSheets].reduce((n, s) => n + s.cssRules.length, 0),
    );
    assert.ok(ruleCount > 10, `stylesheets applied with only ${ruleCount} rules`);
    // The stylesheet actually styles the page: the system font stack, not the browser's default serif.
    const fontFamily = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    assert.doesNotMatch(fontFamily, /^"?Times/, `body font is the browser default: ${fontFamily}`);

    // Every request stays on the portal's origin (no CDN, fonts, analytics).
    assert.ok(requests.length >= 2, `only ${requests.length} request(s) recorded`);
    const foreign = requests.filter((u) => !u.startsWith(`${server.baseUrl}/`));
    assert.deepEqual(foreign, [], `requests to another origin:\n${foreign.join('\n')}`);

    assert.deepEqual(pageErrors, [], 'uncaught script errors');
    assert.deepEqual(consoleErrors, [], 'console errors (e.g. CSP violations)');
    await context.close();
  });

  test('footer has the support phone and the service links', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/`);
    const footer = page.locator('footer');
    assert.equal(await footer.count(), 1);
    const tel = footer.locator('a[href^="tel:"]');
    assert.ok((await tel.count()) >= 1, 'no tel: link in the footer');
    const telHref = await tel.first().getAttribute('href');
    assert.match(telHref, /^tel:\+7\d{10}$/, `support phone link: ${telHref}`);
    assert.match(await tel.first().innerText(), /8[\s\u00a0]800/, 'support phone text');
    for (const [name, href] of [
      ['Обратная связь', '/feedback'],
      ['Помощь', '/help'],
      ['Политика конфиденциальности', '/privacy'],
      ['Доступность', '/accessibility'],
    ]) {
      const link = footer.getByRole('link', { name, exact: true });
      assert.equal(await link.count(), 1, `footer link «${name}»`);
      assert.equal(await link.getAttribute('href'), href, `footer link «${name}»`);
    }
    await context.close();
  });
});

describe('other pages', () => {
  for (const [path, h1, title] of [
    ['/help', 'Помощь', /Помощь/],
    ['/privacy', 'Политика конфиденциальности', /Политика конфиденциальности/],
    ['/accessibility', 'Доступность портала', /Доступность/],
    ['/feedback', 'Обратная связь', /Обратная связь/],
  ]) {
    test(`${path} answers 200 with its heading`, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const response = await page.goto(`${server.baseUrl}${path}`);
      assert.equal(response.status(), 200);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru');
      assert.match(await page.title(), title);
      assert.match(await page.title(), /Госуслуги/);
      assert.equal((await page.locator('h1').innerText()).trim(), h1);
      await context.close();
    });
  }

  test('an unknown path answers the Russian 404 page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const path of ['/no-such-page', '/help/deeper/and-deeper', '/assets/no-such-file.css']) {
      const response = await page.goto(`${server.baseUrl}${path}`);
      assert.equal(response.status(), 404, `${path} status`);
      assert.match(response.headers()['content-type'] || '', /^text\/html/, `${path} content-type`);
      assertSecurityHeaders(response.headers(), `GET ${path}`);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru', `${path} lang`);
      assert.match(await page.title(), /Страница не найдена/, `${path} title`);
      assert.equal((await page.locator('h1').innerText()).trim(), 'Страница не найдена', `${path} h1`);
      assert.equal(await page.locator('main a[href="/"]').count(), 1, `${path}: link to the home page`);
    }
    await context.close();
  });
});

describe('security headers on every kind of response', () => {
  test('pages, assets, JSON, 404 and 403 all carry them', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const urls = [
      '/', '/help', '/privacy', '/accessibility', '/feedback', '/dev/outbox', '/dev/outbox.json',
      '/assets/app.css', '/assets/app.js', '/readyz', '/no-such-page',
    ];
    const seenIds = new Set();
    for (const path of urls) {
      const res = await page.request.get(`${server.baseUrl}${path}`);
      assert.ok([200, 404].includes(res.status()), `${path} answered ${res.status()}`);
      assertSecurityHeaders(res.headers(), `GET ${path}`);
      seenIds.add(res.headers()['x-request-id']);
    }
    const forbidden = await page.request.post(`${server.baseUrl}/feedback`, {
      form: { name: 'Анна', contact: 'anna@example.ru', message: 'Проверка заголовков ответа' },
    });
    assert.equal(forbidden.status(), 403);
    assertSecurityHeaders(forbidden.headers(), 'POST /feedback without token');
    seenIds.add(forbidden.headers()['x-request-id']);
    // Each response gets its own request id.
    assert.equal(seenIds.size, urls.length + 1, 'x-request-id values repeat across responses');
    await context.close();
  });
});
