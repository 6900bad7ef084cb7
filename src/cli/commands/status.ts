/**
 * `orchestrate status [agent] [--wait]`: the orchestrator and its agents, or one agent in detail. With `--wait`,
 * it polls until the orchestrator answers (and, with an agent, until that agent is running) or the wait runs out.
 */
import { Clock, Console, DateTime, Duration, Effect, Option, Schedule, Schema, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type Reply, Unreachable } from "../../client/CommandClient.ts"
import type { ResultOf } from "../../protocol/Commands.ts"
import { type AgentCounts, AgentState, type AgentStatus, isFinished, type OrchestratorStatus, waitingDescriptions } from "../../protocol/Model.ts"
import { probeLines } from "../health.ts"
import { currentStyle, details, formatDuration, type Style, table } from "../output.ts"
import { addressOf, clientFor, respond, root } from "../root.ts"

const WAIT_DEFAULT_SECONDS = 60
const POLL_INTERVAL = Duration.millis(250)
/** Longest a single poll may wait for its answer while `--wait`ing. */
const POLL_TIMEOUT = Duration.seconds(5)

/** The wait ran out before a first poll could be made. */
export class NotPolled extends Schema.TaggedError<NotPolled>()("NotPolled", { address: Schema.String }) {
  override get message(): string {
    return `no answer from ${this.address}`
  }
}

/** The last poll got no answer: nothing listening yet, or no reply in time. */
export class Unanswered extends Schema.TaggedError<Unanswered>()("Unanswered", { cause: Unreachable }) {
  override get message(): string {
    return this.cause.message
  }
}

/** The orchestrator answered, but the agent was not running yet. */
export class AgentNotRunning extends Schema.TaggedError<AgentNotRunning>()("AgentNotRunning", {
  agent: Schema.String,
  state: AgentState
}) {
  override get message(): string {
    return `agent '${this.agent}' is ${this.state}`
  }
}

/** The agent has ended: it will not become running by waiting, so the wait stops at once. */
export class AgentEnded extends Schema.TaggedError<AgentEnded>()("AgentEnded", {
  agent: Schema.String,
  state: AgentState,
  lastError: Schema.NullOr(Schema.String)
}) {
  override get message(): string {
    return `agent '${this.agent}' is ${this.state}${this.lastError === null ? "" : `: ${this.lastError}`}; ` +
      "it will not become running by waiting"
  }
}

export const WaitTimedOutReason = Schema.Union([NotPolled, Unanswered, AgentNotRunning, AgentEnded])
export type WaitTimedOutReason = typeof WaitTimedOutReason.Type

/** `status --wait` gave up: out of time (saying what the last poll found), or on an agent that has ended. */
export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", {
  /** How long the wait could last (`--timeout`). */
  timeoutSeconds: Schema.Number,
  reason: WaitTimedOutReason
}) {
  override get message(): string {
    return this.reason._tag === "AgentEnded"
      ? this.reason.message
      : `not ready after ${formatDuration(this.timeoutSeconds)}: ${this.reason.message}`
  }
}

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

const renderOrchestrator = (status: OrchestratorStatus, now: number, style: Style): string =>
  [
    details([
      ["orchestrator", `${status.state === "running" ? style.green(status.state) : style.yellow(status.state)} ${style.dim(`(${status.runMode})`)}, up ${formatDuration(status.uptimeSeconds)}`],
      ["workers", String(status.maxWorkers)],
      ["agents", summarize(status.counts)]
    ], style),
    "",
    table(
      ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "HEARTBEAT", "NOTE"],
      status.agents.map((agent) => [
        agent.agentName,
        style.state(agent.state),
        agent.pid === null ? "-" : String(agent.pid),
        formatDuration(agent.uptimeSeconds),
        String(agent.restarts),
        ago(agent.lastHeartbeat, now),
        note(agent)
      ]),
      style
    )
  ].join("\n")

const renderAgent = (agent: AgentStatus, now: number, style: Style): string =>
  details([
    ["agent", agent.agentName],
    ["kind", agent.kind],
    ["state", `${style.state(agent.state)}${agent.waitingFor === null ? "" : ` (${waitingDescriptions[agent.waitingFor]})`}`],
    ["pid", agent.pid === null ? "-" : String(agent.pid)],
    ["uptime", formatDuration(agent.uptimeSeconds)],
    ["started at", agent.startedAt === null ? "-" : DateTime.formatIso(agent.startedAt)],
    ["last heartbeat", ago(agent.lastHeartbeat, now)],
    ["restarts", `${agent.restarts} (policy: ${agent.restartPolicy})`],
    ["depends on", agent.dependencies.length === 0 ? "-" : agent.dependencies.join(", ")],
    ["exit code", agent.exitCode === null ? "-" : String(agent.exitCode)],
    ["last error", agent.lastError ?? "-"],
    ...(agent.health === null ? [] : [["health", agent.health] as const]),
    ...agent.probes.flatMap((probe) => probeLines(probe, now, style))
  ], style)

