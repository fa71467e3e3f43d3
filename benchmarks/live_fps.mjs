// The live camera's frame rate in headless Chromium (onnxruntime-web, WebAssembly, the page's own threads), for
// one or more models folders, or builds of the web app, in the same run, in turns: the first is the baseline the
// others are read against. Chromium's fake 640x480 camera; each size is held for --seconds after the first rate
// shows.
//
//   make frontend-build && node benchmarks/live_fps.mjs --models models --models /tmp/new-models [--rounds 2]
//   node benchmarks/live_fps.mjs --dist /tmp/old-dist --dist frontend/dist   (two builds, the same models)
//   node benchmarks/live_fps.mjs --variant halfres --variant fp32            (the device's file)
//
// Prints a table (docs/benchmarks.md, "On the device"). Ratios hold across machines; frames per second do not.
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = resolve(fileURLToPath(import.meta.url), "../..");
const frontend = join(repo, "frontend");
const { launchBrowser } = await import(join(frontend, "e2e", "browser.mjs"));
const { startStack } = await import(join(frontend, "e2e", "stack.mjs"));
const { values: args } = parseArgs({
  options: {
    models: { type: "string", multiple: true, default: [join(repo, "models")] },
    dist: { type: "string", multiple: true, default: [join(frontend, "dist")] },
    variant: { type: "string", multiple: true, default: ["halfres"] },
    style: { type: "string", default: "great_wave" },
    sizes: { type: "string", default: "256,384" },
    seconds: { type: "string", default: "12" },
    rounds: { type: "string", default: "2" },
  },
});
const python = process.env.PYTHON ?? join(repo, ".venv", "bin", "python");
const sizes = args.sizes.split(",").map(Number);
// Each arm: a models folder, a build and the variant of the files the device gets; a list of one serves every arm.
const ARM_OPTIONS = ["models", "dist", "variant"];
const armCount = Math.max(...ARM_OPTIONS.map((name) => args[name].length));
const arms = Array.from({ length: armCount }, (_, i) =>
  Object.fromEntries(ARM_OPTIONS.map((name) => [name, args[name][args[name].length === 1 ? 0 : i]])));
if (arms.some((arm) => ARM_OPTIONS.some((name) => !arm[name]))) {
  throw new Error("give --models, --dist and --variant once each, or as many times as the arms");
}
const varied = ARM_OPTIONS.filter((name) => args[name].length > 1); // what tells the arms apart in the table
const label = (arm) => varied.map((name) => arm[name]).join(", ") || arm.models;
const WAIT = { timeout: 300_000 };
const work = join(tmpdir(), `live-fps-${process.pid}`);
mkdirSync(work, { recursive: true });

/** Frames per second at each size for one arm: the app's own counter, after it has settled. */
async function measure(browser, { models, dist, variant }) {
  const stack = await startStack({ repo, python, modelsDir: resolve(models), staticDir: resolve(dist),
    logFile: join(work, "devserver.log"), env: { MODELS_VARIANT: variant } });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ["camera"] });
  try {
    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}/`);
    await page.locator(`.style-card[data-style-id="${args.style}"]`).click(WAIT);
    await page.getByRole("radio", { name: "Live camera" }).check();
    await page.getByRole("button", { name: "Start camera" }).click();
    const fps = {};
    for (const size of sizes) {
      await page.getByRole("radio", { name: `${size} px` }).check();
      await page.waitForFunction(() => /frames per second/.test(document.querySelector("[data-testid=live-fps]").textContent), null, WAIT);
      await page.waitForTimeout(Number(args.seconds) * 1000);
      fps[size] = Number.parseFloat(await page.getByTestId("live-fps").innerText());
    }
    await page.getByRole("button", { name: "Stop camera" }).click();
    return fps;
  } finally {
    await context.close();
    await stack.stop();
  }
}

const browser = await launchBrowser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]);
const results = arms.map(() => []);
try {
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [i, arm] of arms.entries()) results[i].push(await measure(browser, arm));
  }
} finally {
  await browser.close();
  rmSync(work, { recursive: true, force: true });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
console.log(`\nThe live camera, "${args.style}", ${args.variant.join(" / ")} files, headless Chromium (WebAssembly), ` +
  `median of ${args.rounds} rounds in turns; frames per second (x the first arm's)`);
console.log(`\n| ${varied.join(", ") || "models"} | ${sizes.map((s) => `${s} px`).join(" | ")} |\n| --- |${sizes.map(() => " ---: |").join("")}`);
const baseline = Object.fromEntries(sizes.map((s) => [s, median(results[0].map((r) => r[s]))]));
for (const [i, arm] of arms.entries()) {
  const cells = sizes.map((s) => {
    const fps = median(results[i].map((r) => r[s]));
    return `${fps.toFixed(1)} (${(fps / baseline[s]).toFixed(2)}x)`;
  });
  console.log(`| ${label(arm)} | ${cells.join(" | ")} |`);
}
