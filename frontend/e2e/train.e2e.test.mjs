// End-to-end, "Train your own style": Debian's Chromium drives the built app against the local stack, whose
// worker runs the real trainer and exporter on this CPU on a tiny schedule (32-pixel crops, the ImageNet loss
// network `make dev-train` builds, a preview every 20 steps). It uploads a painting, watches the step, losses,
// time left and preview arrive, queues and cancels a second job, ends the first with Use it now at a checkpoint
// long before its last step, then uses that style, which the server and the device stylize, alone and blended
// with a bundled style (the job fine-tunes the bundled network, as `make dev` does), and deletes it. A phone-
// width, dark page picks the running job up after a reload.
// Screenshots land in frontend/test-results/e2e-train/.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { assertAccessible } from "./axe.mjs";
import { openApp, useStack } from "./stack.mjs";

const STEPS = 20_000; // more than this test waits for: Use it now ends the job at a checkpoint (every 50 steps)
const TRAINING = { timeout: 480_000 }; // PyTorch's start, the steps and the export on a busy 2-core machine
const WAIT = { timeout: 90_000 };
let base;

// The new style is fine-tuned from the bundled network, as in `make dev`, so that it blends with its styles (a
// checkout without models/ trains one from scratch, which does not blend). The loss network's weights are the
// stack's default, weights/vgg16-caffe.pth, which `make dev-train` builds (and `make test-frontend-e2e`): the
// first job on a clean clone trains from what `make dev-train` gives.
const e2e = useStack("e2e-train", {
  stackOptions: (modelsDir) => {
    const bundled = join(modelsDir, "bundled.onnx");
    base = existsSync(bundled) ? bundled : "none";
    return { extraArgs: ["--training-phases", `${STEPS}@32`, "--base-network", base] };
  },
});
const { artifacts, fixtures, repo } = e2e;
const SCREAM = join(repo, "..", "shared", "assets", "styles", "the_scream.jpg");
const PAINTING = existsSync(SCREAM) ? SCREAM : join(repo, "sample_gallery", "rocket.jpg"); // a checkout without ../shared

async function open(viewport, options = {}) {
  return openApp(e2e, viewport, { contextOptions: options, timeout: WAIT.timeout });
}

const shot = (page, name, options = {}) => page.screenshot({ path: join(artifacts, `${name}.png`), ...options });
const card = (page, name) => page.getByRole("article", { name });

/** Opens "Add your own style", chooses the painting, names it with the keyboard and presses Enter. */
async function addStyle(page, name) {
  await page.getByRole("button", { name: "Add your own style" }).click();
  await page.getByLabel("Painting file").setInputFiles(PAINTING);
  const field = page.getByLabel("Name", { exact: true });
  await page.getByTestId("painting-preview").waitFor(WAIT);
  assert.equal(await field.evaluate((input) => input === document.activeElement), true, "the name field takes the focus");
  await field.fill(name);
  const created = page.waitForResponse((response) => response.url().endsWith("/api/styles") && response.request().method() === "POST");
  await field.press("Enter");
  const response = await created;
  assert.equal(response.status(), 202);
  return (await response.json()).id;
}

