/**
 * Human output for the full CLI: the style for standard output, decided by effect/cli's `TerminalCapabilities`,
 * the answer its own help and error output follow (colour on a terminal, never with NO_COLOR set, FORCE_COLOR
 * forces it, TERM=dumb turns it off). The renderers themselves (style.ts, format.ts) import no effect/cli, so that
 * the fast path (fast/main.ts) shares them; they are re-exported here for the commands.
 */
import { Effect } from "effect"
import { TerminalCapabilities } from "effect/cli"
import { colored, plain, type Style } from "./style.ts"

export { colored, plain, type Style } from "./style.ts"
export { details, formatBytes, formatCpu, formatData, formatDuration, formatPercent, table } from "./format.ts"

/** The style for standard output: colored where effect/cli would color its own output. */
export const currentStyle: Effect.Effect<Style> = Effect.map(
  Effect.service(TerminalCapabilities.TerminalCapabilities),
  ({ canColor }) => canColor ? colored : plain
)
