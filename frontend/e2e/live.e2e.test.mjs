// End-to-end, the live camera with Chromium's fake camera against the real local stack: the frames are painted
// by the bundled network's steady file, they are a mirror image of the camera (a selfie view) and so is the
// snapshot, and the snapshot with its download stays after the camera stops. Screenshots land in frontend/test-results/e2e-live/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { openApp, useStack } from "./stack.mjs";

const LONG = { timeout: 180_000 }; // the first frame waits for the runtime and the model, on 2 cores
const CAMERA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"];
const e2e = useStack("e2e-live", { fixtureArgs: null, stackOptions: { env: { MODELS_VARIANT: "halfres" } }, browserArgs: CAMERA_FLAGS });
const { artifacts } = e2e;

const snap = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`) });

/** How far `image` (the painted frame, or the snapshot's URL) is from the camera's frame now, drawn as it is and
 * drawn mirrored, at the image's size: mean absolute difference per channel (0..255). */
function distances(page, image) {
  return page.evaluate(async (source) => {
    const video = document.querySelector(".live__video");
    const canvas = document.querySelector("[data-testid=live-canvas]");
    const shown = source ? await createImageBitmap(await (await fetch(source)).blob()) : canvas;
    const width = canvas.width;
    const height = canvas.height;
    const pixels = (draw) => {
      const context = new OffscreenCanvas(width, height).getContext("2d");
      draw(context);
      return context.getImageData(0, 0, width, height).data;
    };
    const seen = pixels((c) => c.drawImage(shown, 0, 0, width, height));
    const plain = pixels((c) => c.drawImage(video, 0, 0, width, height));
    const mirrored = pixels((c) => { c.setTransform(-1, 0, 0, 1, width, 0); c.drawImage(video, 0, 0, width, height); });
    const distance = (other) => { let sum = 0; for (let i = 0; i < seen.length; i++) if (i % 4 !== 3) sum += Math.abs(seen[i] - other[i]); return sum / (seen.length * 0.75); };
    return { plain: distance(plain), mirrored: distance(mirrored) };
  }, image);
}

describe("the live camera", () => {
  test("a selfie view: mirrored frames and snapshot; the snapshot and its download stay after Stop", async () => {
    const models = []; // the model files the page downloads
    const watch = (page) => page.on("request", (request) => /\/models\/[^/]+\.onnx$/.test(request.url()) && models.push(new URL(request.url()).pathname));
    const { page, close } = await openApp(e2e, { width: 1280, height: 900 }, { contextOptions: { permissions: ["camera"], acceptDownloads: true }, beforeLoad: watch, timeout: LONG.timeout });
    await page.getByRole("radio", { name: "Live camera" }).check();
    await page.locator("#strength").fill("0"); // strength 0: each frame is the camera's own, so it can be compared
    await page.getByRole("radio", { name: "256 px" }).check();
    await page.getByRole("button", { name: "Start camera" }).click();
    await page.waitForFunction(() => /frames per second/.test(document.querySelector("[data-testid=live-fps]")?.textContent), null, LONG);
    assert.equal(await page.getByTestId("live-stage").getAttribute("data-mirrored"), "true", "the fake camera is a front one");
    // Moving pictures are painted by the steady network (strokes that hold still as the camera moves), not the
    // file photos use.
    assert.deepEqual(models, ["/models/bundled.steady.onnx"]);
    // The fake camera's picture moves: held still, every painted frame and the snapshot are of the one frame.
    await page.evaluate(() => document.querySelector(".live__video").pause());
    await page.waitForTimeout(2000); // a few frames painted from the still picture
    const frame = await distances(page, null);
    console.log(`# live frame against the camera: ${JSON.stringify(frame)}`);
    assert.ok(frame.mirrored < frame.plain / 2, `the painted frame is the camera mirrored: ${JSON.stringify(frame)}`);

    await page.getByRole("button", { name: "Take a snapshot" }).click();
    const link = page.getByTestId("snapshot-download");
    await link.waitFor(LONG);
    const shot = await distances(page, await link.getAttribute("href"));
    console.log(`# snapshot against the camera: ${JSON.stringify(shot)}`);
    assert.ok(shot.mirrored < shot.plain / 2, `the snapshot is mirrored as the frames are: ${JSON.stringify(shot)}`);
    await snap(page, "01-live-mirrored");

    await page.getByRole("button", { name: "Stop camera" }).click();
    await page.getByTestId("live-stage").and(page.locator("[data-camera=off]")).waitFor();
    await page.getByAltText("Your last snapshot").waitFor();
    assert.match(await link.innerText(), /Download snapshot \(\d+ × \d+\)/);
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    assert.match(download.suggestedFilename(), /^camera-.*\.png$/);
    assert.ok((await download.failure()) === null, "the snapshot still downloads after Stop");
    await snap(page, "02-live-stopped-snapshot-kept");
    await close();
  });
});
