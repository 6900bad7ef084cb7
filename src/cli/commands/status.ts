import { Clock, Console, DateTime, Duration, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { Reply } from "../../client/CommandClient.ts"
import type { ResultOf } from "../../protocol/Commands.ts"
import { type AgentCounts, type AgentStatus, isFinished, type OrchestratorStatus, waitingDescriptions } from "../../protocol/Model.ts"
import { WaitTimedOut } from "../exit.ts"
import { colorState, details, formatDuration, style, table } from "../output.ts"
import { addressOf, clientFor, respond, root } from "../root.ts"

const WAIT_DEFAULT_SECONDS = 60
const POLL_INTERVAL_MILLIS = 250
/** Longest a single poll may wait for its answer while `--wait`ing. */
const POLL_TIMEOUT_SECONDS = 5

const ago = (instant: DateTime.Utc | null, now: number): string =>
  instant === null ? "-" : `${formatDuration(Math.max(0, now - DateTime.toEpochMillis(instant)) / 1000)} ago`

const note = (agent: AgentStatus): string =>
  agent.waitingFor !== null ? waitingDescriptions[agent.waitingFor] : agent.lastError ?? ""

const summarize = (counts: AgentCounts): string => {
  const states = (["running", "paused", "starting", "queued", "stopping", "completed", "failed", "stopped", "registered"] as const)
    .filter((state) => counts[state] > 0)
    .map((state) => `${counts[state]} ${state}`)
  return `${counts.total} total${states.length === 0 ? "" : `: ${states.join(", ")}`}`
}

const renderOrchestrator = (status: OrchestratorStatus, now: number): string =>
  [
    details([
      ["orchestrator", `${status.state === "running" ? style.green(status.state) : style.yellow(status.state)} ${style.dim(`(${status.runMode})`)}, up ${formatDuration(status.uptimeSeconds)}`],
      ["workers", String(status.maxWorkers)],
      ["agents", summarize(status.counts)]
    ]),
    "",
    table(
      ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "HEARTBEAT", "NOTE"],
      status.agents.map((agent) => [
        agent.agentName,
        colorState(agent.state),
        agent.pid === null ? "-" : String(agent.pid),
        formatDuration(agent.uptimeSeconds),
        String(agent.restarts),
        ago(agent.lastHeartbeat, now),
        note(agent)
      ])
    )
  ].join("\n")

const renderAgent = (agent: AgentStatus, now: number): string =>
  details([
    ["agent", agent.agentName],
    ["kind", agent.kind],
    ["state", `${colorState(agent.state)}${agent.waitingFor === null ? "" : ` (${waitingDescriptions[agent.waitingFor]})`}`],
    ["pid", agent.pid === null ? "-" : String(agent.pid)],
    ["uptime", formatDuration(agent.uptimeSeconds)],
    ["started at", agent.startedAt === null ? "-" : DateTime.formatIso(agent.startedAt)],
    ["last heartbeat", ago(agent.lastHeartbeat, now)],
    ["restarts", `${agent.restarts} (policy: ${agent.restartPolicy})`],
    ["depends on", agent.dependencies.length === 0 ? "-" : agent.dependencies.join(", ")],
    ["exit code", agent.exitCode === null ? "-" : String(agent.exitCode)],
    ["last error", agent.lastError ?? "-"]
  ])

const render = (now: number) => (status: ResultOf<"status">): string =>
  "agentName" in status ? renderAgent(status, now) : renderOrchestrator(status, now)

/** Polls until the orchestrator answers and, with an agent, until that agent is running. */
const waitUntilReady = (agent: Option.Option<string>) =>
  Effect.gen(function*() {
    const flags = yield* root
    const seconds = Option.getOrElse(flags.timeout, () => WAIT_DEFAULT_SECONDS)
    const deadline = (yield* Clock.currentTimeMillis) + seconds * 1000
    const client = yield* clientFor(flags, POLL_TIMEOUT_SECONDS)
    const args = Option.match(agent, { onNone: () => [] as const, onSome: (name) => [name] as const })
    let lastProblem = `no answer from ${addressOf(flags)}`
    for (;;) {
      const remaining = deadline - (yield* Clock.currentTimeMillis)
      if (remaining <= 0) {
        return yield* new WaitTimedOut({ detail: `not ready after ${formatDuration(seconds)}: ${lastProblem}` })
      }
      const timeout = Duration.millis(Math.min(remaining, POLL_TIMEOUT_SECONDS * 1000))
      const polled = yield* client.call("status", args, { timeout }).pipe(
        // Nothing listening yet is what waiting is for; any answer, even an error, is final.
        Effect.catchTag("Unreachable", (error) => Effect.as(Effect.sync(() => { lastProblem = error.message }), undefined))
      )
      if (polled !== undefined) {
        const status = polled.data
        if (!("agentName" in status) || status.state === "running") return polled
        // An agent that has ended will not become running by waiting.
        if (isFinished(status.state)) {
          return yield* new WaitTimedOut({
            detail: `agent '${status.agentName}' is ${status.state}${status.lastError === null ? "" : `: ${status.lastError}`}; it will not become running by waiting`
          })
        }
        lastProblem = `agent '${status.agentName}' is ${status.state}`
      }
      yield* Effect.sleep(Math.min(POLL_INTERVAL_MILLIS, Math.max(0, remaining)))
    }
  })

export const status = Command.make("status", {
  agent: Argument.String("agent").pipe(Argument.withDescription("An agent to show in detail"), Argument.optional),
  wait: Flag.Boolean("wait").pipe(
    Flag.withDefault(false),
    Flag.withDescription(
      `Wait until the orchestrator answers (and, with an agent, until it is running); --timeout sets how long (default ${WAIT_DEFAULT_SECONDS}s)`
    )
  )
}, ({ agent, wait }) =>
  Effect.gen(function*() {
    if (!wait) {
      const now = yield* Clock.currentTimeMillis
      return yield* respond("status", Option.match(agent, { onNone: () => [], onSome: (name) => [name] }), render(now))
    }
    const flags = yield* root
    const reply: Reply<ResultOf<"status">> = yield* waitUntilReady(agent)
    yield* Console.log(flags.json ? reply.raw : render(yield* Clock.currentTimeMillis)(reply.data))
  })).pipe(
  Command.withDescription("Show the orchestrator's status and every agent's, or one agent in detail"),
  Command.withExamples([
    { command: "orchestrate status", description: "Overview of the orchestrator and its agents" },
    { command: "orchestrate status web", description: "Everything about the agent 'web'" },
    { command: "orchestrate status --wait web --timeout 30", description: "Wait up to 30s for 'web' to be running" },
    { command: "while orchestrate status >/dev/null 2>&1; do sleep 2; done", description: "Wait until the orchestrator is gone" }
  ])
)
