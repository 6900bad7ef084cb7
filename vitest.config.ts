import { configDefaults, defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The browser tests need Chromium; they run apart, as `npm run test:browser` (test/browser/vitest.config.ts).
    exclude: [...configDefaults.exclude, "test/browser/**"],
    globalSetup: ["test/globalSetup.ts"],
    // Integration tests start real sockets and processes; the machines are small and shared.
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
