/**
 * The HTTP transport of the command interface: it turns an HTTP request into the pipeline's `IncomingRequest` (the
 * envelope's bytes, the bearer token as the credentials frame, the peer for the audit record), and the pipeline's
 * answer into the HTTP response: the response envelope as it is, its status its `code` (401 for an
 * `AuthenticationFailed`, which is what HTTP clients expect for a missing or unknown token, and 404 for an
 * `AgentNotFound`).
 *
 * Before the pipeline, it refuses what is not a command request from this server's callers at all, answering with
 * an `EdgeError` whose `code` is the status: a cross-site request (an `Origin` other than this server; without
 * tokens, a `Host` that is neither an IP address nor localhost, as a DNS-rebinding page would send), a POST that is
 * not `application/json` (a form on another site cannot send that type without a CORS preflight, which this
 * server never grants), a body too large to read. Cookies are never read: a browser's ambient credentials are
 * worth nothing here, so a page on another site has nothing to borrow.
 *
 * Each request's pipeline runs in a fiber of its own, started at once from the HTTP request's fiber but not its
 * child, as a ZeroMQ request's does in `CommandServer.ts`: a client that disconnects interrupts only its HTTP
 * request, never its command, and `shutdown`'s answer is sent before the shutdown it starts. Most commands complete
 * without suspending, and are answered from the reply they left, with nothing else paid for them; only a pipeline
 * fiber that suspended is kept, counted against `maxInFlight` and awaited. At the limit, new requests wait until
 * one of those ends. (A fork into a FiberSet under a semaphore and a Deferred per request, with the HttpApi route
 * that `HttpRoutes.commandRoute` replaces, cost 46 µs of CPU per `ps`: bench/README.md, benchmark 15.)
 *
 * When the interface stops, the server stops accepting connections and gives the requests in flight the command
 * interface's `shutdownTimeout` to be answered (`drain`); any that reach the pipeline after that are answered
 * `ShuttingDown`, and those still running are interrupted (and still answered and recorded). `HttpInterface.ts`
 * drains before effect's HTTP server stops, which interrupts the requests still running, unanswered.
 */
import { Context, Data, Effect, Fiber, Latch, Option, Tracer } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Net from "node:net"
import type { ErrorCode, ErrorReason } from "../../protocol/Envelope.ts"
import { CommandInterfaceConfig } from "../CommandInterfaceConfig.ts"
import { ShuttingDown } from "../pipeline/RequestError.ts"
import { RequestPipeline } from "../pipeline/RequestPipeline.ts"
import type { IncomingRequest, RequestOrigin } from "../Socket.ts"
import { PresentedToken, presentedToken } from "./OrchestrateApi.ts"
import { readRequestBody } from "./RequestBody.ts"

/** A request the HTTP layer answers itself, before the pipeline: `status` is its HTTP status and its `code`. */
export class Refused extends Data.TaggedError("Refused")<{
  readonly status: number
  readonly reason: string
  readonly error: string
}> {}

/** Answers are about a running orchestrator, and may be a token holder's: never kept by caches on the way. */
const NO_STORE = { "cache-control": "no-store" }

/** A JSON answer that no cache keeps. */
export const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(JSON.stringify(body), { status, contentType: "application/json", headers: { ...NO_STORE, ...headers } })

export const refusedResponse = (refused: Refused): HttpServerResponse.HttpServerResponse =>
  jsonResponse(
    refused.status,
    { status: "error", code: refused.status, reason: refused.reason, error: refused.error },
    // A body left unread is not worth draining to keep the connection.
    refused.status === 413 ? { connection: "close" } : {}
  )

interface Answered {
  readonly body: string
  readonly code: 200 | ErrorCode
  readonly reason: ErrorReason | undefined
}

const UNAUTHORIZED = { ...NO_STORE, "www-authenticate": `Bearer realm="orchestrate"` }

const answeredResponse = ({ body, code, reason }: Answered): HttpServerResponse.HttpServerResponse =>
  code === 403 && reason === "AuthenticationFailed"
    ? HttpServerResponse.text(body, { status: 401, contentType: "application/json", headers: UNAUTHORIZED })
    : HttpServerResponse.text(body, {
      // A name that matches no agent is the caller's mistake: a 500 would count as the server's fault in every
      // HTTP client's and monitor's book.
      status: reason === "AgentNotFound" ? 404 : code,
      contentType: "application/json",
      headers: NO_STORE
    })

/** The host of a `Host` header's authority, without its port; an IPv6 one without brackets. */
const hostOf = (authority: string): string =>
  authority.startsWith("[") ? authority.slice(1, authority.indexOf("]")) : authority.replace(/:\d*$/, "")

/** An IP address or localhost: names no web page can make resolve to this machine, as a rebinding one does. */
const namesThisMachine = (host: string): boolean => Net.isIP(host) !== 0 || host.toLowerCase() === "localhost"

