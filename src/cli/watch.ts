/**
 * `--watch` for a read command (`stats`, `ps`): its answer again every `--interval` seconds until Ctrl-C. On a
 * terminal each drawing goes back over the one before (as many lines up as it had) and clears to the end of the
 * screen, so the view stays in place; anywhere else (piped, `TERM=dumb`) each refresh is printed after the last,
 * behind its time, so that a log of it reads in order; with `--json`, one response envelope per line.
 */
import { Console, DateTime, Duration, Effect, Schedule, Stream } from "effect"
import { Flag, TerminalCapabilities } from "effect/cli"
import type { ArgsOf, CommandName, ResultOf } from "../protocol/Commands.ts"
import { allContextsFlag, askAllContexts, cannotCombine, type ContextsView } from "./contexts/allContexts.ts"
import { currentStyle, type Style } from "./output.ts"
import { noteOnStderr, outlastingOutages } from "./outages.ts"
import { clientFor, intervalFlag, respond, root } from "./root.ts"

export interface WatchOptions<K extends CommandName> {
  readonly intervalSeconds: number
  /** The view, as it is redrawn on a terminal. */
  readonly render: (data: ResultOf<K>, style: Style) => string
  /** What one refresh prints when it cannot redraw, after its ISO time and a space. */
  readonly logged: (data: ResultOf<K>, style: Style) => string
}

export const watch = <K extends CommandName>(command: K, args: ArgsOf<K>, options: WatchOptions<K>) =>
  Effect.gen(function*() {
    const flags = yield* root
    const client = yield* clientFor(flags)
    const { canAnimate } = yield* Effect.service(TerminalCapabilities.TerminalCapabilities)
    const style = yield* currentStyle
    const interval = Duration.seconds(options.intervalSeconds)
    // A refresh waits through an orchestrator restart as the followers do (outages.ts). Its notes go below the view
    // on a terminal, so the next drawing starts below them rather than over the view.
    let noteSinceDraw = false
    const say = noteOnStderr(style)
    const outlasting = outlastingOutages(client.address, interval, (text) =>
      Effect.suspend(() => {
        noteSinceDraw = true
        return say(text)
      }))
    const refresh = Effect.map(outlasting(client.call(command, args)), ({ answer }) => answer)
    const refreshes = Stream.fromEffectSchedule(refresh, Schedule.spaced(interval))
    const output = flags.json
      ? Stream.map(refreshes, (reply) => reply.raw)
      : canAnimate
      ? refreshes.pipe(Stream.mapAccum(() => 0, (height, reply) => {
        const text = options.render(reply.data, style)
        const up = noteSinceDraw ? 0 : height
        noteSinceDraw = false
        return [text.split("\n").length, [`${up > 0 ? `\u001b[${up}A` : ""}\u001b[J${text}`]]
      }))
      : Stream.mapEffect(refreshes, (reply) =>
        Effect.map(DateTime.now, (now) => `${DateTime.formatIso(now)} ${options.logged(reply.data, style)}`))
    yield* Stream.runForEach(output, (text) => Console.log(text))
  }).pipe(Effect.withSpan(`cli.${command}.watch`))

/** The flags of a command that `--watch` refreshes and `--all-contexts` asks everywhere (`ps`, `stats`). */
export const watchableFlags = {
  watch: Flag.Boolean("watch").pipe(Flag.withDefault(false), Flag.withDescription("Keep refreshing until Ctrl-C")),
  interval: intervalFlag(2, "Seconds between refreshes with --watch"),
  allContexts: allContextsFlag
}

/**
 * The handler of such a command: its answer once, refreshed with `--watch`, or every context's with
 * `--all-contexts` (which `--watch` cannot join).
 */
export const watchable = <K extends CommandName>(
  command: K,
  args: ArgsOf<K>,
  views: Omit<WatchOptions<K>, "intervalSeconds"> & ContextsView<K>
) =>
({ watch: watching, interval, allContexts }: { readonly watch: boolean; readonly interval: number; readonly allContexts: boolean }) =>
  Effect.gen(function*() {
    if (allContexts) {
      return yield* watching ? cannotCombine("--watch", "it asks every context once") : askAllContexts(command, args, views)
    }
    return yield* watching
      ? watch(command, args, { intervalSeconds: interval, render: views.render, logged: views.logged })
      : respond(command, args, views.render)
  })
