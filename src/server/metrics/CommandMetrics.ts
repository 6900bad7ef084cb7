/**
 * What the command interface counts of its requests: `orchestrate_commands_total{command,code,transport}` and the
 * histogram `orchestrate_command_duration_seconds{command}`, recorded by the pipeline's last stage for every
 * request, on either transport.
 *
 * This runs for every request on the ZeroMQ hot path, so it is plain synchronous code: one metric per label set,
 * made once and kept (`LabelSets.ts`), and updated directly (`updateUnsafe`) rather than through an Effect step
 * each. A command name is a label only when it is one of the catalogue's: a client sending made-up names would
 * otherwise make a series of each, without bound.
 */
import { Metric } from "effect"
import { isCommandName } from "../../protocol/Commands.ts"
import { NO_CONTEXT, perLabel } from "./LabelSets.ts"

type Transport = "zmq" | "http"

const requests = perLabel((command: string) =>
  perLabel((code: number) =>
    perLabel((transport: Transport) =>
      Metric.counter("orchestrate_commands_total", {
        description: "Command requests answered, by command, response code and transport",
        incremental: true,
        attributes: { command, code: `${code}`, transport }
      })
    )
  )
)

// 0.1 ms to about 6.5 s, doubling: a `ps` takes a fraction of a millisecond, a `stop` up to its grace period.
const BOUNDARIES = Metric.exponentialBoundaries({ start: 0.0001, factor: 2, count: 17 })
const durations = perLabel((command: string) =>
  Metric.histogram("orchestrate_command_duration_seconds", {
    description: "Time from a request's arrival to its answer, in seconds",
    boundaries: BOUNDARIES,
    attributes: { command }
  })
)

/** The command's label, here and on its span: its name when it is a known command, otherwise what kind of request it was. */
export const commandLabel = (command: string | undefined): string =>
  command === undefined ? "(malformed)" : isCommandName(command) ? command : "(unknown)"

/** Counts one answered request that took `durationMs`. */
export const recordCommand = (command: string | undefined, code: number, transport: Transport, durationMs: number): void => {
  const name = commandLabel(command)
  requests(name)(code)(transport).updateUnsafe(1, NO_CONTEXT)
  durations(name).updateUnsafe(durationMs / 1000, NO_CONTEXT)
}
