/**
 * OutputPipe: the socket pairs an agent's output comes through, with real child processes. What a child writes
 * arrives whole and in order; a chunk the reader keeps stays as it was while more is read; nothing is left in the
 * temporary directory; and where no pair can be made, an agent gets Node's pipes and its output still arrives.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Logger, References } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { makeOutputPairs, type OutputSource } from "../../src/orchestrator/OutputPipe.ts"
import { eventually, linesOf, nodeAgent, orchestratorLayer } from "../support/orchestrator.ts"

/** A child writing `count` chunks of numbered lines, a few milliseconds apart, then exiting. */
const writer = (count: number) =>
  `let i = 0; const next = () => { if (i === ${count}) return; const lines = []; for (let j = 0; j < 200; j++) lines.push('chunk ' + i + ' line ' + j + ' ' + 'x'.repeat(j)); process.stdout.write(lines.join('\\n') + '\\n'); i++; setTimeout(next, 2) }; next()`

const expectedOutput = (count: number) =>
  Array.from({ length: count }, (_, i) => Array.from({ length: 200 }, (_, j) => `chunk ${i} line ${j} ${"x".repeat(j)}\n`).join("")).join("")

/** Reads `source` to its end; every third chunk is kept, and the source resumed a little later. */
const readAll = (source: OutputSource) =>
  Effect.callback<{ readonly text: string; readonly kept: ReadonlyArray<{ readonly chunk: Buffer; readonly copy: Buffer }> }>((resume) => {
    const copies: Array<Buffer> = []
    const kept: Array<{ chunk: Buffer; copy: Buffer }> = []
    source.start(
      (chunk) => {
        const copy = Buffer.from(chunk)
        copies.push(copy)
        if (copies.length % 3 !== 0) return true
        kept.push({ chunk, copy })
        setTimeout(() => source.resume(), 5)
        return false
      },
      () => resume(Effect.succeed({ text: Buffer.concat(copies).toString("utf8"), kept }))
    )
  })

/** Runs `use` with TMPDIR set to `dir`. */
const withTemporaryDirectory = <A, E, R>(dir: string, use: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const before = process.env["TMPDIR"]
      process.env["TMPDIR"] = dir
      return before
    }),
    () => use,
    (before) =>
      Effect.sync(() => {
        if (before === undefined) delete process.env["TMPDIR"]
        else process.env["TMPDIR"] = before
      })
  )

describe("OutputPipe", () => {
  it.live("carries a child's output whole, in order, and leaves a kept chunk as it was; the directory is gone", () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-output-pipe-"))
    return withTemporaryDirectory(dir, Effect.gen(function*() {
      const [pair] = yield* makeOutputPairs(1)
      if (pair === undefined) return expect.unreachable("no pair")
      expect(Fs.readdirSync(dir)).toEqual([])
      const child = ChildProcess.spawn(process.execPath, ["-e", writer(40)], { stdio: ["ignore", pair.child, "inherit"] })
      pair.child.destroy()
      const { text, kept } = yield* readAll(pair.source)
      expect(text).toBe(expectedOutput(40))
      expect(kept.length).toBeGreaterThan(3)
      for (const { chunk, copy } of kept) expect(chunk.equals(copy)).toBe(true)
      expect(child.pid).toBeGreaterThan(0)
    })).pipe(Effect.ensuring(Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))))
  })

  it.live("fails where no pair can be made, and leaves nothing behind", () => {
    const dir = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-output-pipe-")), "missing")
    return withTemporaryDirectory(dir, Effect.gen(function*() {
      const exit = yield* Effect.exit(makeOutputPairs(2))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(Fs.existsSync(dir)).toBe(false)
    })).pipe(Effect.ensuring(Effect.sync(() => Fs.rmSync(Path.dirname(dir), { recursive: true, force: true }))))
  })

  it.live("gives an agent Node's pipes when no pair can be made: its output still arrives whole", () => {
    const dir = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-output-pipe-")), "missing")
    const logged: Array<string> = []
    const capture = Logger.make(({ message }) => logged.push(String(Array.isArray(message) ? message[0] : message)))
    return withTemporaryDirectory(dir, Effect.gen(function*() {
      const lines = yield* eventually(linesOf("chunks", "stdout"), (found) => found.length >= 40 * 200)
      expect(lines.map((line) => `${line.line}\n`).join("")).toBe(expectedOutput(40))
      expect(logged.filter((message) => message.startsWith("an agent's output comes through Node's pipes: "))).toHaveLength(1)
    }).pipe(
      Effect.provide(orchestratorLayer([nodeAgent("chunks", writer(40))], { keepLines: 10_000 })),
      Effect.provide(Logger.layer([capture])),
      Effect.provideService(References.MinimumLogLevel, "Debug")
    )).pipe(
      Effect.ensuring(Effect.sync(() => Fs.rmSync(Path.dirname(dir), { recursive: true, force: true })))
    )
  })
})
