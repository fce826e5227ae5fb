// Accessibility: axe-core (zero serious/critical), one h1, landmarks, and a skip link to #main
// as the first thing Tab reaches — on every page the portal serves now.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { axeCheck, launchBrowser } from '../lib/browser.mjs';
import { PAGES } from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const SKIP_TEXT = 'Перейти к основному содержанию';

let server;
let browser;
let context; // JavaScript on, CSP bypassed so axe can be injected
let noJsContext; // for the keyboard check where the page's own script moves focus on load

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ bypassCSP: true });
  noJsContext = await browser.newContext({ javaScriptEnabled: false });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Press Tab once from a freshly loaded page: the skip link gets focus; Enter moves focus to main. */
async function assertSkipLinkFirst(page, label) {
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    return { tag: el.tagName, text: el.textContent.trim(), href: el.getAttribute('href') };
  });
  assert.equal(focused.text, SKIP_TEXT, `${label}: first Tab focused <${focused.tag}> «${focused.text}»`);
  assert.equal(focused.tag, 'A', `${label}: skip link is not a link`);
  assert.equal(focused.href, '#main', `${label}: skip link points to ${focused.href}`);
  // The skip link is visible when focused (not left off-screen).
  const box = await page.evaluate(() => {
    const r = document.activeElement.getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  });
  assert.ok(box.w > 0 && box.h > 0 && box.x >= 0 && box.y >= 0 && box.x < 2000, `${label}: focused skip link is not on screen: ${JSON.stringify(box)}`);
  await page.keyboard.press('Enter');
  const afterEnter = await page.evaluate(() => ({ id: document.activeElement.id, hash: location.hash }));
  assert.equal(afterEnter.id, 'main', `${label}: Enter on the skip link did not move focus to #main`);
}

describe('accessibility of every page', () => {
  for (const spec of PAGES) {
    test(spec.name, async () => {
      const page = await context.newPage();
      const pageErrors = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const response = await spec.open(page, server.baseUrl);
      assert.equal(response.status(), spec.status, `${spec.name}: status`);

      // Structure: exactly one h1 that says what the page is for; landmarks; #main exists.
      const h1s = await page.locator('h1').allInnerTexts();
      assert.equal(h1s.length, 1, `${spec.name}: h1 elements: ${JSON.stringify(h1s)}`);
      assert.equal(h1s[0].trim(), spec.h1, `${spec.name}: h1`);
      assert.equal(await page.locator('main#main').count(), 1, `${spec.name}: <main id="main">`);
      assert.equal(await page.locator('header, [role="banner"]').count() >= 1, true, `${spec.name}: header landmark`);
      assert.equal(await page.locator('footer, [role="contentinfo"]').count() >= 1, true, `${spec.name}: footer landmark`);

      if (spec.errors) {
        assert.match(await page.title(), /^Ошибка: /, `${spec.name}: title`);
        const summary = page.locator('.error-summary');
        assert.equal(await summary.count(), 1, `${spec.name}: error summary`);
        // The page's script moves focus to the error summary so it is announced first.
        const focusedIsSummary = await page.evaluate(() =>
          document.activeElement?.classList.contains('error-summary'),
        );
        assert.ok(focusedIsSummary, `${spec.name}: focus is not on the error summary after load`);
        // Every field in error points at its message (aria-describedby), and that message says the
        // same as the summary's link to the field.
        assert.ok(spec.errorFields?.length, `${spec.name}: errorFields not given`);
        for (const id of spec.errorFields) {
          const summaryText = (await summary.locator(`a[href="#${id}"]`).innerText()).trim();
          assert.ok(summaryText.length > 0, `${spec.name}: summary has no link to #${id}`);
          const describedBy = (await page.locator(`#${id}`).getAttribute('aria-describedby')) || '';
          const ids = describedBy.split(/\s+/).filter(Boolean);
          const texts = await Promise.all(ids.map((d) => page.locator(`[id="${d}"]`).innerText().catch(() => '')));
          assert.ok(
            texts.some((t) => t.includes(summaryText)),
            `${spec.name}: #${id} aria-describedby="${describedBy}" does not include its error «${summaryText}»`,
          );
          assert.ok(
            texts.some((t) => t.includes('Ошибка')),
            `${spec.name}: #${id}: the described error has no (visually hidden) «Ошибка:» prefix`,
          );
        }
      }
      if (spec.name.startsWith('dev outbox')) {
        assert.ok((await page.locator('main table').count()) >= 1, 'outbox shows no table although a message exists');
        assert.ok((await page.locator('main table tbody tr, main table tr:has(td)').count()) >= 1, 'outbox table has no rows');
      }

      await axeCheck(page, `${spec.name} (${page.url()})`);
      assert.deepEqual(pageErrors, [], `${spec.name}: uncaught script errors`);

      // Keyboard: on a fresh load the first Tab reaches the skip link. The error page moves focus
      // to its summary by script (on purpose), so its tab order is checked without JavaScript.
      if (spec.errors) {
        const plain = await noJsContext.newPage();
        const r = await spec.open(plain, server.baseUrl);
        assert.equal(r.status(), spec.status);
        assert.equal(await plain.locator('.error-summary').count(), 1, 'no-JS error page shows the summary');
        await assertSkipLinkFirst(plain, `${spec.name} (no JS)`);
        await plain.close();
      } else {
        await assertSkipLinkFirst(page, spec.name);
      }
      await page.close();
    });
  }
});
