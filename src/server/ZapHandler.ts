/**
 * The ZAP handler (ZeroMQ RFC 27) that admits or refuses CURVE clients by public key. libzmq asks whatever is
 * bound to `inproc://zeromq.zap.01` in the socket's context, once per handshake; zeromq.js has one context per
 * process, so the handler is process-wide and shared: each server registers a check under its own ZAP domain,
 * the handler starts with the first registration and stops with the last. A domain no server registered gets
 * libzmq's own answer without a handler (admit), so other CURVE sockets in an embedding application keep working.
 *
 * That lifetime is an `RcRef`'s: the handler (its Router and the fiber serving it) is acquired by the first
 * registration and released, fiber interrupted and Router closed, when the last registration's scope closes. The
 * reference itself is module-level because the context is: two command interfaces built by separate layer graphs
 * in one process must share one handler.
 */
import { type Context, Effect, RcRef, Schedule, Schema, Scope } from "effect"
import * as Zmq from "zeromq"
import { RECEIVE_RECHECK_MILLIS, receiver, send, type ZmqError } from "../zmq/ZmqAdapter.ts"
import { ZapUnavailable } from "./Socket.ts"

const ZAP_ENDPOINT = "inproc://zeromq.zap.01"

export interface ZapRequest {
  /** The peer's IP address (tcp), or `localhost:<uid>:<gid>:<pid>` (ipc); empty when unknown. */
  readonly address: string
  readonly mechanism: string
  /** The client's 32-byte public key (CURVE). */
  readonly publicKey: Uint8Array | undefined
}

export type ZapDecision =
  | { readonly admit: true; readonly userId: string }
  | { readonly admit: false; readonly reason: string }

export type ZapCheck = (request: ZapRequest) => Effect.Effect<ZapDecision>

/** A registered check, with the services and log annotations of the server that registered it. */
interface Registration {
  readonly check: ZapCheck
  readonly context: Context.Context<never>
}

/** A ZAP request that is not version 1.0 or lacks its routing or request id: not answerable. */
class MalformedZapRequest extends Schema.TaggedError<MalformedZapRequest>()("MalformedZapRequest", { frames: Schema.Int }) {
  override get message(): string {
    return `ignored a malformed ZAP request (${this.frames} frames)`
  }
}

const ADMIT_UNREGISTERED: ZapDecision = { admit: true, userId: "" }
const INTERNAL_ERROR: ZapDecision = { admit: false, reason: "internal error" }

const statusOf = (decision: ZapDecision) => decision.admit ? ["200", "OK", decision.userId] : ["400", decision.reason, ""]

/** One ZAP request read and answered. */
const answerNext = (router: Zmq.Router, next: Effect.Effect<Array<Buffer>, ZmqError>, checks: ReadonlyMap<string, Registration>) =>
  Effect.gen(function*() {
    const frames = yield* next
    const [routingId, , version, requestId, domain, address, , mechanism, publicKey] = frames
    if (routingId === undefined || version?.toString() !== "1.0" || requestId === undefined) {
      return yield* new MalformedZapRequest({ frames: frames.length })
    }
    const registration = checks.get(domain?.toString() ?? "")
    const decision = registration === undefined
      ? ADMIT_UNREGISTERED
      : yield* registration.check({ address: address?.toString() ?? "", mechanism: mechanism?.toString() ?? "", publicKey }).pipe(
        Effect.catchCause((cause) => Effect.as(Effect.logError("a ZAP check failed; refusing the connection", cause), INTERNAL_ERROR)),
        // Logged, like the check's own logs, where the server that registered it logs.
        Effect.provideContext(registration.context)
      )
    yield* send(router, [routingId, "", "1.0", requestId, ...statusOf(decision), ""])
  })

/**
 * Answers handshakes until interrupted. A failure is logged and the next request is served: one bad request, or
 * a peer gone before its answer, must not leave every later handshake unanswered.
 */
const serve = (router: Zmq.Router, checks: ReadonlyMap<string, Registration>) => {
  const next = receiver(router)
  return answerNext(router, next, checks).pipe(
    Effect.catchTag("MalformedZapRequest", (error) => Effect.logDebug(error.message)),
    Effect.catchIf(
      (error) => error.reason._tag !== "SocketClosed",
      (error) => Effect.logWarning("the ZAP handler could not answer a handshake", error.message)
    ),
    Effect.forever,
    // Closed under it: the handler is being released.
    Effect.catchTag("ZmqError", () => Effect.void),
    Effect.annotateLogs({ component: "zap-handler" })
  )
}

/** The handler's Router bound, and its fiber serving it, both released with the RcRef's resource scope. */
const acquireHandler = Effect.gen(function*() {
  const router = yield* Effect.acquireRelease(
    Effect.sync(() => new Zmq.Router({ linger: 0, receiveTimeout: RECEIVE_RECHECK_MILLIS, sendTimeout: 1000 })),
    (router) => Effect.sync(() => router.close())
  )
  // A handler closed just before may still hold the endpoint: libzmq's reaper thread releases it after `close`
  // returns, later on a busy machine. Tried again for up to a second before the server is refused.
  yield* Effect.tryPromise({ try: () => router.bind(ZAP_ENDPOINT), catch: (cause) => new ZapUnavailable({ cause }) }).pipe(
    Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 100 })
  )
  const checks = new Map<string, Registration>()
  // Forked after the Router's release was registered, so it is interrupted before the Router closes.
  yield* Effect.forkScoped(serve(router, checks))
  return checks
})

const handler = Effect.runSync(RcRef.make({ acquire: acquireHandler }).pipe(Scope.provide(Scope.makeUnsafe())))

/**
 * Registers `check` for handshakes on `domain` for the life of the scope. The check runs with the services of
 * the fiber that registered it (its logger, its log annotations), not those of the shared handler.
 */
export const registerZapCheck = (domain: string, check: ZapCheck): Effect.Effect<void, ZapUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const checks = yield* RcRef.get(handler)
    const context = yield* Effect.context<never>()
    // Added after the reference, so the check is removed before the reference is released.
    yield* Effect.acquireRelease(
      Effect.sync(() => checks.set(domain, { check, context })),
      () => Effect.sync(() => checks.delete(domain))
    )
  })
