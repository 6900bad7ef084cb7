/**
 * The HTTP transport of the command interface: it turns an HTTP request into the pipeline's `IncomingRequest` (the
 * envelope's bytes, the bearer token as the credentials frame, the peer for the audit record), and the pipeline's
 * answer into the HTTP response: the response envelope as it is, its status its `code` (401 for an
 * `AuthenticationFailed`, which is what HTTP clients expect for a missing or unknown token).
 *
 * Before the pipeline, it refuses what is not a command request from this server's callers at all, answering with
 * an `EdgeError` whose `code` is the status: a cross-site request (an `Origin` other than this server; without
 * tokens, a `Host` that is neither an IP address nor localhost, as a DNS-rebinding page would send), a POST that is
 * not `application/json` (a form on another site cannot send that type without a CORS preflight, which this
 * server never grants), a body too large to read. Cookies are never read: a browser's ambient credentials are
 * worth nothing here, so a page on another site has nothing to borrow.
 *
 * Each request runs in a fiber of the interface's own, as a ZeroMQ request does in the server's: a client that
 * disconnects does not interrupt its command, and `shutdown`'s answer is sent before the shutdown it starts. At most
 * `maxInFlight` run at once; the others wait. When the interface stops, the server stops accepting connections and
 * gives the requests in flight the command interface's `shutdownTimeout` to be answered; any that reach the pipeline
 * after that are answered `ShuttingDown`, and those still running are interrupted (and still answered and recorded).
 */
import { ByteSize, Context, Data, Deferred, Effect, FiberSet, Option, Semaphore } from "effect"
import { HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Net from "node:net"
import type { ErrorCode, ErrorReason } from "../../protocol/Envelope.ts"
import { CommandInterfaceConfig } from "../CommandInterfaceConfig.ts"
import { ShuttingDown } from "../pipeline/RequestError.ts"
import { RequestPipeline } from "../pipeline/RequestPipeline.ts"
import type { IncomingRequest, RequestOrigin } from "../Socket.ts"
import { PresentedToken } from "./OrchestrateApi.ts"

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
    : HttpServerResponse.text(body, { status: code, contentType: "application/json", headers: NO_STORE })

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
  /** The current request's body, refused unless it is `application/json` of at most the frame limit. */
  readonly body: Effect.Effect<Uint8Array, Refused, HttpServerRequest.HttpServerRequest>
}>()("effect-orchestrate/http/HttpTransport") {
  /**
   * The transport over the HTTP pipeline, for a server reached as `scheme`, whose callers are anonymous unless
   * `tokensRequired`. Needs a Scope: its requests' fibers live in it.
   */
  static readonly make = Effect.fnUntraced(function*(options: {
    readonly scheme: "http" | "https"
    readonly tokensRequired: boolean
  }) {
    const pipeline = yield* RequestPipeline
    const config = yield* CommandInterfaceConfig
    const frameLimit = CommandInterfaceConfig.frameLimit(config)
    const permits = yield* Semaphore.make(config.maxInFlight)
    const inFlight = yield* FiberSet.make<void>()
    const refusal = new ShuttingDown({ kind: "NotStarted" })
    let stopping = false

    const annotate = CommandInterfaceConfig.logsOf(config, "http-interface")

    yield* Effect.addFinalizer(() =>
      annotate(Effect.gen(function*() {
        stopping = true
        const finished = yield* FiberSet.awaitEmpty(inFlight).pipe(Effect.timeoutOption(config.shutdownTimeout))
        // The rest are interrupted with the set, and still answered and recorded: only a command is interruptible.
        if (Option.isNone(finished)) yield* Effect.logWarning("HTTP requests did not finish within the shutdown timeout; interrupting them")
      }))
    )

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

    const body = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const contentType = request.headers["content-type"]
      if (mediaType(contentType) !== "application/json") {
        return yield* new Refused({
          status: 415,
          reason: "UnsupportedMediaType",
          error: `${request.method} ${pathOf(request.url)} needs Content-Type: application/json, got ${contentType ?? "none"}`
        })
      }
      const length = Number(request.headers["content-length"])
      if (length > frameLimit) return yield* tooLarge(`${length} bytes`)
      const buffer = yield* request.arrayBuffer.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(frameLimit)),
        Effect.mapError((error) =>
          error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
            ? tooLarge("more bytes")
            : new Refused({ status: 400, reason: "MalformedRequest", error: `the request's body could not be read: ${error.message}` }))
      )
      return new Uint8Array(buffer)
    })

    /** Hands the request to the pipeline in a fiber of its own, and waits for its answer. */
    const dispatch = (frames: ReadonlyArray<Uint8Array>, origin: RequestOrigin) =>
      Effect.suspend(() => {
        const answered = Deferred.makeUnsafe<Answered>()
        const incoming: IncomingRequest = {
          frames,
          origin,
          reply: (body, code, reason) => Deferred.succeed(answered, { body, code, reason }).pipe(Effect.asVoid)
        }
        const handled = stopping
          ? pipeline.handle(incoming, refusal)
          : Effect.uninterruptibleMask((restore) =>
            Effect.matchCauseEffect(restore(permits.take(1)), {
              // Stopped while waiting for a permit: answered as any request arriving now would be.
              onFailure: () => pipeline.handle(incoming, refusal),
              onSuccess: () => Effect.ensuring(pipeline.handle(incoming), permits.release(1))
            })
          )
        return FiberSet.run(inFlight, annotate(handled)).pipe(
          Effect.andThen(Deferred.await(answered)),
          Effect.map(answeredResponse)
        )
      })

    const answer = <R>(envelope: Effect.Effect<Uint8Array, Refused, R>) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const refused = crossSite(request)
        if (refused !== undefined) {
          yield* annotate(Effect.logWarning(`refused ${request.method} ${pathOf(request.url)}: ${refused.error}`))
          return refusedResponse(refused)
        }
        const built = yield* Effect.result(envelope)
        if (built._tag === "Failure") return refusedResponse(built.failure)
        const { token } = yield* PresentedToken
        const frames = token === undefined ? [built.success] : [built.success, encoder.encode(token)]
        return yield* dispatch(frames, { transport: "http", peerAddress: Option.getOrNull(request.remoteAddress) })
      })

    return HttpTransport.of({ answer, body })
  })
}
