/**
 * 13. Scaling: the server-side time of `ps` and `status` (as the audit trail records it: reading the request to
 * the reply's record) from 10 to 10,000 agents, and of `history` from 1k to 100k events held, with the growth
 * factor: the largest size's median over the smallest's, in the same round. Rounds alternate ascending and
 * descending order; figures are medians over rounds. Target (issue 14): `ps` at 10,000 agents < 5 ms.
 *
 * `history` is asked as the CLI asks it by default (agents' and the orchestrator's events, newest 50) and for one
 * agent's events (`--agent agent-7 --category agent`); the events are lifecycle events of 10 agents, recorded
 * into the store before the server answers (bench/lib/events.ts).
 */
import { connect, sequential } from "./lib/clients.ts"
import { ask, dataOf, serverTimes, waitForRunning } from "./lib/commands.ts"
import { startServer } from "./lib/processes.ts"
import { loadAverage, median, micros, printTable, ratio, verdict } from "./lib/stats.ts"

const AGENT_COUNTS = [10, 100, 1000, 10_000] as const
const EVENT_COUNTS = [1000, 10_000, 100_000] as const
const TARGET_PS_MILLIS = 5

const HISTORY_QUERIES = {
  "history (CLI default)": { categories: ["agent", "orchestrator"] },
  "history --agent --category": { agent: "agent-7", category: "agent", limit: 50 }
} as const
type HistoryQuery = keyof typeof HISTORY_QUERIES
const historyQueries = Object.keys(HISTORY_QUERIES) as ReadonlyArray<HistoryQuery>

/** The server-side median of `requests` requests of one kind, after a warm-up; with the reply's size. */
const timed = async (endpoint: string, request: { readonly command: string; readonly args?: ReadonlyArray<unknown> }, requests: number) => {
  const body = JSON.stringify(request)
  const socket = connect(endpoint)
  await sequential(socket, body, 20)
  const { last } = await sequential(socket, body, requests)
  socket.close()
  return { millis: median(await serverTimes(endpoint, request.command, requests)), bytes: last?.length ?? 0 }
}

interface AgentsPoint {
  readonly agents: number
  readonly psMillis: number
  readonly psBytes: number
  readonly statusMillis: number
}

const atAgents = async (agents: number, requests: number): Promise<AgentsPoint> => {
  const server = await startServer("command-interface.ts", ["--agents", String(agents), "--capacity", String(Math.max(5000, agents * 6))])
  await waitForRunning(server.endpoint, agents)
  const ps = await timed(server.endpoint, { command: "ps" }, requests)
  const status = await timed(server.endpoint, { command: "status" }, requests)
  await server.stop()
  return { agents, psMillis: ps.millis, psBytes: ps.bytes, statusMillis: status.millis }
}

interface EventsPoint {
  readonly events: number
  /** What the store held when measured. */
  readonly held: number
  readonly millis: Readonly<Record<HistoryQuery, number>>
}

const atEvents = async (events: number, requests: number): Promise<EventsPoint> => {
  const server = await startServer("command-interface.ts", ["--agents", "10", "--capacity", String(events + 1000), "--events", String(events)])
  await waitForRunning(server.endpoint, 10)
  const held = Number(dataOf((await ask(server.endpoint, { command: "stats" })).json)["events_retained"])
  const millis: Record<HistoryQuery, number> = { "history (CLI default)": Number.NaN, "history --agent --category": Number.NaN }
  for (const query of historyQueries) {
    millis[query] = (await timed(server.endpoint, { command: "history", args: [HISTORY_QUERIES[query]] }, requests)).millis
  }
  await server.stop()
  return { events, held, millis }
}

/** Figures of the points measured at each size in every round: the median over rounds `at` a size, and of the growth. */
const overRounds = <P>(rounds: ReadonlyArray<ReadonlyArray<P>>, sizeOf: (point: P) => number) => {
  const find = (round: ReadonlyArray<P>, size: number): P => {
    const point = round.find((p) => sizeOf(p) === size)
    if (point === undefined) throw new Error(`size ${size} was not measured in every round`)
    return point
  }
  return {
    at: (size: number, pick: (point: P) => number) => median(rounds.map((round) => pick(find(round, size)))),
    /** The figure at size `to` over the one at `from` within each round, then the median of that. */
    growth: (from: number, to: number, pick: (point: P) => number) =>
      median(rounds.map((round) => pick(find(round, to)) / pick(find(round, from))))
  }
}

