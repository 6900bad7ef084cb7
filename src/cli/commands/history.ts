/**
 * `orchestrate history [--follow]`: recorded events, oldest first, with filters; with `--follow`, every new one as
 * it is recorded.
 */
import { Console, Duration, Effect, Option, Schema, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { HISTORY_LIMIT_MAX, type HistoryPage, type HistoryQuery } from "../../protocol/Commands.ts"
import { currentStyle, table } from "../output.ts"
import { noteOnStderr, outlastingOutages, RESTARTED } from "../outages.ts"
import { clientFor, intervalFlag, respond, root } from "../root.ts"
import { HEADERS, historyQuery, render, rows } from "./historyRender.ts"

/**
 * The columns' widths while following: each page is a table of its own, so without fixed widths its rows would not
 * line up with the header printed first. Wide enough for a 7-digit seq, an ISO time, every category and event name
 * and a 16-character agent name; a longer cell still shows whole.
 */
const FOLLOW_WIDTHS = [7, 24, 12, 32, 16]

/** Where to continue after `page`, which was asked for what came after `after`. */
const cursorAfter = (after: number, page: HistoryPage): number => {
  const last = page.events[page.events.length - 1]?.seq
  // With nothing more to fetch, everything up to the store's newest seq has been seen, matching or not.
  return page.hasMore && last !== undefined ? last : Math.max(after, page.lastSeq ?? after, last ?? after)
}

/**
 * Prints the latest matching events, then every new one as it is recorded, until interrupted. Each poll asks
 * for what came after the last seq seen, so nothing is shown twice and nothing is skipped; events evicted from
 * the history before they could be shown are reported. Polls follow each other at once while the orchestrator
 * has more to give, and `intervalSeconds` apart once caught up; while nothing answers, they wait (outages.ts), and
 * another orchestrator on the address is followed from its first event.
 */
const follow = Effect.fn("cli.history.follow")(function*(filter: HistoryQuery, intervalSeconds: number) {
  const flags = yield* root
  const client = yield* clientFor(flags)
  const style = yield* currentStyle
  const interval = Duration.seconds(intervalSeconds)
  const say = noteOnStderr(style)
  const outlasting = outlastingOutages(client.address, interval, say)
  const { answer: first } = yield* outlasting(client.call("history", [filter]))
  yield* Console.log(flags.json ? first.raw : table(HEADERS, rows(first.data, style), style, FOLLOW_WIDTHS))
  const pageAfter = (after: number) => outlasting(client.call("history", [{ ...filter, afterSeq: after, limit: HISTORY_LIMIT_MAX }]))
  const pages = Stream.paginate({ after: first.data.lastSeq ?? 0, caughtUp: false }, ({ after, caughtUp }) =>
    (caughtUp ? Effect.delay(pageAfter(after), interval) : pageAfter(after)).pipe(
      Effect.map(({ answer: reply, replaced }) => {
        // Another orchestrator (replaced while it was waited for, or whose newest seq is below the cursor: seqs start
        // again at 1), to be followed from its start.
        const restarted = replaced || (reply.data.lastSeq ?? 0) < after
        return [
          [{ after, restarted, ...reply }],
          Option.some(restarted ? { after: 0, caughtUp: false } : { after: cursorAfter(after, reply.data), caughtUp: !reply.data.hasMore })
        ] as const
      })
    ))
  yield* Stream.runForEach(pages, ({ after, restarted, data: page, raw }) =>
    Effect.gen(function*() {
      if (restarted) return yield* say(RESTARTED)
      if (page.firstSeq !== null && page.firstSeq > after + 1) {
        yield* Console.error(style.yellow(`warning: events ${after + 1} to ${page.firstSeq - 1} were dropped from the history before they could be shown`))
      }
      if (page.events.length === 0) return
      // The rows only: the header was printed with the first page.
      yield* Console.log(flags.json ? raw : table(HEADERS, rows(page, style), style, FOLLOW_WIDTHS).split("\n").slice(1).join("\n"))
    }))
})

const text = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.optional, Flag.withDescription(description))

const whole = (name: string, minimum: number, description: string) =>
  Flag.Int(name).pipe(Flag.withSchema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(minimum))), Flag.optional, Flag.withDescription(description))

export const history = Command.make("history", {
  limit: whole("limit", 1, `How many events (default 50, at most ${HISTORY_LIMIT_MAX})`),
  category: Flag.Literals("category", ["agent", "orchestrator", "command"]).pipe(
    Flag.optional,
    Flag.withDescription("Only events of this category: agent, orchestrator, or command (the audit trail)")
  ),
  all: Flag.Boolean("all").pipe(Flag.withDefault(false), Flag.withDescription("Every category, the audit trail included")),
  agent: text("agent", "Only events of this agent"),
  event: text("event", "Only events of this name, e.g. AGENT_FAILED"),
  afterSeq: whole("after-seq", 0, "Only events after this seq (then the oldest come first)"),
  follow: Flag.Boolean("follow").pipe(Flag.withDefault(false), Flag.withDescription("Keep printing new events until Ctrl-C")),
  interval: intervalFlag(1, "Seconds between polls with --follow")
}, (options) => {
  const filter = historyQuery({
    limit: Option.getOrUndefined(options.limit),
    category: Option.getOrUndefined(options.category),
    all: options.all,
    agent: Option.getOrUndefined(options.agent),
    event: Option.getOrUndefined(options.event),
    afterSeq: Option.getOrUndefined(options.afterSeq)
  })
  return options.follow ? follow(filter, options.interval) : respond("history", [filter], render)
}).pipe(
  Command.withDescription(
    "Show recorded events, oldest first: agent lifecycle and orchestrator events (--category command: the audit trail; --all: everything)"
  ),
  Command.withExamples([
    { command: "orchestrate history --agent web --limit 20", description: "The last 20 events of 'web'" },
    { command: "orchestrate history --category command", description: "The audit trail of commands" },
    { command: "orchestrate history --event AGENT_FAILED --follow", description: "Print failures as they happen" }
  ])
)
