/**
 * Asking a server under test what a benchmark needs to know, with the clients of ./clients.ts: one request on a
 * socket of its own, a reply's data, waiting until its agents run, and reading its `history`: the audit trail's
 * server-side times and the events (decoded with the protocol's own `HistoryPage`).
 */
import { Schema } from "effect"
import { setTimeout as sleep } from "node:timers/promises"
import { HistoryPage } from "../../src/protocol/Commands.ts"
import type { HistoryEvent } from "../../src/protocol/Model.ts"
import { connect, sequential } from "./clients.ts"

/** One request on a socket of its own: the reply's text and its JSON. */
export const ask = async (endpoint: string, request: unknown): Promise<{ text: string; json: unknown }> => {
  const socket = connect(endpoint)
  const { last } = await sequential(socket, JSON.stringify(request), 1)
  socket.close()
  const text = last?.toString() ?? ""
  return { text, json: JSON.parse(text) }
}

export const dataOf = (reply: unknown): Record<string, unknown> =>
  typeof reply === "object" && reply !== null && "data" in reply && typeof reply.data === "object" && reply.data !== null
    ? { ...reply.data }
    : {}

/** Asks `stats` every `everyMillis` until `count` agents are running. */
export const waitForRunning = async (endpoint: string, count: number, everyMillis = 200): Promise<void> => {
  while (dataOf((await ask(endpoint, { command: "stats" })).json)["running"] !== count) await sleep(everyMillis)
}

const decodeHistory = Schema.decodeUnknownSync(HistoryPage)

/** The events of a `history` reply, oldest first. */
export const historyEvents = (reply: unknown): ReadonlyArray<HistoryEvent> => decodeHistory(dataOf(reply)).events

/** Server-side durations of the last `count` requests for `command`, from the audit trail. */
export const serverTimes = async (endpoint: string, command: string, count: number): Promise<Array<number>> => {
  const events = historyEvents((await ask(endpoint, { command: "history", args: [{ category: "command", limit: 1000 }] })).json)
  return events.flatMap(({ data }) =>
    data["command"] === command && typeof data["duration_ms"] === "number" ? [data["duration_ms"]] : []
  ).slice(-count)
}