describe("train your own style", { timeout: 900_000 }, () => {
  test("upload a painting, watch it learn, cancel a second job, use the finished style, delete it", async () => {
    const { page, errors, context } = await open({ width: 1280, height: 900 });
    const id = await addStyle(page, "My Scream");
    const training = card(page, "My Scream");
    await training.waitFor(WAIT);
    assert.match(await training.getByTestId("training-status").innerText(), /^(Waiting for the trainer|Training)/);
    assert.equal(await page.getByRole("button", { name: "Stylize" }).isDisabled(), true, "Enter started training, not Stylize");

    // The step, the losses and the time left, polled from GET /jobs/{id} while the job runs.
    await page.waitForFunction((steps) => {
      const text = document.querySelector("[data-testid=training-card] [data-testid=training-step]")?.textContent ?? "";
      const step = Number((/^Step ([\d,]+) of/.exec(text)?.[1] ?? "0").replace(/,/g, ""));
      return step >= 1 && step < steps && document.querySelector("[data-testid=training-losses]");
    }, STEPS, TRAINING);
    assert.match(await training.getByTestId("training-step").innerText(), new RegExp(`^Step [\\d,]+ of ${STEPS.toLocaleString("en")}$`));
    assert.match(await training.getByTestId("training-losses").innerText(), /Style loss\s*[\d.,e+-]+[\s\S]*Total loss\s*[\d.,e+-]+/);
    assert.match(await training.getByTestId("training-status").innerText(), /^Training · (about (\d+ h )?\d+ min|less than a minute|estimating the time) left$/);
    await training.scrollIntoViewIfNeeded();
    await shot(page, "01-training-progress");

    // A second job waits its turn (one at a time) and is cancelled at once.
    const second = await addStyle(page, "Never mind");
    const waiting = card(page, "Never mind");
    assert.equal(await waiting.getByTestId("training-status").innerText(), "Waiting for the trainer");
    const cancelled = page.waitForResponse((r) => r.url().endsWith(`/api/jobs/${second}`) && r.request().method() === "DELETE");
    await waiting.getByRole("button", { name: "Cancel training" }).click();
    assert.equal((await (await cancelled).json()).state, "cancelled");
    await page.getByText("1 stopped job (failed or cancelled)").click();
    const row = page.locator(`.own__row[data-job-id="${second}"]`);
    await row.waitFor(WAIT);
    assert.match(await row.innerText(), /Never mind\s+Cancelled/);
    await row.getByRole("button", { name: "Remove Never mind" }).click();
    await row.getByRole("button", { name: "Delete “Never mind”" }).click();
    await row.waitFor({ state: "detached", ...WAIT });

    // The preview: the fixed photo and it in the new style, shown while the job still runs.
    const preview = training.getByTestId("training-preview");
    await preview.waitFor(TRAINING);
    await page.waitForFunction(() => document.querySelector("[data-testid=training-preview]")?.naturalWidth > 0, null, WAIT);
    assert.match(await preview.getAttribute("alt"), /^Preview at step \d+/);
    const runningWithPreview = await training.getAttribute("data-state");
    await training.scrollIntoViewIfNeeded();
    await shot(page, "02-training-preview");
    await assertAccessible(page, "while a style trains");

    // Use it now, from the first checkpoint: training stops and what it learned so far becomes the style.
    const useNow = training.getByRole("button", { name: "Use it now" });
    await page.waitForFunction((button) => !button.disabled, await useNow.elementHandle(), TRAINING); // from the first checkpoint
    const finished = page.waitForResponse((r) => r.url().endsWith(`/api/jobs/${id}/finish`) && r.request().method() === "POST");
    await useNow.click();
    assert.equal((await finished).status(), 202);

    // The same job on a phone in dark mode, picked up from GET /jobs by a fresh page (still running, or done by
    // now on a fast machine: its card or its row).
    const phone = await open({ width: 375, height: 812 }, { colorScheme: "dark", isMobile: true, hasTouch: true });
    const onPhone = phone.page.locator(`[data-job-id="${id}"]`).first();
    await onPhone.waitFor(WAIT);
    await phone.page.waitForFunction((job) => {
      const shown = document.querySelector(`[data-job-id="${job}"]`);
      return shown?.querySelector("[data-testid=training-step]") || shown?.getAttribute("data-state") === "done";
    }, id, WAIT);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at phone width`);
    await onPhone.scrollIntoViewIfNeeded();
    await shot(phone.page, "03-phone-dark-training");
    await phone.context.close();
    assert.deepEqual(phone.errors, [], "uncaught errors in the phone's page");

    // Done: the style is in the picker, marked as yours, and the server stylizes with it.
    const mine = page.locator(`.style-card[data-style-id="user-${id}"]`);
    await mine.waitFor(TRAINING);
    assert.equal(runningWithPreview, "running", "the preview arrived before the job was done");
    assert.match(await mine.innerText(), /Yours\s+My Scream\s+Your style/);
    const ready = page.locator(`.own__row[data-job-id="${id}"]`);
    const readyText = await ready.innerText();
    assert.match(readyText, /My Scream\s+Ready · finished early, at step \d+/);
    assert.ok(Number(/at step ([\d,]+)/.exec(readyText)[1].replace(/,/g, "")) < STEPS, readyText);
    await ready.getByRole("button", { name: "Use My Scream" }).click();
    assert.equal(await mine.locator("input").isChecked(), true);
    await page.getByRole("radio", { name: "On the server" }).check(); // Auto would pick this device: it has the model
    const sent = page.waitForRequest((request) => request.url().endsWith("/api/stylize") && request.method() === "POST");
    await page.locator("#photo-input").setInputFiles(join(fixtures, "sideways.jpg")); // a new photo paints at once
    await page.getByTestId("sent-size").waitFor(WAIT);
    assert.equal(JSON.parse((await sent).postData()).style, `user-${id}`);
    await page.waitForFunction(() => document.querySelector("[data-testid=result-image][data-current=true]")?.naturalWidth > 0, null, WAIT);
    assert.match(await page.locator(".result-bar").innerText(), /My Scream[\s\S]*1500 × 1000 · .* on the server/);
    await shot(page, "04-stylized-with-my-style", { fullPage: true });

    // The same style on this device: its model file comes from GET /jobs/{id}/model, checked against its sha256.
    const fetched = page.waitForResponse((r) => r.url().endsWith(`/api/jobs/${id}/model`));
    await page.getByRole("radio", { name: "On this device" }).check();
    await page.getByRole("button", { name: "Stylize" }).click();
    assert.equal((await fetched).status(), 200);
    await page.waitForFunction(() => document.querySelector("[data-testid=ran-on]")?.getAttribute("data-ran-on") === "device",
      null, TRAINING);
    assert.match(await page.locator(".result-bar").innerText(), /My Scream[\s\S]*on this device/);
    assert.equal(await page.getByTestId("notice").count(), 0, "no fall-back to the server");
    await shot(page, "04b-my-style-on-this-device", { fullPage: true });

    // Blended with a bundled style its file holds (it was fine-tuned from them), on the server and on the device.
    const mix = page.getByLabel("Mix My Scream with");
    if (base === "none") {
      assert.equal(await mix.count(), 0, "a style trained from scratch is a network of its own: no blend");
    } else {
      await page.getByRole("radio", { name: "On the server" }).check();
      const blended = page.waitForRequest((request) => request.url().endsWith("/api/stylize") && request.method() === "POST");
      await mix.selectOption("great_wave"); // a blend picked paints at once
      assert.deepEqual(JSON.parse((await blended).postData()).blend.map((part) => part.style), [`user-${id}`, "great_wave"]);
      await page.waitForFunction(() => document.querySelector("[data-testid=ran-on]")?.getAttribute("data-ran-on") === "server",
        null, WAIT);
      assert.match(await page.locator(".result-bar").innerText(), /My Scream 50% \+ The Great Wave off Kanagawa 50%[\s\S]*on the server/);
      await page.getByRole("radio", { name: "On this device" }).check();
      await page.getByRole("button", { name: "Stylize" }).click();
      await page.waitForFunction(() => document.querySelector("[data-testid=ran-on]")?.getAttribute("data-ran-on") === "device"
        || document.querySelector("[data-testid=notice]"), null, TRAINING);
      const notice = page.getByTestId("notice");
      assert.equal(await notice.count(), 0, `no fall-back to the server: ${await notice.count() && await notice.innerText()}`);
      assert.match(await page.locator(".result-bar").innerText(), /My Scream 50% \+ The Great Wave off Kanagawa 50%[\s\S]*on this device/);
      await shot(page, "04c-my-style-blended", { fullPage: true });
    }

    // Deleted: gone from the picker, and the first style is picked again.
    await ready.getByRole("button", { name: "Delete My Scream" }).click();
    const deleted = page.waitForResponse((r) => r.url().endsWith(`/api/styles/user-${id}`) && r.request().method() === "DELETE");
    await ready.getByRole("button", { name: "Delete “My Scream”" }).click();
    assert.equal((await deleted).status(), 204);
    await mine.waitFor({ state: "detached", ...WAIT });
    assert.equal(await page.locator(".style-card input[type=radio]").first().isChecked(), true);
    const left = await (await fetch(`${e2e.stack.baseUrl}/api/jobs`)).json();
    assert.deepEqual(left.jobs, [], "both jobs are gone from GET /jobs");
    await shot(page, "05-style-deleted");
    await context.close();
    assert.deepEqual(errors, [], "uncaught errors in the page");
  });
});
