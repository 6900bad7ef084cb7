/**
 * The HTTP interface, assembled: a Node HTTP(S) server (`NodeHttpServer`) serving the `OrchestrateApi` routes
 * through their own request pipeline (`HttpTransport.ts`), which identifies callers by bearer token
 * (`HttpAuthentication.ts`) and shares the command interface's whitelist and audit trail, the event stream
 * (`EventStream.ts`), the probes, `/metrics` (`MetricsRoute.ts`), the OpenAPI document and its page, the web
 * dashboard at `/` (`Dashboard.ts`). It refuses to start where the ZeroMQ interface would: a network address
 * without TLS and tokens, unless `allowInsecureNetwork`; an address in use; TLS files it cannot use.
 *
 * Routes are layers over the `HttpRouter`: another one (a metrics endpoint, an event stream) is a layer that
 * registers itself (`HttpRouter.add`, or an `HttpApi` group) merged into `routes` below.
 */
// Module paths, not the barrels: those would bundle Scalar and Undici (4 MB) beside the CLI for nothing.
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Deferred, Duration, Effect, Latch, Layer, Option } from "effect"
import { HttpRouter } from "effect/http"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as HttpApiError from "effect/http-api/HttpApiError"
import * as HttpApiSwagger from "effect/http-api/HttpApiSwagger"
import * as Fs from "node:fs"
import type * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"
import { createRequire } from "node:module"
import * as Tls from "node:tls"
import type { EventStore } from "../../events/EventStore.ts"
import type { OrchestratorControl } from "../../ports/OrchestratorControl.ts"
import type { OrchestratorQuery } from "../../ports/OrchestratorQuery.ts"
import { FileAccessFailed } from "../../security/files.ts"
import type { AuditTrail } from "../AuditTrail.ts"
import { CommandHandlers } from "../CommandHandlers.ts"
import { CommandInterfaceConfig } from "../CommandInterfaceConfig.ts"
import { isLocalAddress } from "../exposure.ts"
import { RequestPipeline } from "../pipeline/RequestPipeline.ts"
import { AddressInUse, AddressNotAvailable, BindFailed, bindFailure, PermissionDenied } from "../Socket.ts"
import { describeAllowed, Whitelist } from "../Whitelist.ts"
import { makeHttpAuthentication } from "./HttpAuthentication.ts"
import * as Dashboard from "./Dashboard.ts"
import * as EventStream from "./EventStream.ts"
import * as HttpRoutes from "./HttpRoutes.ts"
import * as MetricsRoute from "./MetricsRoute.ts"
import { formatAuthority, parseHttpAddress } from "./HttpAddress.ts"
import { HttpConfig, type HttpSettings, type TlsSettings } from "./HttpSettings.ts"
import { HttpNetworkExposed, HttpStartupError, TlsFileUnreadable, TlsKeyReadableByOthers, TlsUnusable } from "./HttpStartupError.ts"
import { HttpTransport, pathOf, Refused, refusedResponse } from "./HttpTransport.ts"
import { OrchestrateApi, ServedApi } from "./OrchestrateApi.ts"
import * as Probes from "./Probes.ts"

export type Requirements =
  | HttpConfig
  | CommandInterfaceConfig
  | Whitelist
  | AuditTrail
  | EventStore
  | OrchestratorQuery
  | OrchestratorControl

/**
 * node:http loaded as CommonJS: imported as ESM, its lazy `WebSocket` export is evaluated, which loads undici (and
 * makes Node warn about NO_COLOR beside FORCE_COLOR) in every `up`, as platform-node's own server module avoids too.
 */
const NodeHttp: typeof Http = createRequire(import.meta.url)("node:http")

/**
 * Node's limits for one request: its headers within 10 s and the whole of it within 30 s, so that a client
 * sending slowly cannot hold a connection and its buffers for the default five minutes.
 */
const NODE_LIMITS = { headersTimeout: 10_000, requestTimeout: 30_000 } as const

/**
 * The least time the answers left once the pipelines have drained get to be written (they take microseconds; a
 * slow client reading a large one may take longer), even with a `shutdownTimeout` of 0.
 */
const MIN_WRITE_GRACE = Duration.seconds(1)

/**
 * Stops a Node server without cutting off an answer or waiting on a connection with nothing to answer. Node's
 * `close` ends only the keep-alive connections idle at that moment: one answered later stays open for its
 * keep-alive timeout (5 s), one that never sent a request for as long as its client keeps it (closing, Node stops
 * checking the headers timeout), as does one still in its TLS handshake. And effect's server, as it ends,
 * interrupts the requests still running, unanswered. So: no new connections, the pipelines drained (`drain`), their
 * answers written, each closing its connection; then what is still connected has nothing in flight, and is closed.
 */
