// End-to-end: Debian's Chromium drives the built app against the real local stack (python -m
// devserver with real ONNX models). Screenshots and the downloaded result land in
// frontend/test-results/e2e/. Run with `make test-frontend-e2e` (or `npm run e2e` after a build).
//
// E2E_BASE_URL=https://... runs the same checks against a stack that is already up (a deployment).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { assertAccessible } from "./axe.mjs";
import { launchBrowser } from "./browser.mjs";
import { repoPaths, startStack } from "./stack.mjs";

const frontendDir = resolve(fileURLToPath(import.meta.url), "../..");
const { repo, python } = repoPaths(frontendDir);
const artifacts = join(frontendDir, "test-results", "e2e");
const fixtures = join(artifacts, "fixtures");
const WAIT = { timeout: 90_000 }; // a stylize on a busy 2-core CI machine, first model load included
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 375, height: 812 };

let stack;
let browser;
let baseUrl;
let styles;

before(async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  execFileSync(python, [join(frontendDir, "e2e", "make_fixtures.py"), fixtures], { stdio: "inherit" });
  if (process.env.E2E_BASE_URL) {
    baseUrl = process.env.E2E_BASE_URL.replace(/\/+$/, "");
  } else {
    const modelsDir = execFileSync(python, [join(frontendDir, "e2e", "make_models.py"), join(artifacts, "models")], {
      cwd: repo,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    stack = await startStack({
      repo,
      python,
      modelsDir,
      staticDir: join(frontendDir, "dist"),
      logFile: join(artifacts, "devserver.log"),
    });
    baseUrl = stack.baseUrl;
  }
  const config = await (await fetch(`${baseUrl}/config.json`)).json();
  const apiBase = new URL(config.apiBaseUrl, `${baseUrl}/`).href.replace(/\/+$/, "");
  styles = (await (await fetch(`${apiBase}/styles`)).json()).styles;
  assert.ok(styles.length >= 1, "the stack serves no styles");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A page on a fresh context, failing the test on any uncaught page error. */
async function openApp(viewport, options = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(`${baseUrl}/`);
  await page.locator(".style-card input[type=radio]").first().waitFor({ state: "attached", ...WAIT });
  return {
    page,
    async close() {
      await context.close();
      assert.deepEqual(errors, [], "uncaught errors in the page");
    },
  };
}

/** The download's style part, as the app makes it (useStylizeJob's slug). */
const slug = (text) => text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-+|-+$/g, "").slice(0, 80);

const shot = (page, name, options = {}) => page.screenshot({ path: join(artifacts, `${name}.png`), ...options });

// These tests follow the server path (e2e/device.e2e.test.mjs covers stylizing on the device).
async function stylizeAndWait(page, busyShot) {
  await page.getByRole("radio", { name: "On the server" }).check();
  await page.getByRole("button", { name: "Stylize" }).click();
  // The busy state, as far as the request is still running (not asserted: a fast server may be done).
  if (busyShot) await shot(page, busyShot);
  await page.getByTestId("result-image").waitFor(WAIT);
  // The stylized image has really arrived and decoded, not just its element.
  await page.waitForFunction(() => document.querySelector("[data-testid=result-image][data-current=true]")?.naturalWidth > 0, null, WAIT);
}

describe("the web app on the local stack", { timeout: 300_000 }, () => {
  test("upload a photo, pick a style, see the result and download it", async () => {
    const { page, close } = await openApp(DESKTOP);
    await shot(page, "01-desktop-empty");
    await assertAccessible(page, "on the empty page");
    await page.locator("#photo-input").setInputFiles(join(fixtures, "sideways.jpg"));

    // EXIF orientation applied (stored 1000x1500, shown 1500x1000), within 2048 px and 2.1 MP: sent at its size.
    const facts = page.getByTestId("sent-size");
    await facts.waitFor(WAIT);
    assert.match(await facts.innerText(), /^sideways\.jpg\s+(Sends|Sent to the server:) 1500 × 1000 JPEG, \d+ kB\s+\(re-encoded from/);

    const style = styles[styles.length - 1];
    await page.locator(`.style-card[data-style-id="${style.id}"]`).click();
    await stylizeAndWait(page, "02-desktop-busy");
    assert.equal(await page.getByTestId("result-image").evaluate((img) => img.naturalWidth), 1500);
    assert.match(await page.locator(".result-bar").innerText(), new RegExp(`1500 × 1000`));

    // The comparison divider answers the keyboard in a real browser.
    const divider = page.getByRole("slider", { name: "Comparison divider" });
    await divider.focus();
    for (let i = 0; i < 10; i++) await page.keyboard.press("ArrowLeft");
    assert.equal(await page.getByTestId("result-image").evaluate((img) => img.style.clipPath), "inset(0px 0px 0px 40%)");
    await shot(page, "03-desktop-result");
    await assertAccessible(page, "with a result");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download").click()]);
    assert.equal(download.suggestedFilename(), `sideways-${slug(style.name)}.jpg`);
    const saved = join(artifacts, download.suggestedFilename());
    await download.saveAs(saved);
    const bytes = readFileSync(saved);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], "the download is a JPEG");
    assert.ok(bytes.length > 10_000);
    await close();
  });

  test("pick a gallery sample and stylize it (in dark mode)", async () => {
    const { page, close } = await openApp(DESKTOP, { colorScheme: "dark" });
    const samples = page.locator(".gallery__item");
    await samples.first().waitFor(WAIT);
    // Thumbnails come straight from the gallery bucket's presigned URLs.
    await page.waitForFunction(
      () => [...document.querySelectorAll(".gallery__item img")].every((img) => img.complete && img.naturalWidth > 0),
      null,
      WAIT,
    );
    const sample = samples.nth(2);
    const key = await sample.getAttribute("data-gallery-key");
    await sample.click();
    await page.getByTestId("photo-preview").waitFor(WAIT);
    assert.equal(await sample.getAttribute("aria-pressed"), "true");
    assert.match(await page.getByTestId("sent-size").innerText(), /Sample photo, \d+ × \d+/);
    await stylizeAndWait(page);
    const stem = key.split("/").pop().replace(/\.[^.]+$/, "");
    assert.equal(await page.getByTestId("download").getAttribute("download"), `${stem}-${slug(styles[0].name)}.jpg`);
    await shot(page, "04-desktop-dark-gallery-result");
    await assertAccessible(page, "in dark mode");
    await close();
  });

  test("a file that is not an image gets a clear message", async () => {
    const { page, close } = await openApp(DESKTOP);
    await page.locator("#photo-input").setInputFiles(join(fixtures, "notes.txt"));
    const alert = page.getByRole("alert");
    await alert.waitFor(WAIT);
    assert.match(await alert.innerText(), /That file can’t be used[\s\S]*“notes\.txt” isn’t an image/);
    await page.waitForTimeout(300); // let the message's fade-in finish for the screenshot
    await shot(page, "05-desktop-not-an-image");
    await assertAccessible(page, "with an error message");

    // Named and typed like a JPEG, but only decoding can tell: the same clear message.
    await page.getByRole("button", { name: "Dismiss message" }).click();
    await page.locator("#photo-input").setInputFiles(join(fixtures, "fake.jpg"));
    await alert.waitFor(WAIT);
    assert.match(await alert.innerText(), /“fake\.jpg” isn’t an image/);
    assert.equal(await page.getByTestId("photo-preview").count(), 0);
    await close();
  });

  test("a photo can be dropped on the page or pasted", async () => {
    const { page, close } = await openApp(DESKTOP);
    const base64 = readFileSync(join(fixtures, "sideways.jpg")).toString("base64");
    const makeTransfer = (name) =>
      page.evaluateHandle(
        ({ base64, name }) => {
          const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
          return transfer;
        },
        { base64, name },
      );

    const dropped = await makeTransfer("dropped.jpg");
    await page.dispatchEvent("body", "dragenter", { dataTransfer: dropped });
    await page.getByText("Drop to use this photo").waitFor();
    await shot(page, "06-desktop-drag-over");
    await page.dispatchEvent("body", "drop", { dataTransfer: dropped });
    await page.getByTestId("photo-preview").waitFor(WAIT);
    assert.equal(await page.getByText("Drop to use this photo").count(), 0);

    const facts = page.getByTestId("sent-size");
    assert.match(await facts.innerText(), /^dropped\.jpg\s+(Sends|Sent to the server:) 1500 × 1000 JPEG/);

    const pasted = await makeTransfer("pasted.jpg");
    await page.evaluate((clipboardData) => {
      document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData, bubbles: true }));
    }, pasted);
    await page.waitForFunction(() => document.querySelector("[data-testid=sent-size]")?.textContent.startsWith("pasted.jpg"));
    assert.match(await facts.innerText(), /^pasted\.jpg\s+(Sends|Sent to the server:) 1500 × 1000 JPEG/);
    await close();
  });

  test("at phone width, by keyboard alone", async () => {
    const { page, close } = await openApp(PHONE, { deviceScaleFactor: 2, hasTouch: true });
    await shot(page, "07-phone-empty");

    // Tab to each control (asserting a visible focus ring) and operate it with keys.
    async function tabTo(locator, limit = 40) {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press("Tab");
        if (await locator.evaluate((element) => element === document.activeElement)) {
          const ring = await page.evaluate(() => {
            const active = document.activeElement;
            // The style radios and the divider draw their ring on a sibling; the rest on themselves.
            const target =
              active.closest(".style-card")?.querySelector(".thumb") ??
              active.closest(".switch")?.querySelector(".switch__track") ??
              active.closest(".segmented__option")?.querySelector("span") ??
              active;
            const style = getComputedStyle(target);
            return style.outlineStyle !== "none" && style.outlineWidth !== "0px";
          });
          assert.ok(ring, "the focused control shows a focus ring");
          return;
        }
      }
      assert.fail(`could not Tab to ${locator}`);
    }

    await tabTo(page.locator(".gallery__item").first());
    await page.keyboard.press("Enter");
    await page.getByTestId("photo-preview").waitFor(WAIT);

    await tabTo(page.locator(".style-card input:checked"));
    await page.keyboard.press("ArrowRight");
    const picked = styles[Math.min(1, styles.length - 1)];
    assert.ok(await page.locator(`.style-card[data-style-id="${picked.id}"] input`).isChecked());

    await tabTo(page.getByRole("slider", { name: "Strength" }));
    await page.keyboard.press("ArrowLeft"); // one step of 5%
    assert.equal(await page.locator("output[for=strength]").innerText(), "95%");
    await tabTo(page.getByRole("switch", { name: /Keep original colours/ }));
    await page.keyboard.press("Space");
    assert.ok(await page.getByRole("switch", { name: /Keep original colours/ }).isChecked());

    await tabTo(page.getByRole("radio", { name: "Auto" }));
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    assert.ok(await page.getByRole("radio", { name: "On the server" }).isChecked());

    await tabTo(page.getByRole("button", { name: "Stylize" }));
    await page.keyboard.press("Enter");
    await page.getByTestId("result-image").waitFor(WAIT);
    await page.waitForFunction(() => document.querySelector("[data-testid=result-image][data-current=true]")?.naturalWidth > 0, null, WAIT);

    // Nothing sticks out sideways at 375 px.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, "08-phone-result");
    await assertAccessible(page, "at phone width");
    // A full-page capture would paint the sticky Stylize bar mid-page: pin it in place for this one (through the
    // CSSOM: an injected <style> is inline style, which the page's Content-Security-Policy refuses).
    await page.evaluate(() =>
      document.querySelectorAll(".action-bar").forEach((bar) => bar.style.setProperty("position", "static", "important")),
    );
    await shot(page, "09-phone-result-full", { fullPage: true });
    await close();
  });
});
