/**
 * The browser tests' own config (`npm run test:browser`): they need Chromium, so `npm test` leaves them out and
 * passes on a machine without it. The same global setup builds dist/ (the CLI and the dashboard's assets) first.
 */
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    // One file at a time: each runs a Chromium and orchestrators on a machine of 2 shared vCPUs, and one test
    // holds the page to a 1 s deadline.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
