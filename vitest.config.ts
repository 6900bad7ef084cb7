import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    // Integration tests start real sockets and processes; the machines are small and shared.
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