const render = (now: number) => (status: ResultOf<"status">, style: Style): string =>
  "agentName" in status ? renderAgent(status, now, style) : renderOrchestrator(status, now, style)

/** What one poll of `--wait` found: the reply once ready, why not yet, or nothing because the time is up. */
type Polled =
  | { readonly _tag: "Ready"; readonly reply: Reply<ResultOf<"status">> }
  | { readonly _tag: "NotReady"; readonly reason: Unanswered | AgentNotRunning }
  | { readonly _tag: "OutOfTime" }

const isPolled = (polled: Polled): polled is Exclude<Polled, { readonly _tag: "OutOfTime" }> => polled._tag !== "OutOfTime"

/**
 * Polls until the orchestrator answers and, with an agent, until that agent is running. The wait is measured
 * from before the first poll; a poll may take at most what is left of it, and the pause between polls is
 * shortened to what is left, so that the wait ends on its deadline.
 */
const waitUntilReady = Effect.fn("cli.status.wait")(function*(agent: Option.Option<string>) {
  const flags = yield* root
  const timeoutSeconds = Option.getOrElse(flags.timeout, () => WAIT_DEFAULT_SECONDS)
  const deadline = (yield* Clock.currentTimeMillis) + timeoutSeconds * 1000
  const timeLeft = Effect.map(Clock.currentTimeMillis, (now) => Duration.millis(Math.max(0, deadline - now)))
  const client = yield* clientFor(flags, Duration.toSeconds(POLL_TIMEOUT))
  const args = Option.match(agent, { onNone: () => [] as const, onSome: (name) => [name] as const })
  const gaveUp = (reason: WaitTimedOutReason) => new WaitTimedOut({ timeoutSeconds, reason })

  const poll = Effect.gen(function*() {
    const left = yield* timeLeft
    if (Duration.isZero(left)) return { _tag: "OutOfTime" } satisfies Polled
    return yield* client.call("status", args, { timeout: Duration.min(left, POLL_TIMEOUT) }).pipe(
      Effect.flatMap((reply): Effect.Effect<Polled, WaitTimedOut> => {
        const status = reply.data
        if (!("agentName" in status) || status.state === "running") return Effect.succeed({ _tag: "Ready", reply })
        const { agentName, state, lastError } = status
        return isFinished(state)
          ? Effect.fail(gaveUp(new AgentEnded({ agent: agentName, state, lastError })))
          : Effect.succeed({ _tag: "NotReady", reason: new AgentNotRunning({ agent: agentName, state }) })
      }),
      // Nothing listening yet is what waiting is for; any answer, even an error, is final.
      Effect.catchTag("Unreachable", (cause) => Effect.succeed<Polled>({ _tag: "NotReady", reason: new Unanswered({ cause }) }))
    )
  })
  const pacing = Schedule.spaced(POLL_INTERVAL).pipe(
    Schedule.modifyDelay(({ duration }) => Effect.map(timeLeft, (left) => Duration.min(duration, left)))
  )
  const last = yield* Stream.fromEffectSchedule(poll, pacing).pipe(
    Stream.takeWhile(isPolled),
    Stream.takeUntil((polled) => polled._tag === "Ready"),
    Stream.runLast
  )
  if (Option.isNone(last)) return yield* gaveUp(new NotPolled({ address: addressOf(flags) }))
  return last.value._tag === "Ready" ? last.value.reply : yield* gaveUp(last.value.reason)
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
    const reply = yield* waitUntilReady(agent)
    yield* Console.log(flags.json ? reply.raw : render(yield* Clock.currentTimeMillis)(reply.data, yield* currentStyle))
  })).pipe(
  Command.withDescription("Show the orchestrator's status and every agent's, or one agent in detail"),
  Command.withExamples([
    { command: "orchestrate status", description: "Overview of the orchestrator and its agents" },
    { command: "orchestrate status web", description: "Everything about the agent 'web'" },
    { command: "orchestrate status --wait web --timeout 30", description: "Wait up to 30s for 'web' to be running" },
    { command: "while orchestrate status >/dev/null 2>&1; do sleep 2; done", description: "Wait until the orchestrator is gone" }
  ])
)
