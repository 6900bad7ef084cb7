/**
 * ResourceUsage over a swapped ProcessStats: the processes and the system's clock are the test's, the cache's
 * clock is the TestClock. Then the orchestrator with one: which run it asks about, and what `status` and the
 * snapshot report for process and Effect agents.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { type ProcessCounters, ProcessStats } from "../../src/orchestrator/ProcessStats.ts"
import type { Run } from "../../src/orchestrator/ProcessTable.ts"
import { NO_USAGE, ResourceUsage } from "../../src/orchestrator/ResourceUsage.ts"
import { awaitStatus, orchestratorLayer, processFrom } from "../support/orchestrator.ts"

/** The system as the fake shows it: seconds since boot, and each run's processes by invocation marker. */
interface World {
  now: number
  processes: Map<string, ReadonlyArray<ProcessCounters>>
  /** The runs each read asked about. */
  reads: Array<ReadonlyArray<Run>>
}

const makeWorld = (now: number): World => ({ now, processes: new Map(), reads: [] })

const fakeStats = (world: World, processesOf?: (run: Run) => ReadonlyArray<ProcessCounters>) =>
  Layer.succeed(ProcessStats, ProcessStats.of({
    read: (runs) =>
      Effect.sync(() => {
        world.reads.push(runs)
        return { now: world.now, runs: runs.map((run) => processesOf?.(run) ?? world.processes.get(run.invocation) ?? []) }
      })
  }))

const usageWith = (world: World) => ResourceUsage.layer.pipe(Layer.provide(fakeStats(world)))

const proc = (pid: number, startedAt: number, cpuSeconds: number, rssBytes = 1000): ProcessCounters => ({ pid, startedAt, cpuSeconds, rssBytes })

const api = { agent: "api", run: () => ({ leader: 10, invocation: "o:api:1" }) }

const sample = (runs: Parameters<ResourceUsage["Service"]["sample"]>[0]) =>
  ResourceUsage.use((usage) => usage.sample(runs))

