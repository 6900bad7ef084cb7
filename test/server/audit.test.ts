import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { EventStore } from "../../src/events/EventStore.ts"
import { makeChainVerifier } from "../../src/security/auditChain.ts"
import { tempDir } from "../support/files.ts"
import { harness, request, sendFrames } from "../support/harness.ts"

describe("audit trail", () => {
  it.effect("records exactly one event per request, with command, args, code and error", () =>
    Effect.gen(function*() {
      const sent: Array<readonly [unknown, number]> = []
      const send = (body: unknown) =>
        Effect.gen(function*() {
          const reply = yield* (typeof body === "string" ? sendFrames([body]) : request(body))
          const code = typeof reply === "object" && reply !== null && "code" in reply ? Number(reply.code) : 200
          sent.push([body, code])
        })
      yield* send({ command: "ps" })
      yield* send({ command: "status", args: ["db"], id: "req-1" })
      yield* send({ command: "shutdown" })
      yield* send({ command: "status", args: [7] })
      yield* send({ command: "nope" })
      yield* send({ command: "status", args: ["ghost"] })
      yield* send("{garbage")
      const page = yield* EventStore.use((store) => store.query({ category: "command", limit: 100 }))
      expect(page.events.map((e) => e.data["code"])).toEqual(sent.map(([, code]) => code))
      expect(page.events.map((e) => e.eventName)).toEqual([
        "COMMAND_EXECUTED",
        "COMMAND_EXECUTED",
        "COMMAND_REJECTED",
        "COMMAND_FAILED",
        "COMMAND_FAILED",
        "COMMAND_FAILED",
        "COMMAND_FAILED"
      ])
      expect(page.events.map((e) => e.severity)).toEqual(["info", "info", "warning", "warning", "warning", "error", "warning"])
      expect(page.events[1]?.data).toEqual({ command: "status", args: ["db"], code: 200, duration_ms: 0, principal: null, request_id: "req-1" })
      expect(page.events[2]?.data).toMatchObject({ command: "shutdown", code: 403, error_reason: "NotAllowed", error: "Command 'shutdown' not allowed: not among the commands this server allows (see the 'whoami' command)" })
      expect(page.events[6]?.data).toMatchObject({ command: null, args: null, code: 400, error_reason: "MalformedRequest", received: "{garbage" })
    }).pipe(Effect.provide(harness({ config: { allowedCommands: "monitoring" } }))))

  it.effect("bounds what it records of huge arguments", () =>
    Effect.gen(function*() {
      yield* request({ command: "status", args: ["é".repeat(5000)] })
      const [event] = (yield* EventStore.use((store) => store.query({ category: "command", limit: 1 }))).events
      const args = event?.data["args"]
      expect(Array.isArray(args) ? args[0] : undefined).toBe(`${"é".repeat(512)}…[+8976 bytes]`)
    }).pipe(Effect.provide(harness())))
})

describe("the audit file", () => {
  const linesOf = (file: string) => Fs.readFileSync(file, "utf8").split("\n").filter((line) => line !== "")

  it.effect("continues the chain of the file it finds, and refuses to chain onto a last line cut short", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const file = Path.join(dir, "audit.ndjson")
      const withFile = harness({ config: { auditFile: file } })
      yield* Effect.andThen(request({ command: "ps" }), request({ command: "stats" })).pipe(Effect.provide(withFile))
      // A restarted interface: the next record follows the last one in the file.
      yield* request({ command: "whoami" }).pipe(Effect.provide(withFile))
      const lines = linesOf(file)
      expect(lines.map((line): unknown => JSON.parse(line))).toMatchObject([{ seq: 1 }, { seq: 2 }, { seq: 3, data: { command: "whoami" } }])
      const verifier = makeChainVerifier()
      for (const line of lines) verifier.push(line)
      expect(verifier.verdict()).toMatchObject({ intact: true, records: 3 })

      // A crash mid-write left half a record at the end.
      Fs.appendFileSync(file, (lines[0] ?? "").slice(0, 40))
      expect(yield* Effect.flip(Layer.build(withFile))).toMatchObject({
        _tag: "AuditFileError",
        reason: { _tag: "IncompleteRecord" },
        message: `audit file ${file}: its last line is not a complete audit record, so new records cannot be chained to it; ` +
          `check it with 'orchestrate audit verify ${file}', then move the file aside to start a new chain`
      })
    }))

  it.effect("says why the file cannot be opened", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      expect(yield* Effect.flip(Layer.build(harness({ config: { auditFile: dir } })))).toMatchObject({
        _tag: "AuditFileError",
        reason: { _tag: "CannotOpen", reason: { _tag: "FileAccessFailed", code: "EISDIR" } },
        message: `audit file ${dir}: cannot open: is a directory`
      })
      const missing = Path.join(dir, "missing", "audit.ndjson")
      expect((yield* Effect.flip(Layer.build(harness({ config: { auditFile: missing } })))).message).toBe(
        `audit file ${missing}: cannot open: no such file`
      )
    }))
})
