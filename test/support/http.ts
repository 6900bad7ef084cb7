/**
 * The command interface on both transports, as `up` composes them (`src/server/Transports.ts`), over the in-memory
 * orchestrator: the ZeroMQ socket on a fresh ipc path and HTTP on a free loopback port, so that a test can talk to
 * either with real sockets. Also small helpers for `fetch` against it.
 */
import { Context, Deferred, Effect, Exit, Layer, Ref, Scope } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Path from "node:path"
import { EventStore } from "../../src/events/EventStore.ts"
import { type AgentSeed, InMemoryOrchestrator } from "../../src/orchestrator/InMemoryOrchestrator.ts"
import type { OrchestratorControl } from "../../src/ports/OrchestratorControl.ts"
import type { OrchestratorQuery } from "../../src/ports/OrchestratorQuery.ts"
import { CommandInterfaceConfig, type CommandInterfaceOptions } from "../../src/server/CommandInterfaceConfig.ts"
import { HttpConfig, type HttpSettings } from "../../src/server/http/HttpSettings.ts"
import { layer as transports } from "../../src/server/Transports.ts"
import { tempDir } from "./files.ts"
import { gatedControl } from "./fixtures.ts"
import { demoAgents, quietLogs } from "./harness.ts"
import { freePort } from "./net.ts"

export interface StackOptions {
  readonly config?: CommandInterfaceOptions
  readonly http?: Partial<HttpSettings>
  readonly agents?: ReadonlyArray<AgentSeed>
  readonly query?: Layer.Layer<OrchestratorQuery>
  readonly control?: Layer.Layer<OrchestratorControl>
}

export interface Stack {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** The ZeroMQ address. */
  readonly zmq: string
  readonly events: EventStore["Service"]
  /** The in-memory orchestrator behind it: to make agents write output. */
  readonly orchestrator: InMemoryOrchestrator["Service"]
}

/** Both transports over one in-memory orchestrator, every command allowed unless `config` says otherwise. */
export const startStack = (options: StackOptions = {}) =>
  Effect.gen(function*() {
    const port = yield* freePort
    const zmq = `ipc://${Path.join(yield* tempDir(), "cmd.sock")}`
    const layer = transports.pipe(
      Layer.provide([options.query ?? Layer.empty, options.control ?? Layer.empty]),
      Layer.provideMerge(InMemoryOrchestrator.layer({ agents: options.agents ?? demoAgents, maxWorkers: 4 })),
      Layer.provideMerge(EventStore.layer()),
      Layer.provideMerge(Layer.orDie(CommandInterfaceConfig.layer({
        enableCommandInterface: true,
        commandAddress: zmq,
        allowedCommands: "all",
        ...options.config
      }))),
      Layer.provideMerge(Layer.orDie(HttpConfig.layer({ enabled: true, address: `127.0.0.1:${port}`, ...options.http }))),
      quietLogs
    )
    const context = yield* Layer.build(layer)
    return {
      url: `http://127.0.0.1:${port}`,
      zmq,
      events: Context.get(context, EventStore),
      orchestrator: Context.get(context, InMemoryOrchestrator)
    } satisfies Stack
  })

/**
 * A stack whose agent actions wait for `gate` (`gatedControl`), each noted in `log` as it starts, built in a
 * `scope` of its own: a test closes it to stop the interface while a command is in flight (else the test's does).
 */
export const startGatedStack = (options: Omit<StackOptions, "control"> = {}) =>
  Effect.gen(function*() {
    const gate = yield* Deferred.make<void>()
    const log = yield* Ref.make<ReadonlyArray<string>>([])
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const stack = yield* startStack({ ...options, control: gatedControl(gate, log) }).pipe(Scope.provide(scope))
    return { stack, gate, log, scope }
  })

export interface Fetched {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The body parsed, when it is JSON. */
  readonly json: unknown
}

/** `fetch`, its whole body read, and parsed when it is JSON. */
export const fetchText = (url: string, init: RequestInit = {}) =>
  Effect.promise(async (): Promise<Fetched> => {
    const response = await fetch(url, init)
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.status, headers: response.headers, text, json }
  })

/** A JSON POST, as a client (not a browser form) sends it. */
export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetchText(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** What a node:http POST got back: its status, its `Connection` header, its body (parsed when it is JSON). */
export interface Posted {
  readonly status: number
  readonly connection: string | undefined
  readonly body: unknown
}

/** The body as JSON, or as the text it is when it is not JSON (an empty body, say). */
export const parsedBody = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * A JSON POST through node:http rather than `fetch`, for what `fetch` hides: exact header values (it trims them),
 * the connection (`agent`, a connection of its own by default, closed after the answer), and breaking it off.
 * `onSocketClosed` runs when the connection closes; `onSent` gets a way to break it off before the answer.
 */
export const postRaw = (url: string, body: string, options: {
  readonly headers?: Record<string, string>
  readonly agent?: Http.Agent | false
  readonly onSent?: (abort: () => void) => void
  readonly onSocketClosed?: () => void
} = {}) =>
  Effect.callback<Posted, Error>((resume) => {
    const request = (url.startsWith("https:") ? Https.request : Http.request)(url, {
      method: "POST",
      agent: options.agent ?? false,
      headers: { "content-type": "application/json", ...options.headers }
    }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (text += chunk))
      response.on("end", () =>
        resume(Effect.succeed({ status: response.statusCode ?? 0, connection: response.headers.connection, body: parsedBody(text) })))
    })
    const { onSocketClosed } = options
    if (onSocketClosed !== undefined) request.on("socket", (socket) => socket.once("close", onSocketClosed))
    request.on("error", (error) => resume(Effect.fail(error)))
    request.end(body)
    options.onSent?.(() => request.destroy())
  })
