/**
 * The `ps` and `status` texts made by parts from the orchestrator's views must be exactly what JSON.stringify makes
 * of the fast encoders' values (and so what the schemas encode), for any view, and stay so as the same encoder
 * sees views that share agents, change some, or only move on in time.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { type AgentStanding, type SnapshotView, snapshotOf, uptimeOf } from "../../src/ports/OrchestratorQuery.ts"
import { Commands } from "../../src/protocol/Commands.ts"
import { fastEncoders } from "../../src/protocol/fastEncode.ts"
import { AgentStatus, OrchestratorSnapshot } from "../../src/protocol/Model.ts"
import { countAgents, makeAgentListEncoder, uptimeText } from "../../src/server/AgentListEncoder.ts"

const Millis = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 4_000_000_000_000 }))

/** A snapshot, when each of its agents' uptimes counts from, and a later time. */
const Input = Schema.Struct({
  snapshot: OrchestratorSnapshot,
  upSince: Schema.Array(Schema.NullOr(Millis)),
  now: Millis,
  later: Millis
})
type Input = typeof Input.Type

const standingOf = ({ uptimeSeconds: _, ...status }: AgentStatus, upSince: number | null): AgentStanding => ({ status, upSince })

const viewOf = ({ snapshot, upSince, now }: Input): SnapshotView => ({
  ...snapshot,
  now,
  agents: snapshot.agents.map((agent, index) => standingOf(agent, upSince[index] ?? null))
})

/** What the server sent before it encoded by parts: the fast encoders' values, stringified; and the schema's. */
const psBefore = (view: SnapshotView) => {
  const result = {
    agents: snapshotOf(view).agents.map((agent) => ({
      name: agent.agentName,
      state: agent.state,
      pid: agent.pid,
      uptimeSeconds: agent.uptimeSeconds,
      restarts: agent.restarts,
      health: agent.health,
      cpuPercent: agent.cpuPercent,
      memoryBytes: agent.memoryBytes
    }))
  }
  return { text: JSON.stringify(fastEncoders.ps?.(result)), schema: JSON.stringify(Schema.encodeSync(Commands.ps.result)(result)) }
}

const statusBefore = (view: SnapshotView) => {
  const snapshot = snapshotOf(view)
  const result = { ...snapshot, counts: countAgents(snapshot.agents) }
  return { text: JSON.stringify(fastEncoders.status?.(result)), schema: JSON.stringify(Schema.encodeSync(Commands.status.result)(result)) }
}

// One encoder for every generated view, as the server keeps one: its caches must never give a stale text.
const encoder = makeAgentListEncoder()

describe("the agent list encoder", () => {
  it.prop("ps: the same text as the fast encoder's value, whatever the view, and as time moves on", [Input], ([input]) => {
    const view = viewOf(input)
    for (const at of [view, { ...view, now: input.later }, view]) {
      const expected = psBefore(at)
      const text = encoder.ps(at)
      expect(text).toBe(expected.text)
      expect(JSON.parse(text)).toEqual(JSON.parse(expected.schema))
    }
  })

  it.prop("status: the same text as the fast encoder's value, whatever the view, and as time moves on", [Input], ([input]) => {
    const view = viewOf(input)
    for (const at of [view, { ...view, now: input.later, uptimeSeconds: input.later / 1000 }, view]) {
      const expected = statusBefore(at)
      const text = encoder.status(at)
      expect(text).toBe(expected.text)
      expect(JSON.parse(text)).toEqual(JSON.parse(expected.schema))
    }
  })

  it.prop("a changed agent, state or worker count is seen at once, the others kept", [Input, Input], ([first, second]) => {
    const view = viewOf(first)
    const changed = viewOf(second)
    const [head, ...rest] = changed.agents
    // The first agent replaced by another one's, the rest kept as they were (the same objects).
    const mixed: SnapshotView = {
      ...view,
      state: changed.state,
      maxWorkers: changed.maxWorkers,
      agents: head === undefined ? view.agents : [head, ...view.agents.slice(1)]
    }
    for (const at of [view, mixed, view, { ...mixed, agents: [...mixed.agents, ...rest] }]) {
      expect(encoder.ps(at)).toBe(psBefore(at).text)
      expect(encoder.status(at)).toBe(statusBefore(at).text)
    }
  })

  it("writes each uptime as the view's time says, to the millisecond, and none for an agent that is not up", () => {
    const status = Schema.decodeSync(AgentStatus)({
      agent_name: "api",
      kind: "process",
      state: "running",
      pid: 42,
      uptime_seconds: null,
      started_at: "2026-12-02T00:00:00.000Z",
      last_heartbeat: null,
      restarts: 0,
      restart_policy: "never",
      waiting_for: null,
      dependencies: [],
      exit_code: null,
      last_error: null,
      health: null,
      probes: [],
      cpu_percent: 1.5,
      memory_bytes: 4096,
      cpu_seconds: 0.25
    })
    const view: SnapshotView = {
      state: "running",
      runMode: "daemon",
      startedAt: Schema.decodeSync(Schema.DateTimeUtcFromString)("2026-12-02T00:00:00.000Z"),
      uptimeSeconds: 12.345,
      maxWorkers: 1,
      now: 1_000_000_012_345,
      agents: [standingOf(status, 1_000_000_000_000), standingOf({ ...status, agentName: "job", state: "completed", pid: null }, null)]
    }
    const row = { restarts: 0, health: null, cpu_percent: 1.5, memory_bytes: 4096 }
    expect(JSON.parse(encoder.ps(view))).toEqual({
      agents: [
        { name: "api", state: "running", pid: 42, uptime_seconds: 12.345, ...row },
        { name: "job", state: "completed", pid: null, uptime_seconds: null, ...row }
      ]
    })
    // A clock behind the agent's start: never a negative uptime.
    expect(JSON.parse(encoder.ps({ ...view, now: 999_999_999_000 })).agents[0].uptime_seconds).toBe(0)
    expect(JSON.parse(encoder.status(view))).toMatchObject({
      uptime_seconds: 12.345,
      agents: [{ agent_name: "api", uptime_seconds: 12.345 }, { agent_name: "job", uptime_seconds: null }],
      counts: { total: 2, running: 1, completed: 1 }
    })
  })
})

describe("uptimeText", () => {
  const written = (since: number | null, now: number) => `${uptimeOf(since, now)}`

  it("writes every uptime as the number's own text does", () => {
    const now = 1_764_650_000_000
    const cases: Array<number | null> = [null, now, now + 5, now - 1, now - 9, now - 10, now - 90, now - 100, now - 999,
      now - 1000, now - 1001, now - 1010, now - 1100, now - 12_345, now - 60_000, now - 86_400_123, 0, now - 0.5, 1e14]
    for (const since of cases) expect(uptimeText(since, now)).toBe(written(since, now))
    expect(uptimeText(0, 1e14 + 7)).toBe(written(0, 1e14 + 7))
  })

  it("agrees with it on any whole milliseconds", () => {
    let seed = 7
    const next = () => (seed = (seed * 48271) % 2147483647)
    for (let i = 0; i < 20_000; i++) {
      const millis = i < 10_000 ? i : next() * 1000 + (next() % 1000)
      expect(uptimeText(0, millis)).toBe(written(0, millis))
    }
  })
})
