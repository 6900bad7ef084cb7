import { Clock, Console, DateTime, Effect, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { Stats } from "../../protocol/Commands.ts"
import { details, formatData, formatDuration } from "../output.ts"
import { clientFor, intervalFlag, respond, root } from "../root.ts"

const render = (stats: Stats): string =>
  details([
    ["agents", `${stats.totalAgents} total`],
    ["running", String(stats.running)],
    ["paused", String(stats.paused)],
    ["starting", String(stats.starting)],
    ["queued", String(stats.queued)],
    ["completed", String(stats.completed)],
    ["failed", String(stats.failed)],
    ["stopped", String(stats.stopped)],
    ["restarts", String(stats.restarts)],
    ["workers", String(stats.maxWorkers)],
    ["uptime", formatDuration(stats.uptimeSeconds)],
    ["events", `${stats.eventsRecorded} recorded, ${stats.eventsRetained} retained of ${stats.eventsCapacity}`]
  ])

const encode = Schema.encodeSync(Stats)

/** Refreshes until interrupted: redrawn in place on a terminal, one line per refresh otherwise. */
const watch = (intervalSeconds: number) =>
  Effect.gen(function*() {
    const flags = yield* root
    const client = yield* clientFor(flags)
    const inPlace = !flags.json && process.stdout.isTTY === true
    let drawn = 0
    for (;;) {
      const reply = yield* client.call("stats", [])
      if (flags.json) {
        yield* Console.log(reply.raw)
      } else if (inPlace) {
        const text = render(reply.data)
        // Back over the previous drawing, then clear to the end of the screen.
        process.stdout.write(`${drawn > 0 ? `\u001b[${drawn}A` : ""}\u001b[J${text}\n`)
        drawn = text.split("\n").length
      } else {
        const at = DateTime.formatIso(DateTime.makeUnsafe(yield* Clock.currentTimeMillis))
        yield* Console.log(`${at} ${formatData(encode(reply.data))}`)
      }
      yield* Effect.sleep(intervalSeconds * 1000)
    }
  })

export const stats = Command.make("stats", {
  watch: Flag.Boolean("watch").pipe(Flag.withDefault(false), Flag.withDescription("Keep refreshing until Ctrl-C")),
  interval: intervalFlag(2, "Seconds between refreshes with --watch")
}, ({ watch: watching, interval }) => watching ? watch(interval) : respond("stats", [], render)).pipe(
  Command.withDescription("Show counts of agents by state, workers, uptime, restarts and events"),
  Command.withExamples([
    { command: "orchestrate stats", description: "One snapshot" },
    { command: "orchestrate stats --watch --interval 1", description: "A live view, refreshed every second" },
    { command: "orchestrate stats --watch | tee stats.log", description: "One line per refresh when piped" }
  ])
)
