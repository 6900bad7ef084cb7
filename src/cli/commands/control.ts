import { Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { AgentAction } from "../../ports/OrchestratorControl.ts"
import type { AgentActionResult, MultiActionResult } from "../../protocol/Commands.ts"
import { MAX_REASON_LENGTH } from "../../protocol/Envelope.ts"
import { respond } from "../root.ts"

/** Why: kept in the orchestrator's audit trail with the command. */
export const reason = Flag.String("reason").pipe(
  Flag.withSchema(Schema.String.check(Schema.isBetweenLength(1, MAX_REASON_LENGTH))),
  Flag.optional,
  Flag.withDescription(`Why you are doing this, recorded in the orchestrator's audit trail (up to ${MAX_REASON_LENGTH} characters)`)
)

/** One line per agent: the orchestrator's message, and for a refusal, that it was refused. */
const render = (result: AgentActionResult | MultiActionResult): string =>
  "results" in result
    ? result.results.map((target) => target.outcome === "refused" ? `${target.agent}: refused: ${target.message}` : target.message).join("\n")
    : result.message

const action = (name: AgentAction, description: string, example: string) =>
  Command.make(name, {
    agents: Argument.String("agent").pipe(
      Argument.atLeast(1),
      Argument.withDescription("Agent names, glob patterns ('web-*', '?' for one character) or 'all'")
    ),
    reason
  }, ({ agents, reason }) => {
    const [first, ...rest] = agents
    return respond(name, [first ?? "", ...rest], render, { reason })
  }).pipe(
    Command.withDescription(description),
    Command.withExamples([
      { command: `orchestrate ${name} web`, description: example },
      { command: `orchestrate ${name} db api 'web-*'`, description: "The same for several agents, in dependency order, one line each" },
      { command: `orchestrate ${name} all --reason "deploy 1.4.2"`, description: "Every agent, saying why in the audit trail" }
    ])
  )
export const start = action("start", "Start an agent that is stopped, completed or failed", "Start 'web' (it waits for its dependencies and a worker slot)")
export const stop = action("stop", "Stop an agent: SIGTERM (or interruption), then SIGKILL after its grace period", "Stop 'web'")
export const restart = action("restart", "Stop an agent if it runs, then start it again", "Restart 'web'")
export const pause = action("pause", "Pause a running agent (SIGSTOP for a process; the next checkpoint for an Effect agent)", "Pause 'web'")
export const resume = action("resume", "Resume a paused agent", "Resume 'web'")

export const shutdown = Command.make("shutdown", { reason }, ({ reason }) =>
  respond("shutdown", [], (result) => result.message, { reason })).pipe(
    Command.withDescription("Stop every agent (dependents first), then the orchestrator itself"),
    Command.withExamples([
      { command: "orchestrate shutdown", description: "Shut the orchestrator down gracefully" },
      { command: "orchestrate shutdown && while orchestrate status >/dev/null 2>&1; do sleep 1; done", description: "...and wait until it has exited" }
    ])
  )
