import { Console, DateTime, Effect, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { HISTORY_LIMIT_MAX, type HistoryPage, type HistoryQuery } from "../../protocol/Commands.ts"
import { formatData, style, table } from "../output.ts"
import { clientFor, intervalFlag, respond, root } from "../root.ts"

const rows = (page: HistoryPage) =>
  page.events.map((event) => [
    String(event.seq),
    DateTime.formatIso(event.timestamp),
    event.category,
    event.severity === "error" ? style.red(event.eventName) : event.severity === "warning" ? style.yellow(event.eventName) : event.eventName,
    event.agentName ?? "-",
    formatData(event.data)
  ])

const HEADERS = ["SEQ", "TIME", "CATEGORY", "EVENT", "AGENT", "DATA"]

const render = (page: HistoryPage): string =>
  page.events.length === 0
    ? "no events"
    : table(HEADERS, rows(page)) + (page.hasMore ? `\n${style.dim(`(more events match; raise --limit, at most ${HISTORY_LIMIT_MAX})`)}` : "")

/**
 * Prints the latest matching events, then every new one as it is recorded, until interrupted. Each poll asks
 * for what came after the last seq seen, so nothing is shown twice and nothing is skipped; events evicted from
 * the history before they could be shown are reported.
 */
const follow = (filter: HistoryQuery, intervalSeconds: number) =>
  Effect.gen(function*() {
    const flags = yield* root
    const client = yield* clientFor(flags)
    const print = (page: HistoryPage, raw: string) =>
      flags.json ? Console.log(raw) : Console.log(page.events.length === 0 ? "" : table(HEADERS, rows(page)).split("\n").slice(1).join("\n"))
    const first = yield* client.call("history", [filter])
    if (flags.json) yield* Console.log(first.raw)
    else yield* Console.log(table(HEADERS, rows(first.data)))
    let cursor = first.data.lastSeq ?? 0
    for (;;) {
      const { data: page, raw } = yield* client.call("history", [{ ...filter, afterSeq: cursor, limit: HISTORY_LIMIT_MAX }])
      if (page.firstSeq !== null && page.firstSeq > cursor + 1) {
        yield* Console.error(style.yellow(`warning: events ${cursor + 1} to ${page.firstSeq - 1} were dropped from the history before they could be shown`))
      }
      if (page.events.length > 0) yield* print(page, raw)
      const last = page.events[page.events.length - 1]?.seq
      // With nothing more to fetch, everything up to the store's newest seq has been seen, matching or not.
      cursor = page.hasMore && last !== undefined ? last : Math.max(cursor, page.lastSeq ?? cursor, last ?? cursor)
      if (!page.hasMore) yield* Effect.sleep(intervalSeconds * 1000)
    }
  })

const text = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.optional, Flag.withDescription(description))

const whole = (name: string, minimum: number, description: string) =>
  Flag.Int(name).pipe(Flag.withSchema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(minimum))), Flag.optional, Flag.withDescription(description))

export const history = Command.make("history", {
  limit: whole("limit", 1, `How many events (default 50, at most ${HISTORY_LIMIT_MAX})`),
  category: text("category", "Only events of this category: agent, orchestrator or command"),
  agent: text("agent", "Only events of this agent"),
  event: text("event", "Only events of this name, e.g. AGENT_FAILED"),
  afterSeq: whole("after-seq", 0, "Only events after this seq (then the oldest come first)"),
  follow: Flag.Boolean("follow").pipe(Flag.withDefault(false), Flag.withDescription("Keep printing new events until Ctrl-C")),
  interval: intervalFlag(1, "Seconds between polls with --follow")
}, (options) => {
  const filter: HistoryQuery = {
    ...(Option.isSome(options.limit) ? { limit: options.limit.value } : {}),
    ...(Option.isSome(options.category) ? { category: options.category.value } : {}),
    ...(Option.isSome(options.agent) ? { agent: options.agent.value } : {}),
    ...(Option.isSome(options.event) ? { event: options.event.value } : {}),
    ...(Option.isSome(options.afterSeq) ? { afterSeq: options.afterSeq.value } : {})
  }
  return options.follow ? follow(filter, options.interval) : respond("history", [filter], render)
}).pipe(
  Command.withDescription("Show recorded events, oldest first: agent lifecycle, orchestrator events and the command audit trail"),
  Command.withExamples([
    { command: "orchestrate history --agent web --limit 20", description: "The last 20 events of 'web'" },
    { command: "orchestrate history --category command", description: "The audit trail of commands" },
    { command: "orchestrate history --event AGENT_FAILED --follow", description: "Print failures as they happen" }
  ])
)
