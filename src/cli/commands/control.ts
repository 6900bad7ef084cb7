import { Argument, Command } from "effect/cli"
import type { AgentAction } from "../../orchestrator/OrchestratorControl.ts"
import { respond } from "../root.ts"

const action = (name: AgentAction, description: string, example: string) =>
  Command.make(name, {
    agent: Argument.String("agent").pipe(Argument.withDescription("The agent's name"))
  }, ({ agent }) => respond(name, [agent], (result) => result.message)).pipe(
    Command.withDescription(description),
    Command.withExamples([{ command: `orchestrate ${name} web`, description: example }])
  )

export const start = action("start", "Start an agent that is stopped, completed or failed", "Start 'web' (it waits for its dependencies and a worker slot)")
export const stop = action("stop", "Stop an agent: SIGTERM (or interruption), then SIGKILL after its grace period", "Stop 'web'")
export const restart = action("restart", "Stop an agent if it runs, then start it again", "Restart 'web'")
export const pause = action("pause", "Pause a running agent (SIGSTOP for a process; the next checkpoint for an Effect agent)", "Pause 'web'")
export const resume = action("resume", "Resume a paused agent", "Resume 'web'")

export const shutdown = Command.make("shutdown", {}, () =>
  respond("shutdown", [], (result) => result.message)).pipe(
    Command.withDescription("Stop every agent (dependents first), then the orchestrator itself"),
    Command.withExamples([
      { command: "orchestrate shutdown", description: "Shut the orchestrator down gracefully" },
      { command: "orchestrate shutdown && while orchestrate status >/dev/null 2>&1; do sleep 1; done", description: "...and wait until it has exited" }
    ])
  )
