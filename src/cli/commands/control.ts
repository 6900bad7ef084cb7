import { Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { AgentAction } from "../../ports/OrchestratorControl.ts"
import { MAX_REASON_LENGTH } from "../../protocol/Envelope.ts"
import { respond } from "../root.ts"

/** Why: kept in the orchestrator's audit trail with the command. */
const reason = Flag.String("reason").pipe(
  Flag.withSchema(Schema.String.check(Schema.isBetweenLength(1, MAX_REASON_LENGTH))),
  Flag.optional,
  Flag.withDescription(`Why you are doing this, recorded in the orchestrator's audit trail (up to ${MAX_REASON_LENGTH} characters)`)
)

const action = (name: AgentAction, description: string, example: string) =>
  Command.make(name, {
    agent: Argument.String("agent").pipe(Argument.withDescription("The agent's name")),
    reason
  }, ({ agent, reason }) => respond(name, [agent], (result) => result.message, { reason })).pipe(
    Command.withDescription(description),
    Command.withExamples([
      { command: `orchestrate ${name} web`, description: example },
      { command: `orchestrate ${name} web --reason "deploy 1.4.2"`, description: "The same, saying why in the audit trail" }
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
