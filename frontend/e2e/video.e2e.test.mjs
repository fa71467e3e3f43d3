// End-to-end, the Video mode: Debian's Chromium drives the built app against the local stack, whose video worker
// paints every frame of a real clip (2 s, 12 fps, 160x96, with sound: e2e/make_fixtures.py --videos) on this CPU.
// The clip goes to the local S3's presigned POST, is started, followed to the end, and the result plays beside the
// original, in step, with its download. A clip over the limits is refused in the browser, before anything is
// sent. Screenshots land in frontend/test-results/e2e-video/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { assertAccessible } from "./axe.mjs";
import { openApp, useStack } from "./stack.mjs";

const e2e = useStack("e2e-video", { fixtureArgs: ["--videos"] });
const { artifacts, fixtures } = e2e;
const WAIT = { timeout: 90_000 };
const PAINTING = { timeout: 180_000 }; // the worker's start, 24 frames and the join on a busy 2-core machine
const PHONE = { width: 390, height: 844 };

/** The app in the Video mode once its limits are read; `requests` lists every request the page makes. */
async function openVideoMode(viewport, options = {}) {
  const requests = [];
  const watch = (page) => page.on("request", (request) => requests.push(`${request.method()} ${request.url()}`));
  const { page, close } = await openApp(e2e, viewport, { contextOptions: options, beforeLoad: watch, timeout: WAIT.timeout });
  await page.getByRole("radio", { name: "Video" }).check();
  await page.getByTestId("video-limits").filter({ hasText: /^MP4, MOV or WebM, up to 200 MB and 60 s\./ }).waitFor(WAIT);
  return { page, requests, close };
}

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`) });
const videoState = (page, testId) =>
  page.getByTestId(testId).evaluate((video) => ({ readyState: video.readyState, duration: video.duration, time: video.currentTime, muted: video.muted }));

describe("the video mode on the local stack", { timeout: 600_000 }, () => {
  test("a clip is uploaded, painted frame by frame, and plays beside the original with its download", async () => {
    const { page, close } = await openVideoMode({ width: 1280, height: 900 });
    await shot(page, "01-video-empty");
    await assertAccessible(page, "in the video mode, empty");
    await page.locator("#video-input").setInputFiles(join(fixtures, "clip.mp4"));
    await page.getByTestId("clip-facts").filter({ hasText: "2 s, 160 × 96" }).waitFor(WAIT);

    // All three are awaited from before the click: a 30 kB upload and the start can both be over before the
    // test has read the first answer.
    const posted = (test) => page.waitForResponse((r) => r.request().method() === "POST" && test(r.url()), WAIT);
    const created = posted((url) => url.endsWith("/api/videos"));
    const uploadedTo = posted((url) => new URL(url).origin !== new URL(e2e.stack.baseUrl).origin); // the local S3
    const startedAt = posted((url) => /\/api\/videos\/[^/]+\/start$/.test(url));
    await page.getByRole("button", { name: "Stylize video" }).click();
    const response = await created;
    assert.equal(response.status(), 201, await response.text());
    const { id, upload } = await response.json();
    const uploaded = await uploadedTo;
    assert.equal(uploaded.url(), upload.url);
    assert.ok(uploaded.ok(), `the upload: HTTP ${uploaded.status()} ${await uploaded.text()}`);
    const started = await startedAt;
    assert.ok(started.url().endsWith(`/api/videos/${id}/start`), started.url());
    assert.equal(started.status(), 202, await started.text());
    await page.getByTestId("video-status").filter({ hasText: /^(Waiting for its turn…|Frame \d+ of 24 · )/ }).waitFor(WAIT);
    await shot(page, "02-video-progress");

    const ended = page.getByTestId("video-ended");
    await ended.waitFor(PAINTING);
    const state = await ended.getAttribute("data-state");
    assert.equal(state, "done", `the video ended ${state}: ${await ended.innerText()}`);

    // The stylized clip has really loaded, beside the original (the local file), which is muted.
    await page.waitForFunction(() => document.querySelector("[data-testid=result-video]")?.readyState >= 1, null, WAIT);
    const result = await videoState(page, "result-video");
    assert.ok(result.duration > 1.5 && result.duration < 2.5, `the result lasts ${result.duration} s`);
    assert.equal(result.muted, false);
    assert.equal((await videoState(page, "original-video")).muted, true, "the original is muted: one soundtrack");
    assert.match(await page.getByTestId("video-facts").innerText(), /^160 × 96 · 12 fps · 2 s · \d+ kB · with sound$/);

    // Seeking one moves the other.
    await page.waitForFunction(() => document.querySelector("[data-testid=original-video]")?.readyState >= 1, null, WAIT);
    await page.getByTestId("original-video").evaluate((video) => (video.currentTime = 1));
    await page.waitForFunction(() => Math.abs(document.querySelector("[data-testid=result-video]").currentTime - 1) < 0.1, null, WAIT);

    // The download is the same file, served as an attachment.
    const href = await page.getByTestId("video-download").getAttribute("href");
    const download = await page.request.get(new URL(href, e2e.stack.baseUrl).href);
    assert.equal(download.status(), 200);
    assert.match(download.headers()["content-disposition"] ?? "", /^attachment/);
    assert.ok((await download.body()).length > 1000, "the download has the clip's bytes");
    await shot(page, "03-video-result");
    await assertAccessible(page, "with a video result");

    // At phone width, in the dark: nothing scrolls sideways.
    await page.setViewportSize(PHONE);
    await page.emulateMedia({ colorScheme: "dark" });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at phone width`);
    await page.getByTestId("video-ended").scrollIntoViewIfNeeded();
    await shot(page, "04-video-result-phone-dark");
    await assertAccessible(page, "with a video result, phone width, dark");
    await close();
  });

  test("a clip over the limits is refused in the browser, and nothing is sent", async () => {
    const { page, requests, close } = await openVideoMode(PHONE, { colorScheme: "dark", isMobile: true, hasTouch: true });
    const refusal = page.getByTestId("clip-refusal");
    await page.locator("#video-input").setInputFiles(join(fixtures, "long.webm"));
    await refusal.filter({ hasText: "“long.webm” is 1 min 1 s long; a clip can be up to 60 s. Nothing was uploaded." }).waitFor(WAIT);
    await page.locator("#video-input").setInputFiles(join(fixtures, "notes.txt"));
    await refusal.filter({ hasText: "“notes.txt” is not a video this site takes: choose MP4, MOV or WebM." }).waitFor(WAIT);
    assert.equal(await page.getByRole("button", { name: "Stylize video" }).isDisabled(), true);
    assert.deepEqual(requests.filter((r) => /\/api\/videos(?!\/limits)/.test(r) || r.startsWith("POST ")), [], "nothing was sent");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at phone width`);
    await shot(page, "05-video-refused-phone-dark");
    await assertAccessible(page, "with a refused clip, phone width, dark");
    await close();
  });
});
