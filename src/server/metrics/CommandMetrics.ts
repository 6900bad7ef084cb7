/**
 * What the command interface counts of its requests: `orchestrate_commands_total{command,code,transport}` and the
 * histogram `orchestrate_command_duration_seconds{command}`, recorded by the pipeline's last stage for every
 * request, on either transport.
 *
 * This runs for every request on the ZeroMQ hot path, so it is plain synchronous code: one metric per label set,
 * made once and kept, and updated directly (`updateUnsafe`) rather than through an Effect step each. A command
 * name is a label only when it is one of the catalogue's: a client sending made-up names would otherwise make a
 * series of each, without bound.
 */
import { Context, Metric } from "effect"
import { isCommandName } from "../../protocol/Commands.ts"

/**
 * Each label set is a metric made with its attributes, not `Metric.withAttributes` of one: that wrapper merges
 * the attributes into a new context on every update, and the registry key is then rebuilt (sorted, stringified)
 * each time, about 1 µs per update against 0.1 µs this way (measured in a loop of a million).
 */
const requests = (attributes: { readonly command: string; readonly code: string; readonly transport: string }) =>
  Metric.counter("orchestrate_commands_total", {
    description: "Command requests answered, by command, response code and transport",
    incremental: true,
    attributes
  })

// 0.1 ms to about 6.5 s, doubling: a `ps` takes a fraction of a millisecond, a `stop` up to its grace period.
const BOUNDARIES = Metric.exponentialBoundaries({ start: 0.0001, factor: 2, count: 17 })
const durations = (command: string) =>
  Metric.histogram("orchestrate_command_duration_seconds", {
    description: "Time from a request's arrival to its answer, in seconds",
    boundaries: BOUNDARIES,
    attributes: { command }
  })

/** The registry is a context reference with a process-wide default; an empty context reaches that default. */
const context = Context.empty()

const counters = new Map<string, Metric.Counter<number>>()
const histograms = new Map<string, Metric.Histogram<number>>()

/** The command's label: its name when it is a known command, otherwise what kind of request it was. */
const commandLabel = (command: string | undefined): string =>
  command === undefined ? "(malformed)" : isCommandName(command) ? command : "(unknown)"

/** Counts one answered request that took `durationMs`. */
export const recordCommand = (command: string | undefined, code: number, transport: "zmq" | "http", durationMs: number): void => {
  const name = commandLabel(command)
  const key = `${name} ${code} ${transport}`
  let counter = counters.get(key)
  if (counter === undefined) {
    counter = requests({ command: name, code: `${code}`, transport })
    counters.set(key, counter)
  }
  counter.updateUnsafe(1, context)
  let histogram = histograms.get(name)
  if (histogram === undefined) {
    histogram = durations(name)
    histograms.set(name, histogram)
  }
  histogram.updateUnsafe(durationMs / 1000, context)
}
