import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { EventStore } from "../../src/events/EventStore.ts"
import { InMemoryOrchestrator } from "../../src/orchestrator/InMemoryOrchestrator.ts"
import { commandNames } from "../../src/protocol/Commands.ts"
import { harness, request } from "../support/harness.ts"

const ok = (data: unknown) => ({ status: "success", data })

describe("commands", () => {
  it.effect("logs pages agents' lines on the wire: snake_case, ISO times, the paging fields, AgentNotFound", () =>
    Effect.gen(function*() {
      const orchestrator = yield* InMemoryOrchestrator
      yield* orchestrator.output("db", "stdout", ["ready to accept connections"])
      yield* orchestrator.output("api", "stderr", ["slow query", "listening"])
      expect(yield* request({ command: "logs", args: [{ limit: 2 }] })).toEqual(ok({
        lines: [
          { seq: 2, agent: "api", stream: "stderr", timestamp: "1970-01-01T00:00:00.000Z", line: "slow query" },
          { seq: 3, agent: "api", stream: "stderr", timestamp: "1970-01-01T00:00:00.000Z", line: "listening" }
        ],
        has_more: true,
        last_seq: 3,
        dropped: []
      }))
      expect(yield* request({ command: "logs", args: [{ agents: ["db"], after_seq: 0, stream: "stdout" }] })).toEqual(ok({
        lines: [{ seq: 1, agent: "db", stream: "stdout", timestamp: "1970-01-01T00:00:00.000Z", line: "ready to accept connections" }],
        has_more: false,
        last_seq: 3,
        dropped: []
      }))
      expect(yield* request({ command: "logs", args: [{ agents: ["ghost"] }] })).toEqual({
        status: "error",
        code: 500,
        reason: "AgentNotFound",
        error: "Failed to execute command: agent not found: 'ghost'"
      })
    }).pipe(Effect.provide(harness())))

  it.effect("ps lists every agent with name, state, pid, uptime and restarts", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "ps" })).toEqual(ok({
        agents: [
          // The in-memory orchestrator runs no process: it knows of no CPU or memory.
          { name: "db", state: "running", pid: 1000, uptime_seconds: 0, restarts: 0, health: null, cpu_percent: null, memory_bytes: null },
          { name: "api", state: "running", pid: 1001, uptime_seconds: 0, restarts: 0, health: null, cpu_percent: null, memory_bytes: null },
          { name: "worker", state: "paused", pid: null, uptime_seconds: 0, restarts: 0, health: null, cpu_percent: null, memory_bytes: null },
          { name: "migrate", state: "completed", pid: null, uptime_seconds: null, restarts: 0, health: null, cpu_percent: null, memory_bytes: null }
        ]
      }))
    }).pipe(Effect.provide(harness())))

  it.effect("status reports the orchestrator, its counts and every agent", () =>
    Effect.gen(function*() {
      const reply = yield* request({ command: "status", args: [] })
      expect(reply).toMatchObject(ok({
        state: "running",
        run_mode: "daemon",
        started_at: "1970-01-01T00:00:00.000Z",
        uptime_seconds: 0,
        max_workers: 4,
        counts: {
          total: 4,
          registered: 0,
          queued: 0,
          starting: 0,
          running: 2,
          paused: 1,
          stopping: 0,
          completed: 1,
          failed: 0,
          stopped: 0
        }
      }))
      expect(reply).toHaveProperty(["data", "agents", "length"], 4)
    }).pipe(Effect.provide(harness())))

  it.effect("status <agent> reports that agent's detail in snake_case, heartbeat as ISO-8601 UTC", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "status", args: ["api"] })).toEqual(ok({
        agent_name: "api",
        kind: "process",
        state: "running",
        pid: 1001,
        uptime_seconds: 0,
        started_at: "1970-01-01T00:00:00.000Z",
        last_heartbeat: null,
        restarts: 0,
        restart_policy: "on-failure",
        waiting_for: null,
        dependencies: ["db"],
        exit_code: null,
        last_error: null,
        health: null,
        probes: [],
        cpu_percent: null,
        memory_bytes: null,
        cpu_seconds: null
      }))
      yield* InMemoryOrchestrator.use((o) => o.heartbeat("api"))
      expect(yield* request({ command: "status", args: ["api"] })).toHaveProperty(
        ["data", "last_heartbeat"],
        "1970-01-01T00:00:00.000Z"
      )
    }).pipe(Effect.provide(harness())))

  it.effect("stats counts agents by state, with workers, uptime and the event store's size", () =>
    Effect.gen(function*() {
      yield* request({ command: "ps" })
      expect(yield* request({ command: "stats" })).toEqual(ok({
        total_agents: 4,
        registered: 0,
        queued: 0,
        starting: 0,
        running: 2,
        paused: 1,
        stopping: 0,
        completed: 1,
        failed: 0,
        stopped: 0,
        unhealthy: 0,
        restarts: 0,
        max_workers: 4,
        uptime_seconds: 0,
        events_recorded: 1,
        events_retained: 1,
        events_capacity: 5000,
        cpu_percent: null,
        memory_bytes: null,
        cpu_seconds: null
      }))
    }).pipe(Effect.provide(harness())))

  it.effect("history returns events oldest first, filtered, with paging information", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      for (const agent of ["a", "b", "a"]) {
        yield* store.record({ eventName: "AGENT_STARTED", category: "agent", agentName: agent, data: { pid: 7 } })
      }
      const page = yield* request({ command: "history", args: [{ agent: "a", limit: 1 }] })
      expect(page).toEqual(ok({
        events: [{
          seq: 3,
          event_name: "AGENT_STARTED",
          category: "agent",
          agent_name: "a",
          timestamp: "1970-01-01T00:00:00.000Z",
          severity: "info",
          data: { pid: 7 }
        }],
        count: 1,
        limit: 1,
        has_more: true,
        capacity: 5000,
        first_seq: 1,
        last_seq: 3
      }))
      const forward = yield* request({ command: "history", args: [{ category: "agent", after_seq: 1 }] })
      expect(forward).toHaveProperty(["data", "events", "length"], 2)
      expect(forward).toHaveProperty(["data", "has_more"], false)
      expect(forward).toHaveProperty(["data", "limit"], 50)
      const byEvent = yield* request({ command: "history", args: [{ event: "NOPE" }] })
      expect(byEvent).toHaveProperty(["data", "count"], 0)
    }).pipe(Effect.provide(harness())))

  it.effect("history caps its limit", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "history", args: [{ limit: 1_000_000 }] })).toHaveProperty(["data", "limit"], 1000)
    }).pipe(Effect.provide(harness())))

  it.effect("dependencies reports the graph and a start order with every agent after its dependencies", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "dependencies" })).toEqual(ok({
        agents: [
          { name: "db", state: "running", dependencies: [], dependents: ["api", "worker", "migrate"] },
          { name: "api", state: "running", dependencies: ["db"], dependents: [] },
          { name: "worker", state: "paused", dependencies: ["db"], dependents: [] },
          { name: "migrate", state: "completed", dependencies: ["db"], dependents: [] }
        ],
        start_order: ["db", "api", "worker", "migrate"]
      }))
    }).pipe(Effect.provide(harness())))

  it.effect("commands lists what is allowed and everything known", () =>
    Effect.gen(function*() {
      const reply = yield* request({ command: "commands" })
      expect(reply).toHaveProperty(["data", "allowed"], ["ps", "status", "commands"])
      expect(reply).toHaveProperty(["data", "known", "length"], commandNames.length)
      expect(reply).toHaveProperty(["data", "known", 0], {
        name: "ps",
        usage: "ps",
        summary: "List agents with their state and pid",
        mutating: false,
        allowed: true
      })
    }).pipe(Effect.provide(harness({ config: { allowedCommands: ["ps", "status", "commands"] } }))))

  it.effect("agent control moves agents between states and reports the new state", () =>
    Effect.gen(function*() {
      const paused = yield* request({ command: "pause", args: ["api"] })
      expect(paused).toHaveProperty(["data", "message"], "Agent 'api' paused")
      expect(paused).toHaveProperty(["data", "agent", "state"], "paused")
      expect(yield* request({ command: "resume", args: ["api"] })).toHaveProperty(["data", "agent", "state"], "running")
      const stopped = yield* request({ command: "stop", args: ["api"] })
      expect(stopped).toHaveProperty(["data", "agent", "state"], "stopped")
      expect(stopped).toHaveProperty(["data", "agent", "pid"], null)
      expect(yield* request({ command: "start", args: ["api"] })).toHaveProperty(["data", "agent", "state"], "running")
      const restarted = yield* request({ command: "restart", args: ["api"] })
      expect(restarted).toHaveProperty(["data", "message"], "Agent 'api' restarted")
      expect(restarted).toHaveProperty(["data", "agent", "restarts"], 1)
    }).pipe(Effect.provide(harness())))

  it.effect("asking for the state an agent is already in succeeds and says so", () =>
    Effect.gen(function*() {
      expect(yield* request({ command: "start", args: ["db"] })).toHaveProperty(
        ["data", "message"],
        "Agent 'db' is already running"
      )
    }).pipe(Effect.provide(harness())))

  it.effect("shutdown replies first, then asks the orchestrator to shut down", () =>
    Effect.gen(function*() {
      const orchestrator = yield* InMemoryOrchestrator
      expect(yield* orchestrator.isShutdownRequested).toBe(false)
      expect(yield* request({ command: "shutdown", id: "bye" })).toEqual({
        status: "success",
        data: { message: "Shutdown initiated" },
        id: "bye"
      })
      yield* orchestrator.shutdownRequested
      expect(yield* request({ command: "status" })).toHaveProperty(["data", "state"], "stopping")
    }).pipe(Effect.provide(harness())))
})
