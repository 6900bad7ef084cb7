import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { AgentLogFile } from "../../src/logs/AgentLogFile.ts"
import { ByteLines } from "../../src/logs/ByteLines.ts"
import { isOpenHere, tempDir } from "../support/files.ts"
import { eventually } from "../support/orchestrator.ts"

describe("AgentLogFile", () => {
  it.live("close writes what was handed off but not written yet, then closes the file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-agentlog-")
      const path = Path.join(dir, "api.log")
      const lost: Array<number> = []
      const file = new AgentLogFile(path, { dir, maxBytes: 1_000_000_000, keep: 1, lost: (lines) => lost.push(lines), settled: () => {} })
      // In one append, more than a buffer's worth (handed to a write, all of it), less than a batch (not written before
      // a flush).
      const texts = Array.from({ length: 3000 }, (_, i) => `line ${String(i).padStart(6, "0")} ${"x".repeat(90)}`)
      const bytes = Buffer.from(texts.map((text) => `${text}\n`).join(""))
      const starts = Int32Array.from(texts, (_, i) => i * (texts[0]?.length ?? 0) + i)
      file.append(new ByteLines(bytes, starts, starts.map((start, i) => start + (texts[i]?.length ?? 0))), "p ")
      file.close()
      const expected = texts.map((text) => `p ${text}\n`).join("")
      const written = yield* eventually(Effect.sync(() => file.idle && Fs.existsSync(path) ? Fs.readFileSync(path, "utf8") : ""), (text) => text.length >= expected.length)
      expect(written === expected).toBe(true)
      expect(lost).toEqual([])
      expect(yield* eventually(isOpenHere(path), (isOpen) => !isOpen)).toBe(false)
    }).pipe(Effect.scoped))
})
