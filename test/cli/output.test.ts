import { describe, expect, it } from "@effect/vitest"
import { colored, formatData, formatDuration, plain, table } from "../../src/cli/output.ts"

describe("human output", () => {
  it("writes durations the way people read them", () => {
    expect([null, 0, 45.9, 60, 127, 3599, 3600, 3661, 86_399, 90_000].map(formatDuration)).toEqual([
      "-", "0s", "45s", "1m 0s", "2m 7s", "59m 59s", "1h 0m", "1h 1m", "23h 59m", "1d 1h"
    ])
  })

  it("aligns table columns to their widest cell, without trailing spaces", () => {
    expect(table(["NAME", "STATE", "PID"], [["db", "running", "12"], ["worker-long", "queued", "-"]], plain)).toBe(
      "NAME         STATE    PID\n" +
        "db           running  12\n" +
        "worker-long  queued   -"
    )
  })

  it("counts a wide character as two columns and a combining accent as none", () => {
    // A message or an error (a NOTE, a DATA cell) can hold any text: 'ファイル' fills 8 columns, 'é' (e + U+0301) one.
    expect(table(["NOTE", "CODE"], [["ファイル", "1"], ["e\u0301", "2"], ["🙂 ok", "3"]], plain)).toBe(
      "NOTE      CODE\n" +
        "ファイル  1\n" +
        "e\u0301         2\n" +
        "🙂 ok     3"
    )
  })

  it("does not count colour codes, and colours only with the colored style", () => {
    const rows = [["web", colored.state("running")], ["worker", colored.state("failed")]]
    expect(table(["NAME", "STATE"], rows, colored)).toBe(
      "\u001b[1mNAME\u001b[0m    \u001b[1mSTATE\u001b[0m\n" +
        "web     \u001b[32mrunning\u001b[0m\n" +
        "worker  \u001b[31mfailed\u001b[0m"
    )
    expect(table(["NAME", "STATE"], [["web", plain.state("running")]], plain)).toBe("NAME  STATE\nweb   running")
  })

  it("renders event data as key=value, quoting what needs it", () => {
    expect(formatData({ pid: 7, line: "hello world", ok: true, tags: ["a"], empty: "" })).toBe(
      "pid=7 line=\"hello world\" ok=true tags=[\"a\"] empty="
    )
  })
})
