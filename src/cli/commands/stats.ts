/**
 * `orchestrate stats [--watch]`: counts of agents by state, workers, uptime, restarts and events, once or
 * refreshed until interrupted.
 */
import { Console, DateTime, Duration, Effect, Schedule, Schema, Stream } from "effect"
import { Command, Flag, TerminalCapabilities } from "effect/cli"
import { Stats } from "../../protocol/Commands.ts"
import { currentStyle, details, formatData, formatDuration, type Style } from "../output.ts"
import { clientFor, intervalFlag, respond, root } from "../root.ts"

const render = (stats: Stats, style: Style): string =>
  details([
    ["agents", `${stats.totalAgents} total`],
    ["running", String(stats.running)],
    ["paused", String(stats.paused)],
    ["starting", String(stats.starting)],
    ["queued", String(stats.queued)],
    ["completed", String(stats.completed)],
    ["failed", String(stats.failed)],
    ["stopped", String(stats.stopped)],
    ["unhealthy", String(stats.unhealthy)],
    ["restarts", String(stats.restarts)],
    ["workers", String(stats.maxWorkers)],
    ["uptime", formatDuration(stats.uptimeSeconds)],
    ["events", `${stats.eventsRecorded} recorded, ${stats.eventsRetained} retained of ${stats.eventsCapacity}`]
  ], style)

const encode = Schema.encodeSync(Stats)

/**
 * Refreshes every `intervalSeconds` until interrupted: on a terminal, each drawing goes back over the one before
 * (as many lines up as it had) and clears to the end of the screen; anywhere else, one timestamped line per refresh.
 */
const watch = Effect.fn("cli.stats.watch")(function*(intervalSeconds: number) {
  const flags = yield* root
  const client = yield* clientFor(flags)
  const { canAnimate } = yield* Effect.service(TerminalCapabilities.TerminalCapabilities)
  const style = yield* currentStyle
  const refreshes = Stream.fromEffectSchedule(client.call("stats", []), Schedule.spaced(Duration.seconds(intervalSeconds)))
  const output = flags.json
    ? Stream.map(refreshes, (reply) => reply.raw)
    : canAnimate
    ? refreshes.pipe(Stream.mapAccum(() => 0, (height, reply) => {
      const text = render(reply.data, style)
      return [text.split("\n").length, [`${height > 0 ? `\u001b[${height}A` : ""}\u001b[J${text}`]]
    }))
    : Stream.mapEffect(refreshes, (reply) =>
      Effect.map(DateTime.now, (now) => `${DateTime.formatIso(now)} ${formatData(encode(reply.data))}`))
  yield* Stream.runForEach(output, (text) => Console.log(text))
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