const stopper = (node: Http.Server, shutdownTimeout: Duration.Duration) => {
  const grace = Duration.max(shutdownTimeout, MIN_WRITE_GRACE)
  /** Every connection, as TCP: under TLS, before its handshake too. */
  const connections = new Set<Net.Socket>()
  node.on("connection", (socket: Net.Socket) => {
    connections.add(socket)
    socket.once("close", () => connections.delete(socket))
  })
  /** The responses Node has not finished writing. */
  const writing = new Set<Http.ServerResponse>()
  const quiet = Latch.makeUnsafe(true)
  let closing = false
  const track = (_request: Http.IncomingMessage, response: Http.ServerResponse) => {
    if (closing) response.setHeader("connection", "close")
    writing.add(response)
    quiet.closeUnsafe()
    response.once("close", () => {
      writing.delete(response)
      if (writing.size === 0) quiet.openUnsafe()
    })
  }
  node.on("request", track)
  // A request that expects 100 Continue comes as this instead (effect's server listens for it too).
  node.on("checkContinue", track)

  return (drain: Effect.Effect<void>) =>
    Effect.gen(function*() {
      closing = true
      // An answer still to come ends its connection, rather than keeping it for a next request.
      for (const response of writing) if (!response.headersSent) response.setHeader("connection", "close")
      const closed = Latch.makeUnsafe(false)
      // No new connections; those idle between requests end now.
      node.close(() => closed.openUnsafe())
      yield* drain
      const written = yield* quiet.await.pipe(Effect.timeoutOption(grace))
      if (Option.isNone(written)) yield* Effect.logWarning("HTTP responses were still being written after the shutdown timeout; cutting them off")
      for (const socket of connections) socket.destroy()
      yield* closed.await
    })
}

/** Refuses a network-reachable address without both TLS and tokens unless the risk is accepted, warning then. */
const checkExposure = (settings: HttpSettings, host: string, url: string): Effect.Effect<void, HttpStartupError> => {
  // The ZeroMQ rule's own test of an address, which compares addresses rather than spellings (`exposure.ts`).
  const address = `tcp://${host.includes(":") ? `[${host}]` : host}:*`
  const missing = [
    ...(settings.tls === undefined ? ["tls" as const] : []),
    ...(settings.tokens === undefined ? ["tokens" as const] : [])
  ]
  if (isLocalAddress(address) || missing.length === 0) return Effect.void
  if (!settings.allowInsecureNetwork) return Effect.fail(new HttpStartupError({ url, reason: new HttpNetworkExposed({ missing }) }))
  return Effect.logWarning(
    `the HTTP interface on ${url} is reachable from the network without ${missing.join(" and ")} (allowInsecureNetwork is set)`
  )
}

/** The certificate and key, read and checked to belong together before anything listens. */
const readTls = (tls: TlsSettings, url: string): Effect.Effect<{ readonly cert: Buffer; readonly key: Buffer }, HttpStartupError> =>
  Effect.suspend(() => {
    const fail = (reason: TlsFileUnreadable | TlsKeyReadableByOthers | TlsUnusable) => Effect.fail(new HttpStartupError({ url, reason }))
    const read = (key: "certFile" | "keyFile") => {
      try {
        return Fs.readFileSync(tls[key])
      } catch (cause) {
        return new TlsFileUnreadable({ key, path: tls[key], reason: new FileAccessFailed({ cause }) })
      }
    }
    const cert = read("certFile")
    if (cert instanceof TlsFileUnreadable) return fail(cert)
    const key = read("keyFile")
    if (key instanceof TlsFileUnreadable) return fail(key)
    const mode = Fs.statSync(tls.keyFile).mode & 0o777
    if ((mode & 0o007) !== 0) return fail(new TlsKeyReadableByOthers({ path: tls.keyFile, mode }))
    try {
      Tls.createSecureContext({ cert, key })
    } catch (cause) {
      return fail(new TlsUnusable({ cause }))
    }
    return Effect.succeed({ cert, key })
  })

/** Why Node could not listen: the errno codes people meet have a reason of their own. */
const listenFailure = (cause: unknown): AddressInUse | PermissionDenied | AddressNotAvailable | BindFailed => {
  const failure = bindFailure(cause)
  return failure._tag === "IpcPathTooLong" || failure._tag === "UnsupportedTransport" ? new BindFailed({ cause }) : failure
}

/** A path no route has: said in the envelope's error shape, with where the routes are described. */
const notFound = HttpRouter.add("*", "*", (request) =>
  Effect.succeed(refusedResponse(
    new Refused({
      status: 404,
      reason: "NotFound",
      error: `No route for ${request.method} ${pathOf(request.url)}; the routes are described at /api/v1/openapi.json and /api/docs`
    })
  )))

/**
 * What HttpApi refuses itself (a path or query parameter it cannot read as declared, such as one given twice) in
 * the envelope's error shape rather than as an empty 400; anything else that died as a 500 that says so.
 */
