/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies /api and /config.json to a running `make dev` stack (python -m devserver),
// so the hot-reloading UI talks to the real local API.
const devStack = process.env.DEV_STACK_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the same build works at a domain root or under a path (an S3 prefix).
  base: "./",
  // The inference worker loads onnxruntime-web with dynamic imports (one build per backend): ES module workers.
  worker: { format: "es" },
  server: {
    proxy: {
      "/api": devStack,
      "/config.json": devStack,
      "/models": devStack,
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    // Whole flows in jsdom (a photo picked, painted, mixed) take 2 s on a quiet 2-core machine and over 5 s, the
    // default, when it is busy: a limit for hangs, not a timing.
    testTimeout: 20_000,
  },
});
