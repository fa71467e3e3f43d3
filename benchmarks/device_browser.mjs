// On-device stylizing measured in headless Chromium (onnxruntime-web, WebAssembly; WebGPU is not available
// here), beside the server's time for the same images in the same run; the live camera's frame rate with
// Chromium's fake camera; and the first visit's downloads against the second (cached) visit's.
//
//   make frontend-build && node benchmarks/device_browser.mjs [--variant int8|fp32] [--runs 3]
//
// Prints a table (docs/benchmarks.md, "On the device"). Needs .venv (the local stack) and chromium.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = resolve(fileURLToPath(import.meta.url), "../..");
const frontend = join(repo, "frontend");
const { launchBrowser } = await import(join(frontend, "e2e", "browser.mjs"));
const { startStack } = await import(join(frontend, "e2e", "stack.mjs"));
const { values: args } = parseArgs({ options: { variant: { type: "string", default: "int8" }, runs: { type: "string", default: "3" } } });
const runs = Number(args.runs);
const python = process.env.PYTHON ?? join(repo, ".venv", "bin", "python");
const work = join(tmpdir(), `device-bench-${process.pid}`);
mkdirSync(work, { recursive: true });

// Square crops of a gallery photo, as JPEGs (what the app sends and decodes).
execFileSync(python, ["-c", `
from PIL import Image
photo = Image.open("${repo}/sample_gallery/coffee.jpg").convert("RGB")
for size in (512, 1024):
    photo.resize((size, size), Image.LANCZOS).save("${work}/photo-%d.jpg" % size, quality=92)
`]);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const stack = await startStack({ repo, python, modelsDir: join(repo, "models"), staticDir: join(frontend, "dist"),
  logFile: join(work, "devserver.log"), env: { MODELS_VARIANT: args.variant } });
const browser = await launchBrowser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]);
const WAIT = { timeout: 600_000 };
const style = "great_wave";

async function open(context) {
  const page = await context.newPage();
  const fetched = [];
  page.on("response", async (response) => {
    if (!/\/models\/|\.wasm$/.test(new URL(response.url()).pathname)) return;
    fetched.push({ url: response.url(), bytes: (await response.body().catch(() => Buffer.alloc(0))).length });
  });
  await page.goto(`${stack.baseUrl}/`);
  await page.locator(`.style-card[data-style-id="${style}"]`).click(WAIT);
  await page.getByRole("radio", { name: "On this device" }).check();
  return { page, fetched };
}

async function deviceRun(page, file) {
  await page.locator("#photo-input").setInputFiles(file);
  await page.getByTestId("photo-preview").waitFor(WAIT);
  const started = Date.now();
  await page.getByRole("button", { name: "Stylize" }).click();
  const ran = page.getByTestId("ran-on");
  await ran.waitFor(WAIT);
  if ((await ran.getAttribute("data-ran-on")) !== "device") throw new Error(await page.getByTestId("notice").innerText());
  return { ms: Number(await ran.getAttribute("data-elapsed-ms")), wallMs: Date.now() - started };
}

async function serverRun(file, size) {
  const { readFileSync } = await import("node:fs");
  const body = JSON.stringify({ image: readFileSync(file).toString("base64"), style, max_size: size, format: "png" });
  const started = performance.now();
  const response = await fetch(`${stack.baseUrl}/api/stylize`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  const json = await response.json();
  return { inference: json.timings.inference_ms, total: performance.now() - started };
}

const rows = [];
try {
  // First visit (empty cache), then a second visit in the same browser profile.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const first = await open(context);
  const threads = await first.page.locator("#where-hint").innerText().catch(() => "");
  const firstRun = await deviceRun(first.page, join(work, "photo-512.jpg"));
  const firstBytes = first.fetched.reduce((sum, f) => sum + f.bytes, 0);
  await first.page.close();
  const second = await open(context);
  const secondRun = await deviceRun(second.page, join(work, "photo-512.jpg"));
  const secondBytes = second.fetched.reduce((sum, f) => sum + f.bytes, 0);

  for (const size of [512, 1024]) {
    const file = join(work, `photo-${size}.jpg`);
    const device = [];
    for (let i = 0; i < runs; i++) device.push((await deviceRun(second.page, file)).ms);
    const server = [];
    await serverRun(file, size); // warm
    for (let i = 0; i < runs; i++) server.push(await serverRun(file, size));
    rows.push([`${size}x${size}`, median(device), median(server.map((s) => s.inference)), median(server.map((s) => s.total))]);
  }
  await context.close();

  // The live camera at 256 and 384 px.
  const live = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ["camera"] });
  const page = (await open(live)).page;
  await page.getByRole("radio", { name: "Live camera" }).check();
  await page.getByRole("button", { name: "Start camera" }).click();
  const fps = {};
  for (const size of [256, 384]) {
    await page.getByRole("radio", { name: `${size} px` }).check();
    await page.waitForFunction(() => /frames per second/.test(document.querySelector("[data-testid=live-fps]").textContent), null, WAIT);
    await page.waitForTimeout(12_000);
    fps[size] = await page.getByTestId("live-fps").innerText();
  }
  await page.getByRole("button", { name: "Stop camera" }).click();
  await live.close();

  console.log(`\nOn-device stylizing, ${args.variant} model "${style}", headless Chromium (WebAssembly). ${threads}`);
  console.log(`\n| image | device, ms (median of ${runs}) | server inference_ms | server request, ms |`);
  console.log("| --- | ---: | ---: | ---: |");
  for (const [size, device, inference, total] of rows) console.log(`| ${size} | ${device} | ${inference.toFixed(0)} | ${total.toFixed(0)} |`);
  console.log(`\n| live camera (fake, ${"640x480"}) | frames per second |\n| --- | --- |`);
  for (const [size, text] of Object.entries(fps)) console.log(`| ${size} px | ${text} |`);
  console.log("\n| visit | downloaded | first stylize, ms (wall) |\n| --- | ---: | ---: |");
  console.log(`| first (empty cache) | ${(firstBytes / 1e6).toFixed(1)} MB in ${first.fetched.length} files | ${firstRun.wallMs} |`);
  console.log(`| second (Cache Storage) | ${(secondBytes / 1e6).toFixed(1)} MB in ${second.fetched.length} files | ${secondRun.wallMs} |`);
} finally {
  await browser.close();
  await stack.stop();
}
