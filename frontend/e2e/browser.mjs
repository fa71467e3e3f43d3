// Debian's Chromium driven by playwright-core (playwright's own browser downloads are not
// reachable here). playwright gives each launch a fresh, temporary --user-data-dir.
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

export function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync("which", ["chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium is not installed: run `make chromium` (apt-get install -y chromium)");
  }
}

/** extraArgs: e.g. the fake camera's flags for the live mode's tests. */
export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}
