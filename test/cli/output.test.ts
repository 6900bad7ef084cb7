import { describe, expect, it } from "@effect/vitest"
import { colored, formatBytes, formatCpu, formatData, formatDuration, formatPercent, plain, table } from "../../src/cli/output.ts"

describe("human output", () => {
  it("writes durations the way people read them", () => {
    expect([null, 0, 45.9, 60, 127, 3599, 3600, 3661, 86_399, 90_000].map(formatDuration)).toEqual([
      "-", "0s", "45s", "1m 0s", "2m 7s", "59m 59s", "1h 0m", "1h 1m", "23h 59m", "1d 1h"
    ])
  })

  it("writes memory in powers of 1024 and CPU to a tenth of a percent; '-' when unknown", () => {
    expect([null, 0, 1023, 1024, 12.34 * 2 ** 20, 1536 * 2 ** 20, 3 * 2 ** 40, 5000 * 2 ** 40].map(formatBytes)).toEqual([
      "-", "0 B", "1023 B", "1.0 KiB", "12.3 MiB", "1.5 GiB", "3.0 TiB", "5000.0 TiB"
    ])
    expect([null, 0, 12.34, 187.5].map(formatPercent)).toEqual(["-", "0.0", "12.3", "187.5"])
    expect([formatCpu(12.3, 4.567), formatCpu(null, 75), formatCpu(250, null), formatCpu(null, null)]).toEqual([
      "12.3%, 4.57s in all", "1m 15s in all", "250.0%", "-"
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