export const scaling = async (options: { readonly rounds: number; readonly requests: number }) => {
  const agentRounds: Array<Array<AgentsPoint>> = []
  const eventRounds: Array<Array<EventsPoint>> = []
  for (let round = 0; round < options.rounds; round++) {
    const ascending = round % 2 === 0
    const agents: Array<AgentsPoint> = []
    for (const count of ascending ? AGENT_COUNTS : [...AGENT_COUNTS].reverse()) agents.push(await atAgents(count, options.requests))
    agentRounds.push(agents)
    const events: Array<EventsPoint> = []
    for (const count of ascending ? EVENT_COUNTS : [...EVENT_COUNTS].reverse()) events.push(await atEvents(count, options.requests))
    eventRounds.push(events)
  }
  const byAgents = overRounds(agentRounds, (point) => point.agents)
  const byEvents = overRounds(eventRounds, (point) => point.events)
  const serverSide = (millis: number) => micros(millis * 1000)
  const load = loadAverage()
  const psGrowth = byAgents.growth(10, 10_000, (p) => p.psMillis)
  const statusGrowth = byAgents.growth(10, 10_000, (p) => p.statusMillis)
  printTable(
    `Scaling with agents: server-side median of ${options.requests} requests, median of ${options.rounds} rounds (load ${load})`,
    ["agents", "ps", "ps reply", "status"],
    [
      ...AGENT_COUNTS.map((count) => [
        count.toLocaleString("en"),
        serverSide(byAgents.at(count, (p) => p.psMillis)),
        `${(byAgents.at(count, (p) => p.psBytes) / 1024).toFixed(1)} KiB`,
        serverSide(byAgents.at(count, (p) => p.statusMillis))
      ]),
      ["growth 10 -> 10,000", ratio(psGrowth), "", ratio(statusGrowth)]
    ]
  )
  const historyGrowth = Object.fromEntries(historyQueries.map((query) => [query, byEvents.growth(1000, 100_000, (p) => p.millis[query])]))
  printTable(
    `Scaling with events held: history server-side median of ${options.requests} requests, median of ${options.rounds} rounds`,
    ["events", "held", ...historyQueries],
    [
      ...EVENT_COUNTS.map((count) => [
        count.toLocaleString("en"),
        byEvents.at(count, (p) => p.held).toLocaleString("en"),
        ...historyQueries.map((query) => serverSide(byEvents.at(count, (p) => p.millis[query])))
      ]),
      ["growth 1k -> 100k", "", ...historyQueries.map((query) => ratio(historyGrowth[query] ?? Number.NaN))]
    ]
  )
  const psAtMost = byAgents.at(10_000, (p) => p.psMillis)
  console.log(`target ps at 10,000 agents < ${TARGET_PS_MILLIS} ms server-side: ${verdict(psAtMost < TARGET_PS_MILLIS)} (${psAtMost.toFixed(2)} ms)`)
  return {
    agents: AGENT_COUNTS.map((count) => ({
      agents: count,
      psMillis: byAgents.at(count, (p) => p.psMillis),
      psBytes: byAgents.at(count, (p) => p.psBytes),
      statusMillis: byAgents.at(count, (p) => p.statusMillis)
    })),
    events: EVENT_COUNTS.map((count) => ({
      events: count,
      held: byEvents.at(count, (p) => p.held),
      millis: Object.fromEntries(historyQueries.map((query) => [query, byEvents.at(count, (p) => p.millis[query])]))
    })),
    psGrowth,
    statusGrowth,
    historyGrowth,
    target: TARGET_PS_MILLIS,
    met: psAtMost < TARGET_PS_MILLIS,
    rounds: { agents: agentRounds, events: eventRounds },
    loadavg: load
  }
}
