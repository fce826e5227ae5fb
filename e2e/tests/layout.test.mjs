// Layout on a small phone: 360×740, no horizontal scrolling on any page, readable type.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import { PAGES } from '../lib/portal.mjs';
import { startServer } from '../lib/server.mjs';

const WIDTH = 360;

let server;
let browser;
let context;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: WIDTH, height: 740 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe(`layout at ${WIDTH} px`, () => {
  for (const spec of PAGES) {
    test(spec.name, async () => {
      const page = await context.newPage();
      const response = await spec.open(page, server.baseUrl);
      assert.equal(response.status(), spec.status, `${spec.name}: status`);
      assert.equal((await page.locator('h1').innerText()).trim(), spec.h1, `${spec.name}: h1`);

      const m = await page.evaluate((width) => ({
        scrollWidth: document.documentElement.scrollWidth,
        bodyScrollWidth: document.body.scrollWidth,
        fontSize: parseFloat(getComputedStyle(document.body).fontSize),
        // What sticks out past the right edge (elements, and text that overflows its box), to say
        // what to fix when something does.
        wide: (() => {
          const name = (el) =>
            `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}>`;
          const found = [...document.querySelectorAll('body *')]
            .map((el) => ({ el, r: el.getBoundingClientRect() }))
            .filter(({ r }) => r.right > width + 0.5)
            .map(({ el, r }) => `${name(el)} right=${Math.round(r.right)}`);
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const range = document.createRange();
            range.selectNodeContents(walker.currentNode);
            const r = range.getBoundingClientRect();
            if (r.right > width + 0.5) {
              const text = walker.currentNode.textContent.trim().slice(0, 60);
              found.push(`text «${text}» in ${name(walker.currentNode.parentElement)} right=${Math.round(r.right)}`);
            }
          }
          return found.slice(0, 8);
        })(),
      }), WIDTH);
      assert.ok(
        m.scrollWidth <= WIDTH,
        `${spec.name}: horizontal scrolling, scrollWidth ${m.scrollWidth} > ${WIDTH}; overflowing: ${m.wide.join(', ')}`,
      );
      assert.ok(m.bodyScrollWidth <= WIDTH, `${spec.name}: body.scrollWidth ${m.bodyScrollWidth} > ${WIDTH}`);
      assert.ok(m.fontSize >= 16, `${spec.name}: body text ${m.fontSize}px on a phone (minimum 16px)`);
      await page.close();
    });
  }
});
