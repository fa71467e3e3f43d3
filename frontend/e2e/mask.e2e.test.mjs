// End-to-end, where the style goes and the brush size, against the real local stack and the real models: a mask
// painted with the mouse over part of the photo leaves the rest the photo and the painted part the style (read
// from the result's pixels), invert flips it, the download carries it; a second style takes the other side; a
// brush size asks the server again and changes the result; on a phone the mask's canvas takes the touches (no
// scrolling) and the Download sits in the action bar. Screenshots land in frontend/test-results/e2e-mask/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { assertAccessible } from "./axe.mjs";
import { openApp, useStack } from "./stack.mjs";

const e2e = useStack("e2e-mask");
const { artifacts, fixtures } = e2e;
const WAIT = { timeout: 120_000 };
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
// The painted band (the brush's full core) and the part never painted, as fractions of the picture (x0, y0, x1, y1).
const PAINTED = [0.15, 0.17, 0.85, 0.23];
const UNPAINTED = [0.1, 0.6, 0.9, 0.95];

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`) });

/** The app on a fresh context; `stylizeBodies` collects the body of every POST /api/stylize. */
async function visit(viewport, options = {}) {
  const stylizeBodies = [];
  const watch = (page) => page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/api/stylize") stylizeBodies.push(JSON.parse(request.postData()));
  });
  const opened = await openApp(e2e, viewport, { contextOptions: { acceptDownloads: true, ...options }, beforeLoad: watch, timeout: WAIT.timeout });
  return { ...opened, stylizeBodies };
}

/** A photo on the server, the first style, waited for until its result is the current one. */
async function photoWithResult(page) {
  await page.getByRole("radio", { name: "On the server" }).check();
  await page.locator("#photo-input").setInputFiles(join(fixtures, "sideways.jpg"));
  await page.locator(".style-card").first().click();
  await currentResult(page);
}

const currentResult = (page) =>
  page.waitForFunction(() => document.querySelector("[data-testid=result-image][data-current=true]")?.naturalWidth > 0, null, WAIT);

const resultSrc = (page) => page.getByTestId("result-image").getAttribute("src");
const photoSrc = (page) => page.locator(".compare__image:not([data-testid])").getAttribute("src");

/** The mean absolute difference (0..255, over RGB) of two images' pixels within a rectangle given as fractions. */
function meanDifference(page, a, b, rect) {
  return page.evaluate(async ({ a, b, rect }) => {
    const pixels = async (url, width, height) => {
      const blob = window.__kept?.[url] ?? (await (await fetch(url)).blob());
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      const canvas = new OffscreenCanvas(width ?? bitmap.width, height ?? bitmap.height);
      const context = canvas.getContext("2d");
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return context.getImageData(0, 0, canvas.width, canvas.height);
    };
    const first = await pixels(a);
    const second = await pixels(b, first.width, first.height);
    const [x0, y0, x1, y1] = [rect[0] * first.width, rect[1] * first.height, rect[2] * first.width, rect[3] * first.height].map(Math.round);
    let sum = 0;
    let count = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        for (let c = 0; c < 3; c++) sum += Math.abs(first.data[(y * first.width + x) * 4 + c] - second.data[(y * first.width + x) * 4 + c]);
        count += 3;
      }
    }
    return sum / count;
  }, { a, b, rect });
}

/** Keeps an image's bytes under `name` for meanDifference: the app releases the URL of a picture it replaces. */
function keep(page, url, name) {
  return page.evaluate(async ({ url, name }) => {
    window.__kept ??= {};
    window.__kept[name] = await (await fetch(url)).blob();
  }, { url, name });
}

/** A stroke with the mouse across the picture at height `y` (a fraction), with the largest mask brush. */
async function paintBand(page, y) {
  const slider = page.getByLabel("Mask brush");
  await slider.focus();
  await page.keyboard.press("End");
  const box = await page.getByTestId("mask-canvas").boundingBox();
  await page.mouse.move(box.x + box.width * 0.02, box.y + box.height * y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.98, box.y + box.height * y, { steps: 25 });
  await page.mouse.up();
}

/** Waits for the screen's picture to be a new mix (another URL than `before`). */
const newMix = (page, before) =>
  page.waitForFunction((seen) => {
    const image = document.querySelector("[data-testid=result-image]");
    return image?.dataset.current === "true" && image.getAttribute("src") !== seen && image.naturalWidth > 0;
  }, before, WAIT);

describe("where the style goes, and the brush size", { timeout: 900_000 }, () => {
  test("a painted mask: the unpainted part is the photo, the painted part the style; invert flips it; the download carries it", async () => {
    const { page, stylizeBodies, close } = await visit(DESKTOP);
    await photoWithResult(page);
    assert.equal(stylizeBodies.at(-1).brush, 1, "the default brush is asked for");
    const photo = await photoSrc(page);
    const styled = await resultSrc(page);
    assert.ok(await meanDifference(page, photo, styled, PAINTED) > 12, "the style changes the photo there");

    await page.getByRole("button", { name: "Paint where the style goes" }).click();
    await page.getByTestId("mask-canvas").waitFor();
    await assertAccessible(page, "with the mask's tools open");
    await paintBand(page, 0.2);
    await newMix(page, styled);
    const masked = await resultSrc(page);
    await shot(page, "01-mask-painted");
    const photoSide = await meanDifference(page, photo, masked, UNPAINTED);
    const styleSide = await meanDifference(page, styled, masked, PAINTED);
    console.log(`# mask: unpainted vs photo ${photoSide.toFixed(2)}, painted vs style ${styleSide.toFixed(2)} (mean |difference|, 0..255)`);
    assert.ok(photoSide < 2.5, `the unpainted part is the photo (mean difference ${photoSide.toFixed(2)})`);
    assert.ok(styleSide < 2.5, `the painted part is the style (mean difference ${styleSide.toFixed(2)})`);
    assert.match(await page.getByTestId("mask-status").innerText(), /Where you painted/);
    assert.equal(stylizeBodies.length, 1, "a mask mixes in the browser, with no new request");

    await page.getByRole("button", { name: "Invert" }).click();
    await newMix(page, masked);
    const inverted = await resultSrc(page);
    const flippedPhoto = await meanDifference(page, photo, inverted, PAINTED);
    const flippedStyle = await meanDifference(page, styled, inverted, UNPAINTED);
    assert.ok(flippedPhoto < 2.5 && flippedStyle < 2.5, `inverted: painted ${flippedPhoto.toFixed(2)} from the photo, unpainted ${flippedStyle.toFixed(2)} from the style`);
    await shot(page, "02-mask-inverted");

    await page.getByRole("button", { name: "Done", exact: true }).click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download").click()]);
    assert.match(download.suggestedFilename(), /^sideways-.*-masked\.jpg$/);
    assert.equal(await page.getByTestId("download").getAttribute("href"), inverted, "the file is the masked mix on screen");
    await close();
  });

  test("a second style on the other side, and a brush size that paints again", async () => {
    const { page, stylizeBodies, close } = await visit(DESKTOP);
    await photoWithResult(page);
    const photo = await photoSrc(page);
    const styled = await resultSrc(page);
    await page.getByRole("button", { name: "Paint where the style goes" }).click();
    await paintBand(page, 0.2);
    await newMix(page, styled);
    const withPhoto = await resultSrc(page);

    await page.getByRole("radio", { name: "A second style" }).check();
    await newMix(page, withPhoto);
    const twoStyles = await resultSrc(page);
    assert.match(await page.getByTestId("result-image").getAttribute("alt"), / \/ /, "named for both styles");
    assert.ok(await meanDifference(page, photo, twoStyles, UNPAINTED) > 12, "the other side is painted too");
    assert.ok(await meanDifference(page, styled, twoStyles, PAINTED) < 2.5, "the painted side keeps the first style");
    await shot(page, "03-two-styles");

    await keep(page, twoStyles, "brush 1");
    const before = stylizeBodies.length;
    await page.getByLabel("Brush size").focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.getByTestId("brush-value").innerText(), "2×");
    // Both sides are asked again (after the pause that lets a run of taps paint only the last)...
    for (const deadline = Date.now() + WAIT.timeout; stylizeBodies.length < before + 2;) {
      assert.ok(Date.now() < deadline, "both sides asked again");
      await page.waitForTimeout(200);
    }
    // ...and only their mix is current: never the one before under the new settings.
    await newMix(page, twoStyles);
    const brushes = stylizeBodies.slice(before).map((body) => body.brush);
    assert.ok(brushes.length >= 2 && brushes.every((brush) => brush === 2), `both sides asked again with brush 2: ${brushes}`);
    const broader = await resultSrc(page);
    const change = await meanDifference(page, "brush 1", broader, PAINTED);
    console.log(`# brush 1 -> 2: mean |difference| ${change.toFixed(2)} in the painted part`);
    assert.ok(change > 3, `a broader brush changes the strokes (${change.toFixed(2)})`);
    await shot(page, "04-brush-2");
    await close();
  });

  test("at 390x844: painting does not scroll the page, and the Download is in the action bar", async () => {
    const { page, close } = await visit(PHONE, { deviceScaleFactor: 2, hasTouch: true, isMobile: true });
    await photoWithResult(page);
    const bar = page.locator(".action-bar").getByTestId("download-bar");
    await bar.waitFor(WAIT);
    assert.ok(await bar.isVisible(), "the Download sits in the sticky action bar");
    assert.equal(await page.locator(".result-bar [data-testid=download]").count(), 0, "not in the result bar");
    await page.getByRole("button", { name: "Paint where the style goes" }).click();
    const canvas = page.getByTestId("mask-canvas");
    await canvas.scrollIntoViewIfNeeded();
    assert.equal(await canvas.evaluate((element) => getComputedStyle(element).touchAction), "none");
    const scrollY = await page.evaluate(() => window.scrollY);
    const box = await canvas.boundingBox();
    // A finger drawn down the picture: touch events through the DevTools protocol, as a phone sends them.
    const cdp = await page.context().newCDPSession(page);
    const touch = (type, y) => cdp.send("Input.dispatchTouchEvent", { type, touchPoints: type === "touchEnd" ? [] : [{ x: box.x + box.width / 2, y }] });
    await touch("touchStart", box.y + box.height * 0.2);
    for (let step = 1; step <= 10; step++) await touch("touchMove", box.y + box.height * (0.2 + step * 0.06));
    await touch("touchEnd");
    await page.getByTestId("mask-status").filter({ hasText: "Where you painted" }).waitFor(WAIT);
    assert.equal(await page.evaluate(() => window.scrollY), scrollY, "the page did not scroll");
    await shot(page, "05-phone-mask");
    await close();
  });
});
