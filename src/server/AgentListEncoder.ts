/**
 * `ps` and `status` (without an agent) as JSON text, from the orchestrator's `SnapshotView`: each agent's text is
 * made once per change of the agent and kept (by its status's identity), the list's text once per change of any
 * agent, and a request only writes the uptimes in. Encoding every agent on every request made a `ps` of 10,000
 * agents take 14 ms (bench/README.md, benchmark 13), and was most of a `ps` of 10 agents besides the pipeline.
 *
 * The text is byte for byte what `JSON.stringify` gives of the fast encoders' values (`protocol/fastEncode.ts`),
 * which test/server/agent-list-encoder.test.ts checks on generated views. It is made from those encoders' output
 * with the uptime set to null and cut around it, so that a field they gain is in it too.
 */
import { type AgentStanding, type SnapshotView, uptimeOf } from "../ports/OrchestratorQuery.ts"
import type { Commands } from "../protocol/Commands.ts"
import { encodeAgentStatus, encodeAgentSummary, encodeOrchestratorStatus } from "../protocol/fastEncode.ts"
import { aroundNull, type AroundValue, assumeJsonText, type JsonText } from "../protocol/jsonText.ts"
import type { AgentCounts, AgentState, OrchestratorStatus } from "../protocol/Model.ts"

type Status = AgentStanding["status"]

export const countAgents = (agents: ReadonlyArray<{ readonly state: AgentState }>): AgentCounts => {
  const counts: Record<AgentState, number> = {
    registered: 0,
    queued: 0,
    starting: 0,
    running: 0,
    paused: 0,
    stopping: 0,
    completed: 0,
    failed: 0,
    stopped: 0
  }
  for (const agent of agents) counts[agent.state]++
  return { total: agents.length, ...counts }
}

const summaryParts = (status: Status): AroundValue =>
  aroundNull(
    JSON.stringify(encodeAgentSummary({
      name: status.agentName,
      state: status.state,
      pid: status.pid,
      uptimeSeconds: null,
      restarts: status.restarts,
      health: status.health,
      cpuPercent: status.cpuPercent,
      memoryBytes: status.memoryBytes
    })),
    "uptime_seconds"
  )

const statusParts = (status: Status): AroundValue =>
  aroundNull(JSON.stringify(encodeAgentStatus({ ...status, uptimeSeconds: null })), "uptime_seconds")

/**
 * A list's text with a hole for each uptime: `pieces[0]`, the first uptime, `pieces[1]`... The agents that have no
 * uptime are written whole into the pieces around them.
 */
interface Holed {
  readonly pieces: ReadonlyArray<string>
  /** When each hole's uptime counts from. */
  readonly upSince: ReadonlyArray<number>
}

const holedList = (agents: ReadonlyArray<AgentStanding>, partsOf: (status: Status) => AroundValue, made: WeakMap<Status, AroundValue>): Holed => {
  const pieces: Array<string> = []
  const upSince: Array<number> = []
  let piece = "["
  agents.forEach((agent, index) => {
    let parts = made.get(agent.status)
    if (parts === undefined) {
      parts = partsOf(agent.status)
      made.set(agent.status, parts)
    }
    if (index > 0) piece += ","
    if (agent.upSince === null) {
      piece += `${parts.before}null${parts.after}`
    } else {
      pieces.push(piece + parts.before)
      upSince.push(agent.upSince)
      piece = parts.after
    }
  })
  pieces.push(`${piece}]`)
  return { pieces, upSince }
}

/**
 * An uptime's text, as `${uptimeOf(since, now)}` writes it. For whole milliseconds below 10^14 that is the integer's
 * digits with a point before the last three and trailing zeros dropped (a decimal of at most 15 significant digits is
 * the shortest text of the double nearest it), and writing an integer is several times cheaper than a fraction's
 * shortest digits: 10 uptimes took 4 µs of a `ps` in a hot loop, 0.8 µs this way (`Builtins_NumberToString` was the
 * second symbol of benchmark 1's server in `perf`: bench/README.md, third pass).
 */
export const uptimeText = (since: number | null, now: number): string => {
  const millis = since === null ? Number.NaN : Math.max(0, now - since)
  if (!Number.isInteger(millis) || millis >= 1e14) return `${uptimeOf(since, now)}`
  const whole = Math.floor(millis / 1000)
  const rest = millis - whole * 1000
  if (rest === 0) return `${whole}`
  const fraction = rest < 10 ? `00${rest}` : rest < 100 ? `0${rest}` : `${rest}`
  return `${whole}.${rest % 100 === 0 ? fraction.slice(0, 1) : rest % 10 === 0 ? fraction.slice(0, 2) : fraction}`
}

/** The list's text with the uptimes as of `now`. */
const filled = ({ pieces, upSince }: Holed, now: number): string => {
  let text = pieces[0] ?? ""
  for (let hole = 0; hole < upSince.length; hole++) text += `${uptimeText(upSince[hole] ?? null, now)}${pieces[hole + 1] ?? ""}`
  return text
}

/** A cache of one value, made again when its key changes. */
const lastOf = <K, V>(make: (key: K) => V) => {
  let last: { readonly key: K; readonly value: V } | undefined
  return (key: K): V => {
    if (last === undefined || last.key !== key) last = { key, value: make(key) }
    return last.value
  }
}

export interface AgentListEncoder {
  readonly ps: (view: SnapshotView) => JsonText<Commands["ps"]["result"]["Encoded"]>
  readonly status: (view: SnapshotView) => JsonText<(typeof OrchestratorStatus)["Encoded"]>
  /** The agents' counts by state, made once per list. */
  readonly counts: (agents: ReadonlyArray<AgentStanding>) => AgentCounts
}

/** An encoder whose caches follow one orchestrator's views (a reader of several would only cache less). */
export const makeAgentListEncoder = (): AgentListEncoder => {
  const summaries = new WeakMap<Status, AroundValue>()
  const statuses = new WeakMap<Status, AroundValue>()
  const psList = lastOf((agents: ReadonlyArray<AgentStanding>) => holedList(agents, summaryParts, summaries))
  const statusList = lastOf((agents: ReadonlyArray<AgentStanding>) => holedList(agents, statusParts, statuses))
  const counts = lastOf((agents: ReadonlyArray<AgentStanding>) => countAgents(agents.map((agent) => agent.status)))

  /** The orchestrator's own members around its uptime and its agents, made again when one of them changes. */
  interface Frame {
    readonly view: SnapshotView
    readonly head: string
    readonly middle: string
    readonly tail: string
  }
  let frame: Frame | undefined
  const frameOf = (view: SnapshotView): Frame => {
    const known = frame?.view
    if (
      frame !== undefined && known !== undefined && known.agents === view.agents && known.state === view.state &&
      known.runMode === view.runMode && known.startedAt === view.startedAt && known.maxWorkers === view.maxWorkers
    ) return frame
    const encoded = encodeOrchestratorStatus({ ...view, uptimeSeconds: 0, agents: [], counts: counts(view.agents) })
    const uptime = aroundNull(JSON.stringify({ ...encoded, uptime_seconds: null, agents: null }), "uptime_seconds")
    const agents = aroundNull(uptime.after, "agents")
    frame = { view, head: uptime.before, middle: agents.before, tail: agents.after }
    return frame
  }

  return {
    ps: (view) => assumeJsonText(`{"agents":${filled(psList(view.agents), view.now)}}`),
    status: (view) => {
      const { head, middle, tail } = frameOf(view)
      return assumeJsonText(`${head}${view.uptimeSeconds}${middle}${filled(statusList(view.agents), view.now)}${tail}`)
    },
    counts
  }
}
