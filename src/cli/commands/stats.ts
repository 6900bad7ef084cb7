/**
 * `orchestrate stats [--watch]`: counts of agents by state, workers, uptime, restarts, events and what the
 * process agents use, once or refreshed until interrupted.
 */
import { Schema } from "effect"
import { Command } from "effect/cli"
import { Stats } from "../../protocol/Commands.ts"
import { formatData } from "../format.ts"
import { watchable, watchableFlags } from "../watch.ts"
import { fields, render } from "./statsRender.ts"

const encode = Schema.encodeSync(Stats)

/** Piped, a refresh is one line: the wire's fields as `key=value`. */
const logged = (stats: Stats): string => formatData(encode(stats))

export const stats = Command.make("stats", watchableFlags, watchable("stats", [], {
  render,
  logged,
  headers: (data) => fields(data).map(([label]) => label.toUpperCase()),
  rows: (data) => [fields(data).map(([, value]) => value)]
})).pipe(
  Command.withDescription(
    "Show counts of agents by state, workers, uptime, restarts and events, and the CPU (100% = one core) and " +
      "memory the process agents use, summed"
  ),
  Command.withExamples([
    { command: "orchestrate stats", description: "One snapshot" },
    { command: "orchestrate stats --watch --interval 1", description: "A live view, refreshed every second" },
    { command: "orchestrate stats --watch | tee stats.log", description: "One line per refresh when piped" },
    { command: "orchestrate stats --all-contexts", description: "One line per context" }
  ])
)
