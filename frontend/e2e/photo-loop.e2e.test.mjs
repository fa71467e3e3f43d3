// End-to-end, the photo loop as a first-time visitor meets it: Auto answers from the server (a POST /stylize, no
// WebAssembly runtime before the first result, which then downloads in the background); a style picked paints at
// once with no stale label ever on screen; the phone layout at 390x844 keeps the photo and the style strip in
// view; a 2000x1500 photo comes back at the server's documented cap (2.1 MP) and, at full size on the device, at
// 2000x1500. Prints the time to the first result. Screenshots (desktop and phone, light and dark) land in
// frontend/test-results/e2e-photo-loop/.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { openApp, useStack } from "./stack.mjs";

const e2e = useStack("e2e-photo-loop");
const { artifacts, fixtures } = e2e;
const WAIT = { timeout: 90_000 };
const LONG = { timeout: 240_000 };
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let styles;

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`) });

/** A fresh visitor (a new context: empty storage and cache); requests are logged with their time. */
async function visit(viewport, options = {}) {
  const requests = [];
  const watch = (page) => page.on("request", (request) => requests.push({ at: Date.now(), method: request.method(), path: new URL(request.url()).pathname }));
  const { page, close } = await openApp(e2e, viewport, { contextOptions: { acceptDownloads: true, ...options }, beforeLoad: watch, timeout: WAIT.timeout });
  // In the page, on every change: a result marked current must carry the name of the style picked now.
  await page.evaluate(() => {
    window.__wrongLabels = [];
    const check = () => {
      const image = document.querySelector("[data-testid=result-image]");
      if (!image || image.dataset.current !== "true") return;
      const picked = document.querySelector(".style-card input:checked")?.closest(".style-card")?.querySelector(".style-card__name")?.textContent;
      if (picked && !image.alt.startsWith(picked)) window.__wrongLabels.push(`${image.alt} shown while ${picked} is picked`);
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  return {
    page,
    requests,
    async close() {
      assert.deepEqual(await page.evaluate(() => window.__wrongLabels), [], "a result under a label that is not its own");
      await close();
    },
  };
}

const currentResult = (page, options = WAIT) =>
  page.waitForFunction(() => document.querySelector("[data-testid=result-image][data-current=true]")?.naturalWidth > 0, null, options);

/** The width and height in a JPEG's or PNG's header. */
function imageSize(bytes) {
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  for (let i = 2; i < bytes.length; ) {
    const marker = bytes[i + 1];
    const length = bytes.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  throw new Error("no size in the image's header");
}

describe("the photo loop", { timeout: 600_000 }, () => {
  before(async () => { // within the suite: after the stack's own (root) before has started it
    styles = (await (await fetch(`${e2e.stack.baseUrl}/api/styles`)).json()).styles;
    assert.ok(styles.length >= 2, "the loop needs two styles");
  });

  test("a first-time visitor: Auto answers from the server with no runtime download first; a style picked paints at once", async () => {
    const { page, requests, close } = await visit(DESKTOP);
    const picked = Date.now();
    await page.locator("#photo-input").setInputFiles(join(fixtures, "sideways.jpg"));
    await currentResult(page);
    const firstResultMs = Date.now() - picked;
    const firstAt = Date.now();
    const serverMs = await page.getByTestId("ran-on").getAttribute("data-elapsed-ms");
    console.log(`# time to the first result (photo chosen to result shown, Auto, first visit): ${firstResultMs} ms, of which the server's stylizing ${serverMs} ms`);
    assert.equal(await page.getByTestId("ran-on").getAttribute("data-ran-on"), "server");
    assert.ok(requests.some((r) => r.method === "POST" && r.path.endsWith("/api/stylize") && r.at <= firstAt), "a POST /stylize");
    assert.deepEqual(requests.filter((r) => r.path.endsWith(".wasm") && r.at <= firstAt), [], "no WebAssembly before the first result");
    assert.match(await page.getByTestId("sent-size").innerText(), /Sent to the server: 1500 × 1000 JPEG/);
    await shot(page, "01-desktop-first-result");

    // Another style: painted without pressing Stylize; until it comes, the old result is named as the previous one.
    const other = styles[1];
    await page.locator(`.style-card[data-style-id="${other.id}"]`).click();
    assert.match(await page.getByTestId("result-title").innerText(), /^Previous: /);
    await page.waitForFunction((name) => {
      const image = document.querySelector("[data-testid=result-image][data-current=true]");
      return image?.alt === name && image.naturalWidth > 0;
    }, other.name, WAIT);
    const posts = requests.filter((r) => r.method === "POST" && r.path.endsWith("/api/stylize"));
    assert.equal(posts.length, 2, "one request per pick, no press of Stylize");

    // Strength: mixed in the browser, no new request.
    const slider = page.getByRole("slider", { name: "Strength" });
    await slider.focus();
    for (let i = 0; i < 6; i++) await page.keyboard.press("ArrowLeft");
    assert.equal(await page.getByTestId("result-image").evaluate((img) => img.style.opacity), "0.7");
    await page.waitForFunction(() => document.querySelector("a[data-testid=download]")?.download.includes("-70pct"), null, WAIT);
    assert.equal(requests.filter((r) => r.method === "POST" && r.path.endsWith("/api/stylize")).length, 2);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download").click()]);
    assert.match(download.suggestedFilename(), /^sideways-.+-70pct\.jpg$/);
    await shot(page, "02-desktop-strength-70");

    // The runtime downloads in the background, after the first result.
    await page.waitForFunction(() => performance.getEntriesByType("resource").some((e) => e.name.endsWith(".wasm")), null, WAIT);
    const wasm = requests.find((r) => r.path.endsWith(".wasm"));
    assert.ok(wasm.at > firstAt, "the runtime came after the first result");
    await close();
  });

  test("dark mode, desktop: the previous result dimmed while the next style is painted", async () => {
    const { page, close } = await visit(DESKTOP, { colorScheme: "dark" });
    const picked = Date.now();
    await page.locator("#photo-input").setInputFiles(join(fixtures, "sideways.jpg"));
    await currentResult(page);
    console.log(`# time to the first result, another first-time visitor (the server's model already loaded): ${Date.now() - picked} ms`);
    await page.route("**/api/stylize", async (route) => {
      await new Promise((r) => setTimeout(r, 1500)); // long enough to see the busy state
      await route.continue();
    });
    await page.locator(`.style-card[data-style-id="${styles[1].id}"]`).click();
    await page.getByText(`Painting in the style of ${styles[1].name}…`).waitFor(WAIT);
    assert.match(await page.getByTestId("result-image").getAttribute("alt"), /^Previous: /);
    await shot(page, "03-desktop-dark-painting-next");
    await currentResult(page);
    await shot(page, "04-desktop-dark-result");
    await close();
  });

  for (const colorScheme of ["light", "dark"]) {
    test(`at 390x844 (${colorScheme}): the photo and the style strip both in view, a tap paints without scrolling`, async () => {
      const { page, close } = await visit(PHONE, { colorScheme, deviceScaleFactor: 2, hasTouch: true, isMobile: true });
      await page.locator("#photo-input").setInputFiles(join(fixtures, "sideways.jpg"));
      await currentResult(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      const inView = () =>
        page.evaluate(() => {
          const box = (selector) => document.querySelector(selector).getBoundingClientRect();
          const photo = box(".compare");
          const strip = box(".step--styles .style-grid");
          const bar = box(".action-bar");
          return { photo, strip, bar, height: window.innerHeight, width: window.innerWidth, scrollY: window.scrollY,
            overflow: document.documentElement.scrollWidth - window.innerWidth };
        });
      const seen = await inView();
      assert.ok(seen.photo.top >= 0 && seen.photo.bottom <= seen.height, `the photo is in view: ${JSON.stringify(seen.photo)}`);
      assert.ok(seen.strip.top >= seen.photo.bottom && seen.strip.bottom <= seen.bar.top, `the strip is under the photo, above the action bar: ${JSON.stringify(seen)}`);
      assert.ok(seen.bar.bottom <= seen.height + 1 && seen.bar.top > seen.height / 2, "the action bar is at the bottom, in thumb's reach");
      assert.ok(seen.overflow <= 0, "nothing sticks out sideways");
      await shot(page, `05-phone-${colorScheme}-result`);

      // A style further along the strip: scrolled to sideways, tapped, painted; the page does not move.
      const last = styles[styles.length - 1];
      const card = page.locator(`.style-card[data-style-id="${last.id}"]`);
      await card.scrollIntoViewIfNeeded();
      const scrollY = await page.evaluate(() => window.scrollY);
      await card.tap();
      await page.waitForFunction((name) => document.querySelector("[data-testid=result-image][data-current=true]")?.alt === name, last.name, WAIT);
      await currentResult(page);
      assert.equal(await page.evaluate(() => window.scrollY), scrollY, "the page stayed where it was");
      const after = await inView();
      assert.ok(after.photo.top >= 0 && after.strip.bottom <= after.bar.top, "still both in view");
      await shot(page, `06-phone-${colorScheme}-tapped-style`);
      await close();
    });
  }

  test("a 2000x1500 photo: at the server's 2.1 MP cap by default, at 2000x1500 with Full size on the device", async () => {
    const { page, close } = await visit(DESKTOP);
    // A 2000x1500 photo with detail, drawn in the page and saved as a JPEG.
    const base64 = await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(2000, 1500);
      const context = canvas.getContext("2d");
      const gradient = context.createLinearGradient(0, 0, 2000, 1500);
      gradient.addColorStop(0, "#2d4b8e");
      gradient.addColorStop(1, "#e4b53c");
      context.fillStyle = gradient;
      context.fillRect(0, 0, 2000, 1500);
      for (let i = 0; i < 300; i++) {
        context.fillStyle = `hsl(${(i * 37) % 360} 70% 55%)`;
        context.beginPath();
        context.arc((i * 197) % 2000, (i * 131) % 1500, 20 + (i % 60), 0, 2 * Math.PI);
        context.fill();
      }
      const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.9 });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = "";
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return btoa(binary);
    });
    const file = join(fixtures, "big-2000x1500.jpg");
    writeFileSync(file, Buffer.from(base64, "base64"));
    await page.locator("#photo-input").setInputFiles(file);
    await currentResult(page);
    // The server holds a result to 2.1 MP (openapi.yaml): 2000x1500 is 3 MP, so 1673x1255 (the server's fit_size).
    assert.match(await page.getByTestId("ran-on").innerText(), /^1673 × 1255 · .* on the server/);
    let [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download").click()]);
    let saved = join(artifacts, download.suggestedFilename());
    await download.saveAs(saved);
    assert.deepEqual(imageSize(readFileSync(saved)), { width: 1673, height: 1255 });

    // Full size: its time is said before it starts, then the device paints the photo at its own size in tiles.
    const hint = await page.getByTestId("full-size-hint").innerText();
    assert.match(hint, /On this device, in tiles: about \d+ (s|min)/);
    await page.getByRole("switch", { name: /Full size \(2000 × 1500\)/ }).focus();
    await page.keyboard.press("Space");
    await page.waitForFunction(() => /^2000 × 1500 .* on this device/.test(document.querySelector("[data-testid=ran-on]")?.textContent ?? "")
      && document.querySelector("[data-testid=result-image][data-current=true]"), null, LONG);
    [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download").click()]);
    assert.match(download.suggestedFilename(), /-full-size\.png$/);
    saved = join(artifacts, download.suggestedFilename());
    await download.saveAs(saved);
    assert.deepEqual(imageSize(readFileSync(saved)), { width: 2000, height: 1500 });
    await shot(page, "07-desktop-full-size");
    await close();
  });
});
