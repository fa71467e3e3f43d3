// End-to-end, a blend: Debian's Chromium drives the built app against the local stack serving one
// multi-style network (two styles, exported by our exporter from random weights), picks a second style and
// a mix by keyboard, stylizes on the server and downloads the result, whose name carries both styles.
// Screenshots land in frontend/test-results/e2e-blend/.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { openApp, useStack } from "./stack.mjs";

const e2e = useStack("e2e-blend", { modelArgs: ["--blend"] });
const { artifacts, fixtures } = e2e;
const WAIT = { timeout: 90_000 };

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

describe("blending two styles", { timeout: 300_000 }, () => {
  test("pick a second style and a mix by keyboard, stylize, download", async () => {
    const { page, close } = await openApp(e2e, { width: 1280, height: 900 }, { contextOptions: { acceptDownloads: true }, timeout: WAIT.timeout });
    await page.locator('.style-card[data-style-id="great_wave"]').waitFor(WAIT);
    await page.locator("#photo-input").setInputFiles(join(fixtures, "sideways.jpg"));
    await page.getByTestId("sent-size").waitFor(WAIT);
    await page.locator('.style-card[data-style-id="great_wave"]').click();

    // The blend controls: a native select, then a slider moved with the arrow keys (5% a step).
    const second = page.getByLabel("Mix The Great Wave off Kanagawa with");
    await second.focus();
    await second.selectOption("starry_night");
    const slider = page.getByRole("slider", { name: "Mix", exact: true });
    await slider.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowRight");
    assert.equal(await page.getByTestId("blend-shares").innerText(), "70% The Great Wave off Kanagawa · 30% The Starry Night");
    await shot(page, "01-blend-chosen");

    const sent = page.waitForRequest((request) => request.url().endsWith("/stylize") && request.method() === "POST");
    await page.getByRole("radio", { name: "On the server" }).check();
    await page.getByRole("button", { name: "Stylize" }).click();
    const body = JSON.parse((await sent).postData());
    assert.deepEqual(body.blend.map((part) => part.style), ["great_wave", "starry_night"]);
    assert.equal(body.style, undefined);
    assert.ok(Math.abs(body.blend[0].weight - 0.7) < 1e-9 && Math.abs(body.blend[1].weight - 0.3) < 1e-9);
    await page.getByTestId("result-image").waitFor(WAIT);
    await page.waitForFunction(() => document.querySelector("[data-testid=result-image][data-current=true]")?.naturalWidth > 0, null, WAIT);
    assert.match(await page.locator(".result-bar").innerText(), /The Great Wave off Kanagawa 70% \+ The Starry Night 30%/);
    await shot(page, "02-blend-result");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download").click()]);
    assert.equal(download.suggestedFilename(), "sideways-the-great-wave-off-kanagawa-70-the-starry-night-30.jpg");
    const saved = join(artifacts, download.suggestedFilename());
    await download.saveAs(saved);
    assert.deepEqual([...readFileSync(saved).subarray(0, 3)], [0xff, 0xd8, 0xff], "the download is a JPEG");
    await close();
  });
});
