/**
 * `orchestrate dependencies`, `commands` and `whoami`: what the orchestrator says about its agents' graph, its
 * commands and the caller, rendered by infoRender.ts.
 */
import { Command } from "effect/cli"
import { respond } from "../root.ts"
import { renderCommands, renderDependencies, renderWhoami } from "./infoRender.ts"

export const dependencies = Command.make("dependencies", {}, () => respond("dependencies", [], renderDependencies)).pipe(
  Command.withDescription("Show the agents' dependency graph and the order they start in"),
  Command.withExamples([{ command: "orchestrate dependencies", description: "Who needs whom" }])
)

export const commands = Command.make("commands", {}, () => respond("commands", [], renderCommands)).pipe(
  Command.withDescription("List the commands the orchestrator's interface knows, and which it allows"),
  Command.withExamples([{ command: "orchestrate commands", description: "What may I run here?" }])
)

export const whoami = Command.make("whoami", {}, () => respond("whoami", [], renderWhoami)).pipe(
  Command.withDescription("Show who the orchestrator takes you for, and what you may do there"),
  Command.withExamples([
    { command: "orchestrate whoami --server-key server.key.pub --client-key ops.key", description: "Check a CURVE key's role" }
  ])
)
