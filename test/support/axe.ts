// axe-core in the browser tests' pages (test/*.browser.test.ts): the one home of the accessibility check every
// page they visit must pass, and of the screenshot each such page leaves in .data/console-screenshots/.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

/** Where each checked page's screenshot goes (some are cut into docs/screenshots for the README). */
const SCREENSHOTS = join(__dirname, '..', '..', '.data', 'console-screenshots');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeResults {
  violations: { id: string; impact?: string | null; nodes: { target: string[] }[] }[];
}

/**
 * axe-core on the page as it stands: no serious or critical violation of WCAG 2.1 A and AA. Its script is
 * evaluated through the DevTools protocol (the pages' Content-Security-Policy allows no inline script). Then a
 * full-page screenshot named `name`.
 */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const inPage = globalThis as unknown as {
      axe: { run: (...args: unknown[]) => Promise<AxeResults> };
      document: unknown;
    };
    const results = await inPage.axe.run(inPage.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      nodes: violation.nodes.map((node) => node.target.join(' ')).slice(0, 5),
    }));
  });
  const serious = violations.filter((violation) => ['serious', 'critical'].includes(violation.impact ?? ''));
  expect({ page: name, serious }).toEqual({ page: name, serious: [] });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
