// Headless Debian Chromium through playwright-core, and an axe-core check.
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch headless Chromium (the system one; Playwright cannot download browsers here). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** Serious and critical axe violations, as readable text (empty string when none). */
export function formatViolations(violations) {
  return violations
    .map((v) => {
      const targets = v.nodes
        .map((n) => `      - ${n.target.join(' ')}${n.failureSummary ? `\n        ${n.failureSummary.replace(/\n/g, '\n        ')}` : ''}`)
        .join('\n');
      return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${targets}`;
    })
    .join('\n');
}

/**
 * Run axe-core on the page (its context must have bypassCSP: true, the portal's CSP forbids
 * injected scripts) and throw if any violation is serious or critical.
 * @returns {Promise<object>} the full axe result, for further assertions
 */
export async function axeCheck(page, label = page.url()) {
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) await page.addScriptTag({ path: AXE_PATH });
  const results = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
    }),
  );
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    throw new Error(`axe: ${bad.length} serious/critical violation(s) on ${label}:\n${formatViolations(bad)}`);
  }
  return results;
}

export const SMALL_SCREEN = { width: 360, height: 740 };

/**
 * The checks every page of a flow gets: exactly one h1, no horizontal scrolling at 360×740
 * (the viewport is restored afterwards) and, with `axe` (JavaScript on), zero serious/critical
 * axe findings. Throws on the first problem.
 */
export async function checkPageShape(page, label, { axe = true } = {}) {
  const h1s = await page.locator('h1').allInnerTexts();
  if (h1s.length !== 1) throw new Error(`${label}: ${h1s.length} h1 elements: ${JSON.stringify(h1s)}`);
  if (axe) await axeCheck(page, `${label} (${page.url()})`);
  const size = page.viewportSize();
  await page.setViewportSize(SMALL_SCREEN);
  const m = await page.evaluate((width) => {
    const name = (el) =>
      `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}>`;
    return {
      doc: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      wide: [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > width + 0.5)
        .slice(0, 6)
        .map((el) => `${name(el)} right=${Math.round(el.getBoundingClientRect().right)}`),
    };
  }, SMALL_SCREEN.width);
  if (size) await page.setViewportSize(size);
  if (m.doc > SMALL_SCREEN.width || m.body > SMALL_SCREEN.width) {
    throw new Error(
      `${label}: horizontal scrolling at ${SMALL_SCREEN.width} px (document ${m.doc}, body ${m.body}); overflowing: ${m.wide.join(', ')}`,
    );
  }
}
