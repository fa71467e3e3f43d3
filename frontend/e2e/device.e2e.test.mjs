// End-to-end, on the device: the built app stylizes with onnxruntime-web (WebAssembly) in Debian's
// Chromium against the real local stack, compared pixel for pixel with the server's result for the same
// photo and style; the model cache on a second visit; the server taking over when the device path fails;
// and the live camera with Chromium's fake camera. Screenshots land in frontend/test-results/e2e-device/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "./browser.mjs";
import { repoPaths, startStack } from "./stack.mjs";

const frontendDir = resolve(fileURLToPath(import.meta.url), "../..");
const { repo, python } = repoPaths(frontendDir);
const artifacts = join(frontendDir, "test-results", "e2e-device");
const fixtures = join(artifacts, "fixtures");
const LONG = { timeout: 180_000 }; // the first visit downloads the runtime and the model, then runs on 2 cores
const VIEW = { width: 1280, height: 900 };
const CAMERA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"];

const stacks = {};
let browser;
let modelsDir;

function python_(script, ...args) {
  return execFileSync(python, [join(frontendDir, "e2e", script), ...args], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/** The local stack serving one model variant (the device runs the one the server serves). */
async function stackFor(variant) {
  stacks[variant] ??= startStack({
    repo, python, modelsDir,
    staticDir: join(frontendDir, "dist"),
    logFile: join(artifacts, `devserver-${variant}.log`),
    env: { MODELS_VARIANT: variant },
  });
  return stacks[variant];
}

before(async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  python_("make_fixtures.py", fixtures);
  modelsDir = python_("make_models.py", join(artifacts, "models"));
  browser = await launchBrowser(CAMERA_FLAGS);
});

after(async () => {
  await browser?.close();
  for (const stack of Object.values(stacks)) await (await stack).stop();
});

/** A page of the app in `context`; model-file and runtime downloads are counted in `downloads`. */
async function visit(context, baseUrl) {
  const page = await context.newPage();
  const problems = [];
  const downloads = [];
  page.on("pageerror", (error) => problems.push(error));
  page.on("request", (request) => {
    if (/\/models\/|\.wasm$/.test(new URL(request.url()).pathname)) downloads.push(request.url());
  });
  await page.goto(`${baseUrl}/`);
  await page.locator(".style-card input[type=radio]").first().waitFor({ state: "attached", ...LONG });
  return { page, problems, downloads };
}

/** The model file a style is served from: its own card's (a one-style model) or its network's card's. */
function servedFileOf(styleId) {
  for (const name of readdirSync(modelsDir).filter((n) => n.endsWith(".json"))) {
    const card = JSON.parse(readFileSync(join(modelsDir, name), "utf8"));
    if (card.id === styleId || (card.styles ?? []).some((style) => style.id === styleId)) return card.model.file;
  }
  throw new Error(`no model card in ${modelsDir} has the style ${styleId}`);
}

/** The last style of a multi-style network's card (not its default, the first), else another card's style. */
function notTheFirstStyle() {
  const cards = readdirSync(modelsDir).filter((n) => n.endsWith(".json")).map((n) => JSON.parse(readFileSync(join(modelsDir, n), "utf8")));
  const network = cards.find((card) => (card.styles ?? []).length > 1);
  return network ? network.styles.at(-1).id : cards.map((card) => card.id).find((id) => id !== "great_wave");
}

const snap = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`) });

async function stylizeHere(page, { styleId, where = "On this device", file = "sideways.jpg" }) {
  await page.locator("#photo-input").setInputFiles(join(fixtures, file));
  await page.getByTestId("photo-preview").waitFor(LONG);
  await page.locator(`.style-card[data-style-id="${styleId}"]`).click();
  await page.getByRole("radio", { name: where }).check();
  await page.getByRole("button", { name: "Stylize" }).click();
  await page.waitForFunction(() => document.querySelector("[data-testid=result-image][data-current=true]")?.naturalWidth > 0, null, LONG);
  return page.getByTestId("ran-on").getAttribute("data-ran-on");
}

/** PSNR (dB, RGB) of the shown result against the server's PNG for the photo that would be uploaded, painted with
 * the same brush (the app's default unless the slider was moved). */
async function psnrAgainstServer(page, styleId, brush = 1) {
  return page.evaluate(async ({ style, brush }) => {
    const pixels = async (blob) => {
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext("2d");
      context.drawImage(bitmap, 0, 0);
      return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
    };
    const photo = await (await fetch(document.querySelector(".compare__image:not([data-testid])").src)).blob();
    const bytes = new Uint8Array(await photo.arrayBuffer());
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    const response = await fetch("/api/stylize", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image: btoa(binary), style, format: "png", max_size: 2048, brush }),
    });
    const body = await response.json();
    const server = await pixels(await (await fetch(`data:image/png;base64,${body.image}`)).blob());
    const device = await pixels(await (await fetch(document.querySelector("[data-testid=result-image]").src)).blob());
    if (server.length !== device.length) return { error: `sizes differ: ${server.length} vs ${device.length}` };
    let sum = 0;
    for (let i = 0; i < server.length; i++) if (i % 4 !== 3) sum += (server[i] - device[i]) ** 2;
    return { psnr: 10 * Math.log10((255 * 255) / (sum / ((server.length / 4) * 3))), serverMs: body.timings.inference_ms };
  }, { style: styleId, brush });
}

/** The brush slider moved to its finest stop (0.125: the photo painted at its own size), and the new result. */
async function finestBrush(page) {
  await page.getByLabel("Brush size").focus();
  for (let step = 0; step < 4; step++) await page.keyboard.press("ArrowLeft"); // 1, 0.75, 0.5, 0.25, 0.125
  assert.equal(await page.getByTestId("brush-value").innerText(), "0.125×");
  await page.waitForFunction(() => document.querySelector("[data-testid=result-image]")?.dataset.current === "false", null, LONG);
  await page.waitForFunction(() => document.querySelector("[data-testid=result-image][data-current=true]")?.naturalWidth > 0, null, LONG);
}

// The device against the server at the default brush: a 1000x1500 photo is painted at 683x1024 on both and brought
// to full size by the guided-filter upsampling (stylecore/brush.py, image/brush.ts, byte-exact on the shrink and
// within 1e-2 of a level on the upsampling); the network's own difference (WebAssembly against the server's CPU
// float order) is what is left. Measured on this machine's Chromium (WebAssembly, fp32): 69.3 dB (great_wave) and
// 73.4 dB (monet_houses_of_parliament), halfres 69.4 dB; the bar keeps the finest brush's 40 dB, a margin of ~30 dB
// for other CPUs' float order and browsers' JPEG decoders.
const DEFAULT_BRUSH_PSNR = 40;

describe("stylizing on the device", { timeout: 900_000 }, () => {
  test("fp32: the device's result matches the server's at the default brush and the finest (PSNR >= 40 dB), and a second visit uses the cache", async () => {
    const { baseUrl } = await stackFor("fp32");
    const styleId = "great_wave";
    const modelFile = servedFileOf(styleId);
    const context = await browser.newContext({ viewport: VIEW });
    const first = await visit(context, baseUrl);
    assert.equal(await first.page.evaluate(() => crossOriginIsolated), true, "COOP/COEP make the page cross-origin isolated");
    // The gallery's thumbnails (S3 presigned URLs on another origin) still load under COEP.
    await first.page.waitForFunction(
      () => [...document.querySelectorAll(".gallery__item img")].length > 0 &&
        [...document.querySelectorAll(".gallery__item img")].every((img) => img.complete && img.naturalWidth > 0),
      null, LONG,
    );
    assert.equal(await stylizeHere(first.page, { styleId }), "device");
    assert.match(await first.page.getByTestId("ran-on").innerText(), /on this device \(WebAssembly\)/);
    await snap(first.page, "01-device-result");
    const { psnr, serverMs, error } = await psnrAgainstServer(first.page, styleId);
    assert.equal(error, undefined);
    console.log(`# fp32 device vs server, default brush 1: PSNR ${psnr.toFixed(2)} dB (server inference ${serverMs} ms)`);
    assert.ok(psnr >= DEFAULT_BRUSH_PSNR, `brush 1: PSNR ${psnr.toFixed(2)} dB is under ${DEFAULT_BRUSH_PSNR} dB`);
    const [download] = await Promise.all([first.page.waitForEvent("download"), first.page.getByTestId("download").click()]);
    assert.equal(download.suggestedFilename(), "sideways-the-great-wave-off-kanagawa.png");
    assert.ok(first.downloads.some((url) => url.endsWith(`/models/${modelFile}`)), "the first visit downloads the model");
    // Not only a network's first style: each style's own weights go in (a file's default is its first style).
    const other = notTheFirstStyle();
    assert.equal(await stylizeHere(first.page, { styleId: other }), "device");
    const second = await psnrAgainstServer(first.page, other);
    console.log(`# fp32 device vs server, ${other}, brush 1: PSNR ${second.psnr.toFixed(2)} dB`);
    assert.ok(second.psnr >= DEFAULT_BRUSH_PSNR, `${other}: PSNR ${second.psnr.toFixed(2)} dB is under ${DEFAULT_BRUSH_PSNR} dB`);
    // The finest brush: the photo painted at its own size on both, as before brush sizes.
    await finestBrush(first.page);
    assert.equal(await first.page.getByTestId("ran-on").getAttribute("data-ran-on"), "device");
    const finest = await psnrAgainstServer(first.page, other, 0.125);
    console.log(`# fp32 device vs server, ${other}, brush 0.125: PSNR ${finest.psnr.toFixed(2)} dB`);
    assert.ok(finest.psnr >= 40, `brush 0.125: PSNR ${finest.psnr.toFixed(2)} dB is under 40 dB`);
    assert.deepEqual(first.problems, []);
    await first.page.close();

    const again = await visit(context, baseUrl);
    assert.equal(await stylizeHere(again.page, { styleId }), "device");
    assert.deepEqual(again.downloads, [], "the second visit downloads neither the model nor the runtime");
    assert.deepEqual(again.problems, []);
    await context.close();
  });

  test("MODELS_VARIANT=halfres (the default: the half-resolution layout where a network has it, else fp32): the device against the server", async () => {
    const { baseUrl } = await stackFor("halfres");
    const context = await browser.newContext({ viewport: VIEW, colorScheme: "dark" });
    const { page, problems } = await visit(context, baseUrl);
    assert.equal(await stylizeHere(page, { styleId: "great_wave" }), "device");
    const { psnr } = await psnrAgainstServer(page, "great_wave");
    console.log(`# halfres device vs server: PSNR ${psnr.toFixed(2)} dB`);
    assert.ok(psnr >= 30, `halfres PSNR ${psnr.toFixed(2)} dB`);
    await snap(page, "02-device-halfres-dark");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("when the device path fails (a model file that does not match its card), the server takes over", async () => {
    const { baseUrl } = await stackFor("halfres");
    const context = await browser.newContext({ viewport: VIEW });
    await context.route("**/models/*.onnx", (route) => route.fulfill({ status: 200, body: Buffer.from("not the model") }));
    const { page, problems } = await visit(context, baseUrl);
    assert.equal(await stylizeHere(page, { styleId: "great_wave" }), "server");
    const notice = await page.getByTestId("notice").innerText();
    assert.match(notice, /Stylized on the server instead[\s\S]*does not match its model card/);
    await snap(page, "03-device-failed-server-took-over");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("live camera: changing stylized frames with their rate, a full-size snapshot, and stop releases the camera", async () => {
    const { baseUrl } = await stackFor("halfres");
    const context = await browser.newContext({ viewport: VIEW, permissions: ["camera"], acceptDownloads: true });
    await context.addInitScript(() => {
      window.__streams = [];
      const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        const stream = await original(constraints);
        window.__streams.push(stream);
        return stream;
      };
    });
    const { page, problems } = await visit(context, baseUrl);
    await page.getByRole("radio", { name: "Live camera" }).check();
    await page.getByRole("radio", { name: "256 px" }).check(); // chosen: Auto would step up on a fast machine
    await page.getByRole("button", { name: "Start camera" }).click();
    await page.waitForFunction(() => /frames per second/.test(document.querySelector("[data-testid=live-fps]")?.textContent), null, LONG);
    const frame = () => page.evaluate(() => document.querySelector("[data-testid=live-canvas]").toDataURL());
    const one = await frame();
    await page.waitForFunction((seen) => document.querySelector("[data-testid=live-canvas]").toDataURL() !== seen, one, LONG);
    const size = await page.evaluate(() => [document.querySelector("[data-testid=live-canvas]").width, document.querySelector("[data-testid=live-canvas]").height]);
    assert.equal(Math.max(...size), 256, "frames at the chosen size");
    await snap(page, "04-live-camera");
    console.log(`# live: ${await page.getByTestId("live-fps").innerText()} at 256 px`);

    await page.getByRole("button", { name: "Take a snapshot" }).click();
    const link = page.getByTestId("snapshot-download");
    await link.waitFor(LONG);
    const full = await page.evaluate(() => [window.__streams[0].getVideoTracks()[0].getSettings().width, window.__streams[0].getVideoTracks()[0].getSettings().height]);
    assert.match(await link.innerText(), new RegExp(`${full[0]} × ${full[1]}`), "the snapshot has the camera's full resolution");
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    assert.match(download.suggestedFilename(), /^camera-.*-great_wave\.png$|^camera-.*\.png$/);

    await page.getByRole("button", { name: "Stop camera" }).click();
    await page.getByTestId("live-stage").and(page.locator("[data-camera=off]")).waitFor();
    const states = await page.evaluate(() => window.__streams.flatMap((s) => s.getTracks().map((t) => t.readyState)));
    assert.ok(states.length > 0 && states.every((state) => state === "ended"), `tracks: ${states}`);
    await snap(page, "05-live-stopped");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
