/**
 * `orchestrate stats [--watch]`: counts of agents by state, workers, uptime, restarts, events and what the
 * process agents use, once or refreshed until interrupted.
 */
import { Effect, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { Stats } from "../../protocol/Commands.ts"
import { formatData } from "../format.ts"
import { intervalFlag, respond } from "../root.ts"
import { watch } from "../watch.ts"
import { allContextsFlag, askAllContexts, cannotCombine } from "../contexts/allContexts.ts"
import { fields, render } from "./statsRender.ts"

const encode = Schema.encodeSync(Stats)

/** Piped, a refresh is one line: the wire's fields as `key=value`. */
const logged = (stats: Stats): string => formatData(encode(stats))

export const stats = Command.make("stats", {
  watch: Flag.Boolean("watch").pipe(Flag.withDefault(false), Flag.withDescription("Keep refreshing until Ctrl-C")),
  interval: intervalFlag(2, "Seconds between refreshes with --watch"),
  allContexts: allContextsFlag
}, ({ watch: watching, interval, allContexts }) =>
  Effect.gen(function*() {
    if (allContexts) {
      return yield* watching
        ? cannotCombine("--watch", "it asks every context once")
        : askAllContexts("stats", [], {
          headers: (data) => fields(data).map(([label]) => label.toUpperCase()),
          rows: (data) => [fields(data).map(([, value]) => value)]
        })
    }
    return yield* watching ? watch("stats", [], { intervalSeconds: interval, render, logged }) : respond("stats", [], render)
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
