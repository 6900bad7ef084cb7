/**
 * An application's LogSink that suspends: a real process agent's output reaches it whole and in order, the pipe
 * waiting for the sink rather than the orchestrator buffering, and the lines it keeps stay intact after their read
 * buffers are let go.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { type LogLine, linesOf, type LogSink, LogStore } from "../../src/logs/LogStore.ts"
import { type AgentDefinition, effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { awaitState, eventually, linesOf as keptLinesOf, nodeAgent } from "../support/orchestrator.ts"

const LINES = 10_000

/** One agent, run one at a time, its lines kept by a store (the last 1000 per agent) with `sink`. */
const orchestratorWith = (agent: AgentDefinition<never>, sink: LogSink) =>
  Orchestrator.layer({
    maxWorkers: 1,
    runMode: "daemon",
    agentStopTimeout: Duration.seconds(5),
    heartbeatInterval: Duration.seconds(5),
    agents: [agent]
  }).pipe(
    Layer.provideMerge(EventStore.layer()),
    Layer.provideMerge(LogStore.layer({ keepLines: 1000, sinks: [sink] })),
    Layer.provideMerge(NodeServices.layer)
  )

describe("a LogSink that suspends", () => {
  it.live("gets every line of a flood in order, and so does the store", () => {
    const seen: Array<LogLine> = []
    let calls = 0
    // It reads the lines only after it has waited, every other time a while: were the pipe not held for it, a later
    // call would overtake an earlier one, or find the bytes it was given let go.
    const slowSink: LogSink = (batches) =>
      Effect.andThen(Effect.sleep(Duration.millis(calls++ % 2 === 0 ? 3 : 0)), Effect.sync(() => seen.push(...batches.flatMap(linesOf))))
    return Effect.gen(function*() {
      yield* Orchestrator.use((orchestrator) => orchestrator.start)
      yield* eventually(Effect.sync(() => seen.length), (count) => count >= LINES)
      const expected = Array.from({ length: LINES }, (_, i) => `line ${i} ${"ü".repeat(i % 50)}`)
      expect(seen.map((line) => line.line)).toEqual(expected)
      expect(seen.map((line) => line.seq)).toEqual(expected.map((_, i) => i + 1))
      // The store's copy of the last lines, read after every read buffer was let go.
      expect((yield* keptLinesOf("flood")).map((line) => line.line)).toEqual(expected.slice(-1000))
    }).pipe(Effect.provide(orchestratorWith(nodeAgent("flood", `for (let i = 0; i < ${LINES}; i++) console.log('line ' + i + ' ' + 'ü'.repeat(i % 50))`), slowSink)))
  }, 60_000)

  it.live("gets an Effect agent's own logs in order, and the agent logs on meanwhile rather than failing", () => {
    const seen: Array<string> = []
    let calls = 0
    // A logger cannot wait for it: what the agent logs while the sink is busy waits its turn.
    const slowSink: LogSink = (batches) =>
      Effect.andThen(Effect.sleep(Duration.millis(calls++ % 3 === 0 ? 2 : 0)), Effect.sync(() => seen.push(...batches.flatMap(linesOf).map((line) => line.line))))
    return Effect.gen(function*() {
      yield* Orchestrator.use((orchestrator) => orchestrator.start)
      yield* awaitState("chatty", "completed")
      yield* eventually(Effect.sync(() => seen.length), (count) => count >= 2000)
      expect(seen).toEqual(Array.from({ length: 2000 }, (_, i) => `message ${i}`))
    }).pipe(Effect.provide(orchestratorWith(effectAgent({ name: "chatty", run: Effect.forEach(Array.from({ length: 2000 }, (_, i) => i), (i) => Effect.logInfo(`message ${i}`), { discard: true }) }), slowSink)))
  }, 60_000)

  it.live("still gets them in order when the agent exits while the sink is busy", () => {
    const seen: Array<string> = []
    // The first call waits until the agent has exited: Node then resumes the child's paused stdout by itself, so
    // the chunks written meanwhile arrive while this call is still busy. They must wait their turn.
    const waitingSink: LogSink = (batches) => {
      const lines = batches.flatMap(linesOf).map((line) => line.line)
      const pid = seen.length === 0 ? Number(/^pid (\d+)$/.exec(lines[0] ?? "")?.[1]) : undefined
      const exited = Effect.sync(() => {
        try {
          process.kill(pid ?? 0, 0)
          return false
        } catch {
          return true
        }
      })
      const gone = pid === undefined ? Effect.void : eventually(exited, (done) => done)
      // A little longer, for the chunks that were held back to come in while this call is still busy.
      return Effect.andThen(gone, Effect.andThen(Effect.sleep(pid === undefined ? 0 : 50), Effect.sync(() => seen.push(...lines))))
    }
    const script = `console.log('pid ' + process.pid); let i = 0
      const next = () => { if (i === 20) return; process.stdout.write(Array.from({ length: 50 }, (_, j) => 'line ' + (i * 50 + j)).join('\\n') + '\\n'); i++; setTimeout(next, 5) }
      next()`
    return Effect.gen(function*() {
      yield* Orchestrator.use((orchestrator) => orchestrator.start)
      yield* eventually(Effect.sync(() => seen.length), (count) => count >= 1001)
      expect(seen.slice(1)).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i}`))
    }).pipe(Effect.provide(orchestratorWith(nodeAgent("exits", script), waitingSink)))
  }, 60_000)
})
