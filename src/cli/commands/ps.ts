/**
 * `orchestrate ps [--watch]`: one line per agent with its state, health, pid, what its processes use, uptime and
 * restarts; with `--watch`, refreshed until interrupted (as `stats --watch`).
 */
import { Command } from "effect/cli"
import { watchable, watchableFlags } from "../watch.ts"
import { HEADERS, logged, render, rows } from "./psRender.ts"

export const ps = Command.make("ps", watchableFlags, watchable("ps", [], { render, logged, headers: HEADERS, rows })).pipe(
  Command.withDescription(
    "List the agents with their state, health, pid, CPU and memory, uptime and restarts. CPU% is the CPU time of " +
      "a process agent's processes (its group and descendants) over the last second or more, in percent of one core " +
      "(above 100 on several cores); MEM is their resident memory, summed. Both are '-' for Effect agents and for " +
      "agents with no process running, and are sampled at most once a second"
  ),
  Command.withExamples([
    { command: "orchestrate ps", description: "A table of every agent" },
    { command: "orchestrate ps --watch --interval 1", description: "A live view, refreshed every second" },
    { command: "orchestrate ps --all-contexts", description: "Every context's agents in one table" },
    { command: "orchestrate ps --json | jq '.data.agents | length'", description: "Count the agents" },
    { command: "orchestrate ps --json | jq '.data.agents[] | {name, cpu_percent, memory_bytes}'", description: "What each agent uses" }
  ])
)
