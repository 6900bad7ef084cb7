/**
 * `orchestrate status [agent] [--wait]`: the orchestrator and its agents, or one agent in detail. With `--wait`,
 * it polls until the agent (or, without one, every long-running agent) is ready, an awaited agent can no longer
 * become ready (exit 1, at once), or the wait runs out (exit 3); meanwhile stderr says what it is waiting for.
 */
import { Clock, Console, Duration, Effect, Option, Schedule, Schema, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type Reply, Unreachable } from "../../client/CommandClient.ts"
import type { ArgsOf, ResultOf } from "../../protocol/Commands.ts"
import { AgentState, type AgentStatus } from "../../protocol/Model.ts"
import { currentStyle, formatDuration } from "../output.ts"
import { WAIT_DEFAULT_SECONDS } from "../defaults.ts"
import { clientFor, respond, root } from "../root.ts"
import { allContextsFlag, askAllContexts, cannotCombine, type ContextsView } from "../contexts/allContexts.ts"
import { AGENT_HEADERS, agentColumns, render, summarize } from "./statusRender.ts"

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

const Pending = Schema.Struct({ agent: Schema.String, state: AgentState, health: Schema.NullOr(Schema.String) })

const describePending = (pending: typeof Pending.Type) =>
  `${pending.agent} (${pending.health === "unhealthy" ? "unhealthy" : pending.state})`

/** The orchestrator answered, but awaited agents were not ready yet. */
export class AgentsNotReady extends Schema.TaggedError<AgentsNotReady>()("AgentsNotReady", {
  pending: Schema.Array(Pending)
}) {
  override get message(): string {
    const [only] = this.pending
    return this.pending.length === 1 && only !== undefined
      ? `agent '${only.agent}' is ${only.health === "unhealthy" ? `${only.state} but unhealthy` : only.state}`
      : `waiting for ${this.pending.map(describePending).join(", ")}`
  }
}

export const WaitTimedOutReason = Schema.Union([NotPolled, Unanswered, AgentsNotReady])
export type WaitTimedOutReason = typeof WaitTimedOutReason.Type

/** `status --wait` gave up: out of time (saying what the last poll found), or on an agent that has ended. */
export class WaitTimedOut extends Schema.TaggedError<WaitTimedOut>()("WaitTimedOut", {
  /** How long the wait could last (`--timeout`). */
  timeoutSeconds: Schema.Number,
  reason: WaitTimedOutReason
}) {
  override get message(): string {
    return `not ready after ${formatDuration(this.timeoutSeconds)}: ${this.reason.message}`
  }
}

/** An awaited agent has failed (or was stopped): it will not become ready by waiting, so the wait ends at once. */
export class NeverReady extends Schema.TaggedError<NeverReady>()("NeverReady", {
  agent: Schema.String,
  state: AgentState,
  lastError: Schema.NullOr(Schema.String)
}) {
  override get message(): string {
    return `agent '${this.agent}' is ${this.state}${this.lastError === null ? "" : `: ${this.lastError}`}; ` +
      "it will not become ready by waiting"
  }
}

/**
 * Whether an agent is what `--wait` waits for: running and not unhealthy (its readiness probe, if any, has passed),
 * or completed (a one-shot job that succeeded); `never` once it has failed or been stopped.
 */
const readinessOf = (agent: AgentStatus): "ready" | "pending" | "never" => {
  if (agent.state === "running") return agent.health === "unhealthy" ? "pending" : "ready"
  if (agent.state === "completed") return "ready"
  return agent.state === "failed" || agent.state === "stopped" ? "never" : "pending"
}

/** The request's args: the agent, if one is named. */
const argsOf = (agent: Option.Option<string>): ArgsOf<"status"> => Option.match(agent, { onNone: () => [], onSome: (name) => [name] })

/** `--all-contexts`: a line per orchestrator, or with an agent, a line for it in each. */
const contextsView = (agent: boolean, now: number): ContextsView<"status"> => ({
  headers: agent ? AGENT_HEADERS : ["ORCHESTRATOR", "MODE", "UPTIME", "WORKERS", "AGENTS"],
  rows: (status, style) => [
    "agentName" in status
      ? agentColumns(status, now, style)
      : [status.state, status.runMode, formatDuration(status.uptimeSeconds), String(status.maxWorkers), summarize(status.counts)]
  ]
})

