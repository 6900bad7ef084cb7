/**
 * What an orchestrator keeps about each agent, and how that becomes the status the command interface reports.
 * Records are immutable: every change makes a new one, so a snapshot can never see half an update.
 */
import { DateTime } from "effect"
import { type AgentStanding, uptimeOf } from "../ports/OrchestratorQuery.ts"
import type { AgentKind, AgentState, AgentStatus, ProbeStatus, RestartPolicy, WaitingFor } from "../protocol/Model.ts"
import { healthOf } from "./Probe.ts"
import { type AgentUsage, NO_USAGE, type UsageOf } from "./ResourceUsage.ts"

export type { WaitingFor }

export interface AgentRecord {
  readonly name: string
  readonly kind: AgentKind
  readonly state: AgentState
  readonly pid: number | null
  readonly dependencies: ReadonlyArray<string>
  readonly restartPolicy: RestartPolicy
  /** Restarts so far, by policy or on request. */
  readonly restarts: number
  // Instants are kept as DateTime values, made once per change rather than once per query for every agent.
  readonly startedAt: DateTime.Utc | null
  readonly lastHeartbeat: DateTime.Utc | null
  readonly exitCode: number | null
  readonly lastError: string | null
  readonly waitingFor: WaitingFor | null
  /** Whether the last stop had to kill the agent after its grace period. */
  readonly stopForced: boolean
  /**
   * Stopped on its way to a requested restart: its dependents wait for it to come back, rather than taking the
   * stop for good and failing.
   */
  readonly restarting: boolean
  /** The agent's probes in its current (or last) run, readiness first; empty for an agent without probes. */
  readonly probes: ReadonlyArray<ProbeStatus>
}

export const makeRecord = (fields: Pick<AgentRecord, "name" | "kind" | "dependencies" | "restartPolicy"> & Partial<AgentRecord>): AgentRecord => ({
  state: "registered",
  pid: null,
  restarts: 0,
  startedAt: null,
  lastHeartbeat: null,
  exitCode: null,
  lastError: null,
  waitingFor: null,
  stopForced: false,
  restarting: false,
  probes: [],
  ...fields
})

/** Running or paused: the agent's program is alive. */
export const isActive = (state: AgentState): boolean => state === "running" || state === "paused"

/** Whether a run of the agent is on: it has a process (or fiber) that started and has not ended. */
const isRunOn = (state: AgentState): boolean => isActive(state) || state === "starting" || state === "stopping"

/** When the agent's uptime counts from (epoch milliseconds): its run's start, while the run is on; else none. */
const upSinceOf = (record: AgentRecord): number | null =>
  record.startedAt !== null && isRunOn(record.state)
    ? DateTime.toEpochMillis(record.startedAt)
    : null

/** The status the command interface reports but for the uptime: the record, with its resource usage as last sampled. */
const standingOf = (record: AgentRecord, usage: AgentUsage): AgentStanding => ({
  status: {
    agentName: record.name,
    kind: record.kind,
    state: record.state,
    pid: record.pid,
    startedAt: record.startedAt,
    lastHeartbeat: record.lastHeartbeat,
    restarts: record.restarts,
    restartPolicy: record.restartPolicy,
    waitingFor: record.waitingFor,
    dependencies: record.dependencies,
    exitCode: record.exitCode,
    lastError: record.lastError,
    // Without a run there is nothing to be healthy: the probes keep their last verdicts, for why it ended.
    health: isRunOn(record.state) ? healthOf(record.probes) : null,
    probes: record.probes,
    cpuPercent: usage.cpuPercent,
    memoryBytes: usage.memoryBytes,
    cpuSeconds: usage.cpuSeconds
  },
  upSince: upSinceOf(record)
})

/** The status the command interface reports: the record, with the agent's resource usage as last sampled. */
export const toStatus = (record: AgentRecord, now: number, usage: AgentUsage = NO_USAGE): AgentStatus => {
  const { status, upSince } = standingOf(record, usage)
  return { ...status, uptimeSeconds: uptimeOf(upSince, now) }
}

/**
 * Every agent's standing (`SnapshotView.agents`), made once per change: the same array as long as the records and
 * the usage answer are the same, and the same standing for a record and usage as the last time either was seen.
 */
export const makeStandings = () => {
  const made = new WeakMap<AgentRecord, { readonly usage: AgentUsage; readonly standing: AgentStanding }>()
  let last: { readonly records: ReadonlyArray<AgentRecord>; readonly usageOf: UsageOf; readonly agents: ReadonlyArray<AgentStanding> } | undefined
  return (records: ReadonlyArray<AgentRecord>, usageOf: UsageOf): ReadonlyArray<AgentStanding> => {
    if (last?.records === records && last.usageOf === usageOf) return last.agents
    const agents = records.map((record) => {
      const usage = usageOf(record.name)
      const known = made.get(record)
      if (known?.usage === usage) return known.standing
      const standing = standingOf(record, usage)
      made.set(record, { usage, standing })
      return standing
    })
    last = { records, usageOf, agents }
    return agents
  }
}
