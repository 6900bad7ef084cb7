/**
 * No command logic lives in the HTTP layer: the same requests, sent to three identical stacks over ZeroMQ, over
 * `POST /api/v1/command` and over the REST routes, get the same answers and leave the same audit records (but for
 * the two fields only HTTP records have). Instants and durations are masked: the stacks start milliseconds apart.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ask, reqClient } from "../support/zmq.ts"
import { fetchText, postJson, type Stack, startStack } from "../support/http.ts"

interface Envelope {
  readonly command: string
  readonly args?: ReadonlyArray<unknown>
  readonly id?: string
  readonly reason?: string
}

/** Every command, the mutating ones with ids and reasons (a GET carries neither), and some that fail. */
const requests: ReadonlyArray<Envelope> = [
  { command: "ps" },
  { command: "status" },
  { command: "status", args: ["api"] },
  { command: "stats" },
  { command: "dependencies" },
  { command: "commands" },
  { command: "whoami" },
  { command: "pause", args: ["api"], id: "p-1", reason: "maintenance" },
  { command: "resume", args: ["api"], id: "r-1" },
  { command: "stop", args: ["worker"] },
  { command: "start", args: ["worker"], reason: "back" },
  { command: "restart", args: ["db"], id: "rs-1" },
  { command: "pause", args: ["w*"] },
  { command: "resume", args: ["migrate"] },
  { command: "stop", args: ["ghost"] },
  { command: "status", args: ["ghost"] },
  { command: "history", args: [{ agent: "ghost" }] },
  { command: "history", args: [{ category: "agent", limit: 30 }] },
  { command: "history", args: [{ category: "command", limit: 5, after_seq: 2 }] },
  { command: "logs", args: [{ limit: 10 }] },
  { command: "reload", args: [{ dry_run: true }], reason: "check" },
  { command: "shutdown", reason: "done" }
]

const query = (argument: unknown): string =>
  argument === undefined ? "" : `?${new URLSearchParams(Object.entries(argument as Record<string, unknown>).map(([key, value]): [string, string] => [key, String(value)]))}`

/** The REST route for an envelope, as the README documents them. */
const rest = (url: string, { command, args = [], id, reason }: Envelope) => {
  const body = { ...(id === undefined ? {} : { id }), ...(reason === undefined ? {} : { reason }) }
  const api = `${url}/api/v1`
  switch (command) {
    case "ps":
      return fetchText(`${api}/agents`)
    case "status":
      return fetchText(args.length === 0 ? `${api}/status` : `${api}/agents/${encodeURIComponent(String(args[0]))}`)
    case "stats":
    case "dependencies":
    case "commands":
    case "whoami":
      return fetchText(`${api}/${command}`)
    case "history":
    case "logs":
      return fetchText(`${api}/${command}${query(args[0])}`)
    case "reload":
      return postJson(`${api}/reload`, { ...body, ...(args[0] as object | undefined) })
    case "shutdown":
      return postJson(`${api}/shutdown`, body)
    default:
      return postJson(`${api}/agents/${encodeURIComponent(String(args[0]))}/${command}`, body)
  }
}

const VOLATILE = new Set(["uptime_seconds", "started_at", "timestamp", "duration_ms", "last_heartbeat"])
const HTTP_ONLY = new Set(["transport", "peer_address"])

/** Instants and durations masked; the fields only HTTP records have left out. */
const normalize = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(normalize)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !HTTP_ONLY.has(key))
      .map(([key, inner]) => [key, VOLATILE.has(key) && inner !== null ? "<masked>" : normalize(inner)])
  )
}

const auditOf = (stack: Stack) =>
  Effect.map(stack.events.query({ category: "command", limit: 1000 }), (page) => page.events.map((event) => ({ event: event.eventName, data: event.data })))

describe("the same commands over ZeroMQ and HTTP", () => {
  it.live("every command gets the same answer and leaves the same audit record, whichever way it comes", () =>
    Effect.gen(function*() {
      const [zmqStack, envelopeStack, restStack] = yield* Effect.all([startStack(), startStack(), startStack()])
      const socket = yield* reqClient(zmqStack.zmq)
      const answers = { zmq: [] as Array<unknown>, envelope: [] as Array<unknown>, rest: [] as Array<unknown> }
      for (const request of requests) {
        answers.zmq.push(yield* ask(socket, request))
        const viaEnvelope = yield* postJson(`${envelopeStack.url}/api/v1/command`, request)
        const viaRest = yield* rest(restStack.url, request)
        for (const answer of [viaEnvelope, viaRest]) {
          const { code = 200, reason } = answer.json as { code?: number; reason?: string }
          expect(answer.status, `${request.command}: the status is the code`).toBe(reason === "AgentNotFound" ? 404 : code)
        }
        answers.envelope.push(viaEnvelope.json)
        answers.rest.push(viaRest.json)
      }
      // Each request is answered as it would be on ZeroMQ: successes and errors alike.
      expect(answers.zmq.map((answer) => (answer as { status: string }).status)).toContain("error")
      for (const [index, request] of requests.entries()) {
        const expected = normalize(answers.zmq[index])
        expect(normalize(answers.envelope[index]), `${request.command} ${JSON.stringify(request.args ?? [])} via /api/v1/command`).toEqual(expected)
        expect(normalize(answers.rest[index]), `${request.command} ${JSON.stringify(request.args ?? [])} via REST`).toEqual(expected)
      }

      const [zmqAudit, envelopeAudit, restAudit] = yield* Effect.all([auditOf(zmqStack), auditOf(envelopeStack), auditOf(restStack)])
      expect(zmqAudit).toHaveLength(requests.length)
      expect(normalize(envelopeAudit)).toEqual(normalize(zmqAudit))
      expect(normalize(restAudit)).toEqual(normalize(zmqAudit))
      for (const record of [...envelopeAudit, ...restAudit]) {
        expect(record.data).toMatchObject({ transport: "http", peer_address: "127.0.0.1" })
      }
      for (const record of zmqAudit) expect(record.data).not.toHaveProperty("transport")
    }))
})
