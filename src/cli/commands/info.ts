import { Command } from "effect/cli"
import type { DependencyNode } from "../../protocol/Commands.ts"
import { details, table } from "../output.ts"
import { respond } from "../root.ts"

const list = (names: ReadonlyArray<string>) => names.length === 0 ? "-" : names.join(", ")

/** Each dependency with its condition: `db (ready), migrate (completed_successfully, restart)`. */
const dependsOn = (agent: DependencyNode) =>
  agent.edges === undefined
    ? list(agent.dependencies)
    : list(agent.edges.map((edge) => `${edge.agent} (${edge.condition}${edge.restart ? ", restart" : ""})`))

export const dependencies = Command.make("dependencies", {}, () =>
  respond("dependencies", [], ({ agents, startOrder }, style) =>
    [
      `${style.dim("start order")}  ${startOrder.length === 0 ? "-" : startOrder.join(" -> ")}`,
      "",
      table(
        ["NAME", "STATE", "DEPENDS ON", "NEEDED BY"],
        agents.map((agent) => [agent.name, style.state(agent.state), dependsOn(agent), list(agent.dependents)]),
        style
      )
    ].join("\n"))).pipe(
    Command.withDescription("Show the agents' dependency graph and the order they start in"),
    Command.withExamples([{ command: "orchestrate dependencies", description: "Who needs whom" }])
  )

export const commands = Command.make("commands", {}, () =>
  respond("commands", [], ({ known }, style) =>
    table(
      ["COMMAND", "ALLOWED", "DESCRIPTION"],
      known.map((command) => [
        command.usage,
        command.allowed ? style.green("yes") : style.dim("no"),
        command.summary
      ]),
      style
    ))).pipe(
    Command.withDescription("List the commands the orchestrator's interface knows, and which it allows"),
    Command.withExamples([{ command: "orchestrate commands", description: "What may I run here?" }])
  )

export const whoami = Command.make("whoami", {}, () =>
  respond("whoami", [], ({ principal, keyFingerprint, allowed, agents }, style) =>
    details([
      [
        "principal",
        principal === null
          ? `${style.dim("anonymous")} (the orchestrator does not authenticate callers: CURVE is off)`
          : `${principal}${keyFingerprint === null ? "" : style.dim(` (key ${keyFingerprint})`)}`
      ],
      ["allowed", list(allowed)],
      ["agents", agents === null ? "any" : list(agents)]
    ], style))).pipe(
    Command.withDescription("Show who the orchestrator takes you for, and what you may do there"),
    Command.withExamples([
      { command: "orchestrate whoami --server-key server.key.pub --client-key ops.key", description: "Check a CURVE key's role" }
    ])
  )