/** What one poll of `--wait` found: the reply once ready, why not yet, or nothing because the time is up. */
type Polled =
  | { readonly _tag: "Ready"; readonly reply: Reply<ResultOf<"status">> }
  | { readonly _tag: "NotReady"; readonly reason: Unanswered | AgentsNotReady }
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
  const args = argsOf(agent)
  const gaveUp = (reason: WaitTimedOutReason) => new WaitTimedOut({ timeoutSeconds, reason })

  const poll = Effect.gen(function*() {
    const left = yield* timeLeft
    if (Duration.isZero(left)) return { _tag: "OutOfTime" } satisfies Polled
    return yield* client.call("status", args, { timeout: Duration.min(left, POLL_TIMEOUT) }).pipe(
      Effect.flatMap((reply): Effect.Effect<Polled, NeverReady> => {
        const status = reply.data
        const awaited = "agentName" in status ? [status] : status.agents
        const never = awaited.find((agent) => readinessOf(agent) === "never")
        if (never !== undefined) {
          return Effect.fail(new NeverReady({ agent: never.agentName, state: never.state, lastError: never.lastError }))
        }
        const pending = awaited.filter((agent) => readinessOf(agent) === "pending")
        return Effect.succeed(pending.length === 0 ? { _tag: "Ready", reply } : {
          _tag: "NotReady",
          reason: new AgentsNotReady({ pending: pending.map((agent) => ({ agent: agent.agentName, state: agent.state, health: agent.health })) })
        })
      }),
      // Nothing listening yet is what waiting is for; any answer, even an error, is final.
      Effect.catchTag("Unreachable", (cause) => Effect.succeed<Polled>({ _tag: "NotReady", reason: new Unanswered({ cause }) }))
    )
  })
  const pacing = Schedule.spaced(POLL_INTERVAL).pipe(
    Schedule.modifyDelay(({ duration }) => Effect.map(timeLeft, (left) => Duration.min(duration, left)))
  )
  // What it is waiting for, on stderr, each time that changes.
  let said = ""
  const tell = (polled: Polled) => {
    if (polled._tag !== "NotReady" || polled.reason._tag !== "AgentsNotReady") return Effect.void
    const text = `waiting for ${polled.reason.pending.map(describePending).join(", ")}`
    if (text === said) return Effect.void
    said = text
    return Console.error(text)
  }
  const last = yield* Stream.fromEffectSchedule(poll, pacing).pipe(
    Stream.tap(tell),
    Stream.takeWhile(isPolled),
    Stream.takeUntil((polled) => polled._tag === "Ready"),
    Stream.runLast
  )
  if (Option.isNone(last)) return yield* gaveUp(new NotPolled({ address: client.address }))
  return last.value._tag === "Ready" ? last.value.reply : yield* gaveUp(last.value.reason)
})

export const status = Command.make("status", {
  agent: Argument.String("agent").pipe(Argument.withDescription("An agent to show in detail"), Argument.optional),
  wait: Flag.Boolean("wait").pipe(
    Flag.withDefault(false),
    Flag.withDescription(
      `Wait until the agent (without one: every long-running agent) is ready: running with its readiness probe ` +
        `passed, or completed. Exit 1 at once if it fails, 3 after --timeout (default ${WAIT_DEFAULT_SECONDS}s)`
    )
  ),
  allContexts: allContextsFlag
}, ({ agent, wait, allContexts }) =>
  Effect.gen(function*() {
    if (allContexts) {
      if (wait) return yield* cannotCombine("--wait", "it asks every context once")
      const now = yield* Clock.currentTimeMillis
      return yield* askAllContexts(
        "status",
        argsOf(agent),
        contextsView(Option.isSome(agent), now)
      )
    }
    if (!wait) {
      const now = yield* Clock.currentTimeMillis
      return yield* respond("status", argsOf(agent), render(now))
    }
    const flags = yield* root
    const reply = yield* waitUntilReady(agent)
    yield* Console.log(flags.json ? reply.raw : render(yield* Clock.currentTimeMillis)(reply.data, yield* currentStyle))
  })).pipe(
  Command.withDescription("Show the orchestrator's status and every agent's, or one agent in detail"),
  Command.withExamples([
    { command: "orchestrate status", description: "Overview of the orchestrator and its agents" },
    { command: "orchestrate status web", description: "Everything about the agent 'web'" },
    { command: "orchestrate status --all-contexts", description: "One line per orchestrator, for every context" },
    { command: "orchestrate status --wait web --timeout 30", description: "Wait up to 30s for 'web' to be ready" },
    { command: "orchestrate status --wait && ./run-smoke-tests", description: "Wait until every agent is ready" },
    { command: "while orchestrate status >/dev/null 2>&1; do sleep 2; done", description: "Wait until the orchestrator is gone" }
  ])
)