const jsonDefects = HttpRouter.middleware(
  (effect) =>
    Effect.catchDefect(effect, (defect) =>
      HttpApiError.HttpApiSchemaError.is(defect)
        ? Effect.succeed(refusedResponse(
          new Refused({ status: 400, reason: "MalformedRequest", error: `${defect.kind}: ${defect.cause.message}` })
        ))
        : Effect.as(
          Effect.logError("an HTTP request failed", defect).pipe(Effect.annotateLogs({ component: "http-interface" })),
          refusedResponse(new Refused({ status: 500, reason: "InternalError", error: "Internal server error" }))
        )),
  { global: true }
)

export class HttpInterface extends Context.Service<HttpInterface, {
  /** Where it listens, with a free port resolved: `http://127.0.0.1:5580`. */
  readonly url: string
}>()("effect-orchestrate/HttpInterface") {
  static readonly layer: Layer.Layer<HttpInterface, HttpStartupError, Requirements> = Layer.unwrap(
    Effect.gen(function*() {
      const settings = yield* HttpConfig
      const commandInterface = yield* CommandInterfaceConfig
      const whitelist = yield* Whitelist
      const scheme = settings.tls === undefined ? "http" : "https"
      const endpoint = parseHttpAddress(settings.address) ?? { host: settings.address, port: 0 }
      const configured = `${scheme}://${formatAuthority(endpoint)}`
      yield* checkExposure(settings, endpoint.host, configured)
      const tls = settings.tls === undefined ? undefined : yield* readTls(settings.tls, configured)
      const node = tls === undefined ? NodeHttp.createServer(NODE_LIMITS) : Https.createServer({ ...NODE_LIMITS, ...tls })
      const stop = stopper(node, commandInterface.shutdownTimeout)
      const authentication = makeHttpAuthentication(whitelist, settings.tokens)
      // Completed as the interface stops, first: it ends the event streams (`EventStream.ts`).
      const stopping = yield* Deferred.make<void>()

      const pipeline = Layer.effect(RequestPipeline, RequestPipeline.make(authentication.identify)).pipe(
        Layer.provide(CommandHandlers.layer)
      )
      const transport = Layer.effect(HttpTransport, HttpTransport.make({ scheme, tokensRequired: authentication.tokensRequired }))
        .pipe(Layer.provide(pipeline))
      const routes = Layer.mergeAll(
        HttpApiBuilder.layer(ServedApi).pipe(
          Layer.provide([HttpRoutes.layer, EventStream.layer(Deferred.await(stopping)), Probes.layer(authentication)])
        ),
        HttpRoutes.commandRoute,
        HttpRoutes.openApiRoute("/api/v1/openapi.json"),
        HttpApiSwagger.layer(OrchestrateApi, { path: "/api/docs" }),
        MetricsRoute.layer(authentication),
        // Its routes are static and parametric, which the router prefers to `*` whatever the order.
        Dashboard.layer(),
        notFound,
        jsonDefects
      ).pipe(Layer.provideMerge(transport))
      // Its graceful close matters only if the interface stops before `listening` below, whose `stop` closes it first.
      const server = NodeHttpServer.layer(() => node, {
        host: endpoint.host,
        port: endpoint.port,
        gracefulShutdownTimeout: commandInterface.shutdownTimeout
      })

      const listening = Layer.effect(
        HttpInterface,
        Effect.gen(function*() {
          const bound = node.address()
          const url = bound !== null && typeof bound === "object"
            ? `${scheme}://${formatAuthority({ host: bound.address, port: bound.port })}`
            : configured
          yield* Effect.logInfo(
            `HTTP interface listening on ${url} (allowed: ${describeAllowed(commandInterface.allowedCommands)}; ` +
              `${settings.tokens === undefined ? "no tokens: callers are anonymous" : `${settings.tokens.length} token(s)`})`
          ).pipe(Effect.annotateLogs({ component: "http-interface" }))
          yield* Effect.addFinalizer(() => Effect.logInfo(`HTTP interface on ${url} stopped`).pipe(Effect.annotateLogs({ component: "http-interface" })))
          const { drain } = yield* HttpTransport
          // Before the server's own finalizers, which would interrupt the requests still running, unanswered.
          yield* Effect.addFinalizer(() =>
            Effect.andThen(Deferred.succeed(stopping, undefined), stop(drain)).pipe(Effect.annotateLogs({ component: "http-interface" }))
          )
          return HttpInterface.of({ url })
        })
      )
      return listening.pipe(
        // Path parameters past the router's default 100 characters would be "no route"; the pipeline says better.
        Layer.provide(HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true, routerConfig: { maxParamLength: 1024 } })),
        Layer.provide(server),
        Layer.catchTag("ServeError", (error) =>
          Layer.effect(HttpInterface, Effect.fail(new HttpStartupError({ url: configured, reason: listenFailure(error.cause) }))))
      )
    })
  )
}

