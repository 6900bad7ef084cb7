/**
 * `orchestrate logs [agent...]`: agents' output, like `docker compose logs`: every agent's lines interleaved in the
 * order they were written, each prefixed `name | ` with the names padded to one width (and coloured per agent on a
 * terminal); with `--follow`, every new line as it comes, and a restart as one marked line. What a follower cannot
 * show, it says on stderr: lines an agent wrote faster than it kept them, an orchestrator that started again.
 */
import { Clock, Console, DateTime, Duration, Effect, Option, Schema, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { LOGS_LIMIT_MAX, type LogsPage, type LogsQuery } from "../../protocol/Commands.ts"
import { InvalidSince, NoLinesWithoutFollow, UsageError } from "../errors.ts"
import type { LogLayout } from "../logLines.ts"
import { currentStyle, type Style } from "../output.ts"
import { noteOnStderr, outlastingOutages, RESTARTED } from "../outages.ts"
import { clientFor, intervalFlag, respond, root } from "../root.ts"
import { logsLimit, pageText, sinceMillis } from "./logsRender.ts"

const printPage = (page: LogsPage, width: { value: number }, layout: LogLayout) =>
  Effect.gen(function*() {
    const { text, width: widest } = pageText(page, width.value, layout)
    width.value = widest
    if (text !== undefined) yield* Console.log(text)
  })

/** What `--since` names (logsRender.ts), or a usage error saying what it takes. */
export const parseSince = (text: string) =>
  Effect.gen(function*() {
    const millis = sinceMillis(text, yield* Clock.currentTimeMillis)
    if (millis === undefined) return yield* new UsageError({ reason: new InvalidSince({ text }) })
    return DateTime.makeUnsafe(millis)
  })

/** Where a follower reads next: after this seq, at once (`caughtUp` false) or after the interval. */
export interface FollowCursor {
  readonly after: number
  readonly caughtUp: boolean
}

/**
 * The cursor after a page read at `cursor`. A page whose `last_seq` is below the cursor comes from another
 * orchestrator than the one the cursor was in (seqs start again at 1 when one starts): the follower starts again from
 * its first line, and says so. An orchestrator restarted and already past the cursor cannot be told apart this way.
 */
export const nextCursor = (
  cursor: FollowCursor,
  page: Pick<LogsPage, "lines" | "hasMore" | "lastSeq">
): { readonly cursor: FollowCursor; readonly restarted: boolean } => {
  if (page.lastSeq < cursor.after) return { cursor: { after: 0, caughtUp: false }, restarted: true }
  const last = page.lines[page.lines.length - 1]?.seq
  return { cursor: { after: page.hasMore && last !== undefined ? last : page.lastSeq, caughtUp: !page.hasMore }, restarted: false }
}

/** What a follower says on stderr besides agents' lines, dim where stderr is a terminal that shows colour. */
const followNotes = (style: Style) => {
  const say = noteOnStderr(style)
  return {
    dropped: (agent: string) => say(`--- ${agent}: lines were dropped before they could be shown (raise logs.keepLines) ---`),
    restarted: say(RESTARTED),
    say
  }
}

/** Follows from the latest `lines` lines (none: only what is written from now on). */
const follow = Effect.fn("cli.logs.follow")(function*(query: LogsQuery, lines: number, layout: LogLayout, intervalSeconds: number) {
  const flags = yield* root
  const client = yield* clientFor(flags)
  // Names given up front set the width at once: padded only to those seen so far, the columns would shift as
  // each agent first writes.
  const width = { value: Math.max(0, ...(query.agents ?? []).filter((name) => !/[*?[]/.test(name)).map((name) => name.length)) }
  const notes = followNotes(layout.style)
  const interval = Duration.seconds(intervalSeconds)
  const outlasting = outlastingOutages(client.address, interval, notes.say)
  const { answer: first } = yield* outlasting(client.call("logs", [query]))
  const print = (page: LogsPage) =>
    Effect.andThen(
      // Before the page's lines: what was lost came before them.
      Effect.forEach(page.dropped, notes.dropped, { discard: true }),
      flags.json
        ? Effect.forEach(page.lines, (line) => Console.log(JSON.stringify(Schema.encodeSync(LogLineJson)(line))), { discard: true })
        : printPage(page, width, layout)
    )
  if (lines > 0) yield* print(first.data)
  // The query without `limit` and `since`: each poll asks for everything after the last seq seen, so nothing is
  // shown twice and nothing is skipped unsaid, across restarts too.
  const { limit: _limit, since: _since, ...filter } = query
  const pageAfter = (after: number) => outlasting(client.call("logs", [{ ...filter, afterSeq: after, limit: LOGS_LIMIT_MAX }]))
  const start: FollowCursor = { after: first.data.lastSeq, caughtUp: false }
  const pages = Stream.paginate(start, (cursor) =>
    (cursor.caughtUp ? Effect.delay(pageAfter(cursor.after), interval) : pageAfter(cursor.after)).pipe(
      Effect.map(({ answer: reply, replaced }) => {
        // A replaced orchestrator's page after the old cursor is not where its lines start: read them from its first.
        const next = replaced ? { cursor: { after: 0, caughtUp: false }, restarted: true } : nextCursor(cursor, reply.data)
        return [[{ page: reply.data, restarted: next.restarted }], Option.some(next.cursor)] as const
      })
    ))
  yield* Stream.runForEach(pages, ({ page, restarted }) => restarted ? notes.restarted : print(page))
})

/** A line as `--json --follow` prints it, one object per line: the wire's own shape. */
const LogLineJson = Schema.Struct({
  seq: Schema.Int,
  agent: Schema.String,
  stream: Schema.String,
  timestamp: Schema.DateTimeUtcFromString,
  line: Schema.String
})

export const logs = Command.make("logs", {
  agents: Argument.String("agent").pipe(Argument.withDescription("Agents to show (default: every agent)"), Argument.variadic()),
  lines: Flag.Int("lines").pipe(
    Flag.withAlias("n"),
    Flag.withSchema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
    Flag.withDefault(100),
    Flag.withDescription(`How many of the latest lines to show first (default 100, at most ${LOGS_LIMIT_MAX}; -f -n 0: only new ones)`)
  ),
  follow: Flag.Boolean("follow").pipe(Flag.withAlias("f"), Flag.withDefault(false), Flag.withDescription("Keep printing new lines until Ctrl-C")),
  since: Flag.String("since").pipe(
    Flag.optional,
    Flag.withDescription("Only lines since then: 500ms, 30s, 10m, 2h, 1d ago, or an ISO-8601 instant with its zone (2026-12-01T10:00:00Z)")
  ),
  stream: Flag.Literals("stream", ["stdout", "stderr"]).pipe(Flag.optional, Flag.withDescription("Only this stream's lines")),
  timestamps: Flag.Boolean("timestamps").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Show each line's time before it (with --no-prefix too: `<ISO time> <line>`)")
  ),
  prefix: Flag.Boolean("prefix").pipe(
    Flag.withDefault(true),
    Flag.withDescription("Prefix each line with its agent (--no-prefix: exactly what the agents wrote, for grep or jq)")
  ),
  interval: intervalFlag(0.5, "Seconds between polls with --follow")
}, (options) =>
  Effect.gen(function*() {
    if (options.lines === 0 && !options.follow) return yield* new UsageError({ reason: new NoLinesWithoutFollow({}) })
    const query: LogsQuery = {
      // With none to show, one all the same: the page says where following starts.
      limit: logsLimit(Math.max(options.lines, 1)),
      ...(options.agents.length > 0 ? { agents: options.agents } : {}),
      ...(Option.isSome(options.since) ? { since: yield* parseSince(options.since.value) } : {}),
      ...(Option.isSome(options.stream) ? { stream: options.stream.value } : {})
    }
    const layout: LogLayout = { prefix: options.prefix, timestamps: options.timestamps, style: yield* currentStyle }
    if (options.follow) return yield* follow(query, options.lines, layout, options.interval)
    return yield* respond("logs", [query], (page) => pageText(page, 0, layout).text)
  })).pipe(
  Command.withDescription("Show agents' output: the latest lines of every agent (or those named), interleaved in order"),
  Command.withExamples([
    { command: "orchestrate logs", description: "The last 100 lines of every agent, each prefixed with its name" },
    { command: "orchestrate logs api worker -f", description: "Follow two agents, restarts included" },
    { command: "orchestrate logs api --since 10m --stream stderr", description: "What api wrote on stderr in the last 10 minutes" },
    { command: "orchestrate logs api -n 1000 --no-prefix | grep ERROR", description: "Exactly what api wrote, for a pipe" }
  ])
)
