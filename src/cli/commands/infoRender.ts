/**
 * What `orchestrate dependencies`, `commands` and `whoami` print. Pure functions of their results, without
 * effect/cli, shared by the commands (info.ts) and the fast path (fast/main.ts).
 */
import type { CommandList, DependencyGraph, DependencyNode, Identity } from "../../protocol/Commands.ts"
import { details, formatList as list, table } from "../format.ts"
import type { Style } from "../style.ts"

/** Each dependency with its condition: `db (ready), migrate (completed_successfully, restart)`. */
const dependsOn = (agent: DependencyNode) =>
  agent.edges === undefined
    ? list(agent.dependencies)
    : list(agent.edges.map((edge) => `${edge.agent} (${edge.condition}${edge.restart ? ", restart" : ""})`))

export const renderDependencies = ({ agents, startOrder }: DependencyGraph, style: Style): string =>
  [
    `${style.dim("start order")}  ${startOrder.length === 0 ? "-" : startOrder.join(" -> ")}`,
    "",
    table(
      ["NAME", "STATE", "DEPENDS ON", "NEEDED BY"],
      agents.map((agent) => [agent.name, style.state(agent.state), dependsOn(agent), list(agent.dependents)]),
      style
    )
  ].join("\n")

export const renderCommands = ({ known }: CommandList, style: Style): string =>
  table(
    ["COMMAND", "ALLOWED", "DESCRIPTION"],
    known.map((command) => [command.usage, command.allowed ? style.green("yes") : style.dim("no"), command.summary]),
    style
  )

export const renderWhoami = ({ principal, keyFingerprint, allowed, agents }: Identity, style: Style): string =>
  details([
    [
      "principal",
      principal === null
        ? `${style.dim("anonymous")} (the orchestrator does not authenticate callers: CURVE is off)`
        : `${principal}${keyFingerprint === null ? "" : style.dim(` (key ${keyFingerprint})`)}`
    ],
    ["allowed", list(allowed)],
    ["agents", agents === null ? "any" : list(agents)]
  ], style)
