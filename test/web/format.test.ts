/**
 * The page writes durations, sizes and CPU as the CLI does, with copies of the CLI's functions (src/cli/format.ts):
 * the page may take no code from outside src/web (test/architecture/layers.test.ts). This holds the copies to the
 * originals, so that `ps` and the dashboard never say the same thing two ways.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Cli from "../../src/cli/format.ts"
import * as Web from "../../src/web/format.ts"

const edges = [0, 0.4, 1, 59, 59.99, 60, 61, 3599, 3600, 3661, 86_399, 86_400, 90_061, 1023, 1024, 1025, 1_048_575, 1_048_576, 5e9, 2 ** 40, 2 ** 53]
const random = Array.from({ length: 2000 }, (_, i) => Math.floor(Math.random() * 10 ** (i % 13)) + (i % 3 === 0 ? Math.random() : 0))
const values: ReadonlyArray<number | null> = [null, ...edges, ...random]

describe("the page's formats are the CLI's", () => {
  it("durations, sizes and percentages", () => {
    for (const value of values) {
      expect(Web.formatDuration(value)).toBe(Cli.formatDuration(value))
      expect(Web.formatBytes(value === null ? null : Math.floor(value))).toBe(Cli.formatBytes(value === null ? null : Math.floor(value)))
      expect(Web.formatPercent(value)).toBe(Cli.formatPercent(value))
    }
  })
})
