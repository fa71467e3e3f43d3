// The real local stack for the e2e tests: `python -m devserver` serving the API under /api, the
// built app (frontend/dist) at / and /config.json, started on a free port and stopped afterwards.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "./browser.mjs";

const FRONTEND_DIR = resolve(fileURLToPath(import.meta.url), "../..");

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts the devserver and resolves once GET /api/styles answers; `stop()` ends it. Its training jobs live
 * in `jobs/` beside the log (never the checkout's runs/jobs); `extraArgs`: more of devserver's options. */
export async function startStack({ repo, python, modelsDir, staticDir, logFile, timeoutMs = 90_000, env = {}, extraArgs = [] }) {
  const port = await freePort();
  const log = createWriteStream(logFile);
  const jobsDir = join(dirname(logFile), "jobs");
  const args = ["-m", "devserver", "--port", String(port), "--models", modelsDir, "--static", staticDir, "--jobs-dir", jobsDir, ...extraArgs];
  const child = spawn(python, args, { cwd: repo, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1", ...env } });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`devserver exited (${JSON.stringify(exited)}) before answering; see ${logFile}`);
    try {
      const response = await fetch(`${baseUrl}/api/styles`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`devserver did not answer within ${timeoutMs / 1000} s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  return {
    baseUrl,
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
      await new Promise((resolve) => log.end(resolve));
      // The pages ran under the web app's Content-Security-Policy; the browser reported each thing it blocked
      // to the stack, which logged it: nothing may have been blocked. The test file fails (its exit status), and
      // its other stacks are still stopped (a throw here would leave them running).
      const blocked = readFileSync(logFile, "utf8").split("\n").filter((line) => line.includes("CSP violation"));
      if (blocked.length) {
        console.error(`the Content-Security-Policy blocked ${blocked.length} things:\n${blocked.slice(0, 5).join("\n")}`);
        process.exitCode = 1;
      }
    },
  };
}

export function repoPaths(frontendDir) {
  const repo = join(frontendDir, "..");
  return { repo, python: process.env.PYTHON ?? join(repo, ".venv", "bin", "python") };
}

/** Empties a test's artifacts folder; returns a runner of the e2e folder's Python scripts (make_fixtures.py,
 * make_models.py) under the project's Python, which returns what the script prints. */
export function freshArtifacts(frontendDir, artifacts) {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const { repo, python } = repoPaths(frontendDir);
  return (script, ...args) =>
    execFileSync(python, [join(frontendDir, "e2e", script), ...args], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/** One e2e file's stack and browser, made in its `before` and ended in its `after`: the artifacts folder
 * frontend/test-results/NAME emptied, the fixtures (`fixtureArgs`; null: none) and small real models
 * (`modelArgs`) made there, the local stack started on them (`stackOptions`: startStack's env, extraArgs; or a
 * function of the models folder that returns them) and Chromium launched (`browserArgs`). `stack` and `browser`
 * are set once `before` has run. */
export function useStack(name, { fixtureArgs = [], modelArgs = [], stackOptions = {}, browserArgs = [] } = {}) {
  const { repo, python } = repoPaths(FRONTEND_DIR);
  const artifacts = join(FRONTEND_DIR, "test-results", name);
  const setup = { repo, artifacts, fixtures: join(artifacts, "fixtures"), modelsDir: null, stack: null, browser: null };
  before(async () => {
    const run = freshArtifacts(FRONTEND_DIR, artifacts);
    if (fixtureArgs) run("make_fixtures.py", setup.fixtures, ...fixtureArgs);
    setup.modelsDir = run("make_models.py", ...modelArgs, join(artifacts, "models"));
    const options = typeof stackOptions === "function" ? stackOptions(setup.modelsDir) : stackOptions;
    setup.stack = await startStack({ repo, python, modelsDir: setup.modelsDir, staticDir: join(FRONTEND_DIR, "dist"),
      logFile: join(artifacts, "devserver.log"), ...options });
    setup.browser = await launchBrowser(browserArgs);
  });
  after(async () => {
    await setup.browser?.close();
    await setup.stack?.stop();
  });
  return setup;
}

/** A fresh visitor: a new browser context at `viewport` (`contextOptions`: playwright's), the app opened once
 * its styles show. `beforeLoad(page)` runs before the page loads (to watch its requests). `close()` ends the
 * context and fails the test on any uncaught error in the page (also in `errors`). */
export async function openApp(setup, viewport, { contextOptions = {}, beforeLoad, timeout = 90_000 } = {}) {
  const context = await setup.browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  beforeLoad?.(page);
  await page.goto(`${setup.stack.baseUrl}/`);
  await page.locator(".style-card input[type=radio]").first().waitFor({ state: "attached", timeout });
  return {
    page,
    context,
    errors,
    async close() {
      await context.close();
      assert.deepEqual(errors, [], "uncaught errors in the page");
    },
  };
}