const mediaType = (header: string | undefined): string | undefined => header?.split(";")[0]?.trim().toLowerCase()

/** A request URL without its query. */
export const pathOf = (url: string): string => url.split("?")[0] ?? url

const encoder = new TextEncoder()

export class HttpTransport extends Context.Service<HttpTransport, {
  /**
   * Answers the current request: refused here if it is cross-site or `envelope` refuses it, otherwise with what
   * the pipeline answers the envelope's bytes with.
   */
  readonly answer: <R>(
    envelope: Effect.Effect<Uint8Array, Refused, R>
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest | PresentedToken>
  /**
   * Answers a `POST /api/v1/command`: its body is the envelope, its bearer token (read as the API's bearer security
   * reads it, `presentedToken`) the credentials. What `answer(body)` does within the API's middleware, in fewer
   * steps: it is the route every client of the command interface uses.
   */
  readonly command: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse>
  /**
   * From now on answers every request `ShuttingDown`, and waits for the pipelines in flight to answer theirs, at
   * most `shutdownTimeout`, then interrupts those still running, which are answered `ShuttingDown` and recorded.
   * Once: later calls wait for the first. The transport's scope drains as it closes, if nothing did before.
   */
  readonly drain: Effect.Effect<void>
  /** The current request's body, refused unless it is `application/json` of at most the frame limit. */
  readonly body: Effect.Effect<Uint8Array, Refused, HttpServerRequest.HttpServerRequest>
}>()("effect-orchestrate/http/HttpTransport") {
  /**
   * The transport over the HTTP pipeline, for a server reached as `scheme`, whose callers are anonymous unless
   * `tokensRequired`. Needs a Scope: the requests still running when it closes are given the shutdown timeout.
   */
  static readonly make = Effect.fnUntraced(function*(options: {
    readonly scheme: "http" | "https"
    readonly tokensRequired: boolean
  }) {
    const pipeline = yield* RequestPipeline
    const config = yield* CommandInterfaceConfig
    const frameLimit = CommandInterfaceConfig.frameLimit(config)
    const refusal = new ShuttingDown({ kind: "NotStarted" })
    let stopping = false

    const annotate = CommandInterfaceConfig.logsOf(config, "http-interface")
    // Pipelines run with the interface's services, log annotations and level; and within the HTTP request's span.
    const services = yield* annotate(Effect.context<never>())

    /** Pipelines that suspended and have not ended yet. */
    const suspended = new Set<Fiber.Fiber<void>>()
    /** Open while fewer than `maxInFlight` pipelines are in flight (or the interface is stopping). */
    const belowLimit = yield* Latch.make(true)
    /** Open while no pipeline is in flight. */
    const idle = yield* Latch.make(true)

    const ended = (fiber: Fiber.Fiber<void>) => () => {
      suspended.delete(fiber)
      belowLimit.openUnsafe()
      if (suspended.size === 0) idle.openUnsafe()
    }

    // Once: the interface drains before its server stops serving requests, and this scope closes later.
    const drain = yield* Effect.cached(annotate(Effect.gen(function*() {
      stopping = true
      // Those waiting for a slot are answered now, as any request arriving now is.
      belowLimit.openUnsafe()
      const finished = yield* idle.await.pipe(Effect.timeoutOption(config.shutdownTimeout))
      if (Option.isNone(finished)) {
        yield* Effect.logWarning("HTTP requests did not finish within the shutdown timeout; interrupting them")
        // Each is answered and recorded as it ends: only the command itself is interruptible.
        yield* Fiber.interruptAll([...suspended])
      }
    })))
    yield* Effect.addFinalizer(() => drain)

    /** Why the request is cross-site, if it is. */
    const crossSite = (request: HttpServerRequest.HttpServerRequest): Refused | undefined => {
      const host = request.headers["host"]
      const origin = request.headers["origin"]
      if (origin !== undefined) {
        const expected = host === undefined ? undefined : `${options.scheme}://${host}`
        if (expected === undefined || origin.toLowerCase() !== expected.toLowerCase()) {
          return new Refused({
            status: 403,
            reason: "NotAllowed",
            error: `Cross-site request refused: its Origin ${origin} is not this server (${expected ?? "no Host header"})`
          })
        }
      }
      if (!options.tokensRequired && host !== undefined && !namesThisMachine(hostOf(host))) {
        return new Refused({
          status: 403,
          reason: "NotAllowed",
          error: `Request refused: it is addressed to ${host}; without tokens, a request must name this machine by IP ` +
            "address or as localhost (a web page using DNS rebinding names a host of its own)"
        })
      }
      return undefined
    }

    const tooLarge = (size: string) =>
      new Refused({
        status: 413,
        reason: "RequestTooLarge",
        error: `Request too large: ${size}, over the ${frameLimit} bytes this interface reads at most ` +
          `(a request may have ${config.maxRequestBytes}: commandInterface.maxRequestBytes)`
      })

    const bodyOf = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<Uint8Array, Refused> => {
      const contentType = request.headers["content-type"]
      if (mediaType(contentType) !== "application/json") {
        return Effect.fail(
          new Refused({
            status: 415,
            reason: "UnsupportedMediaType",
            error: `${request.method} ${pathOf(request.url)} needs Content-Type: application/json, got ${contentType ?? "none"}`
          })
        )
      }
      const length = Number(request.headers["content-length"])
      if (length > frameLimit) return Effect.fail(tooLarge(`${length} bytes`))
      return Effect.mapError(readRequestBody(request, frameLimit), (error) =>
        error._tag === "BodyTooLarge"
          ? tooLarge("more bytes")
          : new Refused({ status: 400, reason: "MalformedRequest", error: `the request's body could not be read: ${error.message}` }))
    }

    /** The answer to a request whose pipeline ended without answering it, which its contract rules out. */
    const unanswered = Effect.as(
      annotate(Effect.logError("a request's pipeline ended without answering it")),
      refusedResponse(new Refused({ status: 500, reason: "InternalError", error: "Internal server error" }))
    )

    /**
     * Runs the pipeline on the request in a fiber of its own, and answers with its reply: at once if it replied
     * without suspending, otherwise once it replies (the fiber is then kept until it ends, which may be later:
     * `shutdown` starts the shutdown after its reply). While `maxInFlight` pipelines are in flight it waits for one
     * to end first, unless the interface is stopping.
     */
    const dispatch = (frames: ReadonlyArray<Uint8Array>, origin: RequestOrigin): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
      Effect.withFiber((requestFiber) => {
        if (!stopping && suspended.size >= config.maxInFlight) return Effect.andThen(belowLimit.await, dispatch(frames, origin))
        let answered: Answered | undefined
        let onAnswer: ((answered: Answered) => void) | undefined
        const incoming: IncomingRequest = {
          frames,
          origin,
          reply: (body, code, reason) =>
            Effect.sync(() => {
              answered = { body, code, reason }
              onAnswer?.(answered)
            })
        }
        const span = Context.getOrUndefined(requestFiber.context, Tracer.ParentSpan)
        const fiber = Effect.runForkWith(span === undefined ? services : Context.add(services, Tracer.ParentSpan, span))(
          stopping ? pipeline.handle(incoming, refusal) : pipeline.handle(incoming)
        )
        if (fiber.pollUnsafe() === undefined) {
          suspended.add(fiber)
          idle.closeUnsafe()
          if (suspended.size >= config.maxInFlight && !stopping) belowLimit.closeUnsafe()
          fiber.addObserver(ended(fiber))
        }
        if (answered !== undefined) return Effect.succeed(answeredResponse(answered))
        if (fiber.pollUnsafe() !== undefined) return unanswered
        return Effect.callback<HttpServerResponse.HttpServerResponse>((resume) => {
          onAnswer = (answered) => resume(Effect.succeed(answeredResponse(answered)))
          // The pipeline answers every request; were that ever broken, the client still hears of it.
          fiber.addObserver(() => {
            if (answered === undefined) resume(unanswered)
          })
        })
      })

    const originOf = (request: HttpServerRequest.HttpServerRequest): RequestOrigin => ({
      transport: "http",
      peerAddress: Option.getOrNull(request.remoteAddress)
    })

    const refuse = (request: HttpServerRequest.HttpServerRequest, refused: Refused) =>
      Effect.as(annotate(Effect.logWarning(`refused ${request.method} ${pathOf(request.url)}: ${refused.error}`)), refusedResponse(refused))

    const framesOf = (envelope: Uint8Array, token: string | undefined): ReadonlyArray<Uint8Array> =>
      token === undefined ? [envelope] : [envelope, encoder.encode(token)]

    const answer = <R>(envelope: Effect.Effect<Uint8Array, Refused, R>) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const refused = crossSite(request)
        if (refused !== undefined) return yield* refuse(request, refused)
        const built = yield* Effect.result(envelope)
        if (built._tag === "Failure") return refusedResponse(built.failure)
        const { token } = yield* PresentedToken
        return yield* dispatch(framesOf(built.success, token), originOf(request))
      })

    const command = (request: HttpServerRequest.HttpServerRequest) => {
      const refused = crossSite(request)
      if (refused !== undefined) return refuse(request, refused)
      return Effect.matchEffect(bodyOf(request), {
        onFailure: (refused) => Effect.succeed(refusedResponse(refused)),
        onSuccess: (envelope) => dispatch(framesOf(envelope, presentedToken(request.headers["authorization"])), originOf(request))
      })
    }

    return HttpTransport.of({
      answer,
      command,
      drain,
      body: Effect.flatMap(HttpServerRequest.HttpServerRequest, bodyOf)
    })
  })
}
