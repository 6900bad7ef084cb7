import { describe, expect, it } from "@effect/vitest"
import { formatData, formatDuration, table } from "../../src/cli/output.ts"

describe("human output", () => {
  it("writes durations the way people read them", () => {
    expect([null, 0, 45.9, 60, 127, 3599, 3600, 3661, 86_399, 90_000].map(formatDuration)).toEqual([
      "-", "0s", "45s", "1m 0s", "2m 7s", "59m 59s", "1h 0m", "1h 1m", "23h 59m", "1d 1h"
    ])
  })

  it("aligns table columns to their widest cell, without trailing spaces", () => {
    expect(table(["NAME", "STATE", "PID"], [["db", "running", "12"], ["worker-long", "queued", "-"]])).toBe(
      "NAME         STATE    PID\n" +
        "db           running  12\n" +
        "worker-long  queued   -"
    )
  })

  it("renders event data as key=value, quoting what needs it", () => {
    expect(formatData({ pid: 7, line: "hello world", ok: true, tags: ["a"], empty: "" })).toBe(
      "pid=7 line=\"hello world\" ok=true tags=[\"a\"] empty="
    )
  })
})