describe("resource usage", () => {
  it.effect("a first sample gives each process's average since it started; within a second the sample is reused", () => {
    const world = makeWorld(1000)
    return Effect.gen(function*() {
      world.processes.set("o:api:1", [proc(10, 990, 5, 4096)])
      // 5 s of CPU in the 10 s since it started.
      expect((yield* sample([api]))("api")).toEqual({ cpuPercent: 50, memoryBytes: 4096, cpuSeconds: 5 })
      expect(world.reads).toHaveLength(1)

      world.now = 1000.5
      world.processes.set("o:api:1", [proc(10, 990, 5.4, 8192)])
      yield* TestClock.adjust("999 millis")
      expect((yield* sample([api]))("api")).toEqual({ cpuPercent: 50, memoryBytes: 4096, cpuSeconds: 5 })
      expect(world.reads).toHaveLength(1)

      // A second after the first: read again, and the rate is over the interval since.
      world.now = 1001
      world.processes.set("o:api:1", [proc(10, 990, 5.25, 8192)])
      yield* TestClock.adjust("1 millis")
      expect((yield* sample([api]))("api")).toEqual({ cpuPercent: 25, memoryBytes: 8192, cpuSeconds: 5.25 })
      expect(world.reads).toHaveLength(2)
    }).pipe(Effect.provide(usageWith(world)))
  })

  it.effect("callers at the same moment share one read", () => {
    const world = makeWorld(1000)
    world.processes.set("o:api:1", [proc(10, 900, 1)])
    return Effect.gen(function*() {
      const answers = yield* Effect.all(Array.from({ length: 5 }, () => sample([api])), { concurrency: "unbounded" })
      expect(world.reads).toHaveLength(1)
      expect(answers.map((usageOf) => usageOf("api").cpuPercent)).toEqual([1, 1, 1, 1, 1])
    }).pipe(Effect.provide(usageWith(world)))
  })

  it.effect("sums a run's processes; a child started within the interval counts with what it used in it", () => {
    const world = makeWorld(1000)
    return Effect.gen(function*() {
      world.processes.set("o:api:1", [proc(10, 900, 1, 1000)])
      expect((yield* sample([api]))("api").cpuPercent).toBe(1)
      world.now = 1002
      // The leader used 1 s in 2 s; two children started 0.5 s ago used 0.4 s and 0.2 s: 0.6 s more in 2 s.
      world.processes.set("o:api:1", [proc(10, 900, 2, 1000), proc(11, 1001.5, 0.4, 2000), proc(12, 1001.5, 0.2, 3000)])
      yield* TestClock.adjust("2 seconds")
      expect((yield* sample([api]))("api")).toEqual({ cpuPercent: 80, memoryBytes: 6000, cpuSeconds: 2.6 })
    }).pipe(Effect.provide(usageWith(world)))
  })

  it.effect("a reused pid is a new process: its predecessor's CPU is neither subtracted nor added", () => {
    const world = makeWorld(1000)
    return Effect.gen(function*() {
      world.processes.set("o:api:1", [proc(10, 900, 1), proc(20, 500, 50)])
      yield* sample([api])
      world.now = 1001
      // Pid 20 exited and a new process got its pid half a second ago; it has used 0.3 s since.
      world.processes.set("o:api:1", [proc(10, 900, 1), proc(20, 1000.5, 0.3)])
      yield* TestClock.adjust("1 second")
      expect((yield* sample([api]))("api")).toEqual({ cpuPercent: 30, memoryBytes: 2000, cpuSeconds: 51.3 })
    }).pipe(Effect.provide(usageWith(world)))
  })

  it.effect("a run whose processes are all gone has no figures, and keeps its CPU seconds; a new run starts afresh", () => {
    const world = makeWorld(1000)
    return Effect.gen(function*() {
      world.processes.set("o:api:1", [proc(10, 990, 2)])
      yield* sample([api])
      world.now = 1001
      world.processes.set("o:api:1", [])
      yield* TestClock.adjust("1 second")
      expect((yield* sample([api]))("api")).toEqual({ cpuPercent: null, memoryBytes: null, cpuSeconds: 2 })
      // Restarted within the second: the cached sample knows nothing of the new run, and says so.
      const restarted = { agent: "api", run: () => ({ leader: 30, invocation: "o:api:2" }) }
      world.processes.set("o:api:2", [proc(30, 1001, 0.5)])
      expect((yield* sample([restarted]))("api")).toEqual({ cpuPercent: null, memoryBytes: null, cpuSeconds: 2 })
      expect(world.reads).toHaveLength(2)
      world.now = 1002
      world.processes.set("o:api:2", [proc(30, 1001, 1)])
      yield* TestClock.adjust("1 second")
      expect((yield* sample([restarted]))("api")).toEqual({ cpuPercent: 100, memoryBytes: 1000, cpuSeconds: 3 })
    }).pipe(Effect.provide(usageWith(world)))
  })

  it.effect("with no run in progress nothing is read, and an agent never sampled has no figures at all", () => {
    const world = makeWorld(1000)
    return Effect.gen(function*() {
      const usageOf = yield* sample([])
      expect(world.reads).toEqual([])
      expect(usageOf("api")).toBe(NO_USAGE)
      expect(NO_USAGE).toEqual({ cpuPercent: null, memoryBytes: null, cpuSeconds: null })
    }).pipe(Effect.provide(usageWith(world)))
  })
})

describe("the orchestrator's resource usage", () => {
  it.live("asks about each process agent's run in progress and reports it; an Effect agent has none", () => {
    const world = makeWorld(1000)
    // Whatever run is asked about: its leader, started 4 s ago, has used 1 s and holds 64 KiB.
    const layer = orchestratorLayer([
      processFrom({ name: "sleeper", command: "sleep", args: ["60"] }),
      effectAgent({ name: "inline", run: Effect.never })
    ]).pipe(Layer.provide(fakeStats(world, (run) => [proc(run.leader, 996, 1, 65536)])))
    return Effect.gen(function*() {
      // Its run is handed to the sampler once it has started (its pid shows a moment before).
      const sleeper = yield* awaitStatus("sleeper", (status) => status.cpuPercent !== null, { every: "10 millis" })
      expect(sleeper).toMatchObject({ state: "running", cpuPercent: 25, memoryBytes: 65536, cpuSeconds: 1 })
      expect(world.reads.at(-1)?.map((run) => run.leader)).toEqual([sleeper.pid])
      const snapshot = yield* Orchestrator.use((o) => o.query.snapshot)
      const inline = snapshot.agents.find((agent) => agent.agentName === "inline")
      expect(inline).toMatchObject({ kind: "effect", cpuPercent: null, memoryBytes: null, cpuSeconds: null })
      expect(snapshot.agents.find((agent) => agent.agentName === "sleeper")).toMatchObject({ cpuPercent: 25, memoryBytes: 65536 })
    }).pipe(Effect.provide(layer))
  })
})
