import { Command } from "effect/cli"
import { formatHealth } from "../health.ts"
import { formatDuration, table } from "../output.ts"
import { respond } from "../root.ts"

export const ps = Command.make("ps", {}, () =>
  respond("ps", [], ({ agents }, style) =>
    agents.length === 0
      ? "no agents"
      : table(
        ["NAME", "STATE", "HEALTH", "PID", "UPTIME", "RESTARTS"],
        agents.map((agent) => [
          agent.name,
          style.state(agent.state),
          formatHealth(agent.health, style),
          agent.pid === null ? "-" : String(agent.pid),
          formatDuration(agent.uptimeSeconds),
          String(agent.restarts)
        ]),
        style
      ))).pipe(
    Command.withDescription("List the agents with their state, health, pid, uptime and restarts"),
    Command.withExamples([
      { command: "orchestrate ps", description: "A table of every agent" },
      { command: "orchestrate ps --json | jq '.data.agents | length'", description: "Count the agents" }
    ])
  )
