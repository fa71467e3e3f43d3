// axe-core's accessibility rules, run inside the page by the e2e tests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's WCAG 2.1 A/AA rules on the page as it is now: serious or critical findings fail. */
export async function assertAccessible(page, when) {
  // Evaluated through the DevTools protocol, as a console would: an injected <script> is inline script, which the
  // page's Content-Security-Policy rightly refuses.
  await page.evaluate(`${axeSource}\n;undefined`);
  const results = await page.evaluate(() =>
    window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }),
  );
  const serious = results.violations
    .filter((violation) => ["serious", "critical"].includes(violation.impact))
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target).join(", ")})`);
  assert.deepEqual(serious, [], `accessibility problems ${when}`);
}
