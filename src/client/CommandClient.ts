/**
 * A typed client for the command interface, sharing the protocol's Schemas with the server.
 *
 * `timeout` is a request's whole budget, its resend included: when it runs out, the request fails with `no answer
 * within <timeout>`. Every attempt uses a fresh REQ socket, closed with linger 0 however the attempt ends (the
 * "Lazy Pirate" pattern): a REQ socket that missed its reply cannot send again, and a socket holding an unsent
 * message would keep the process from exiting. A request that got no answer within the first 60% of the budget
 * is sent once more on a fresh socket, with the same id, and has the rest: for a mutating command the server
 * recognises the resend and answers it with the first reply instead of running it twice. A `final` command
 * (`shutdown`) is the exception, sent once: a resend would find the server already stopping.
 *
 * A refused connection or a failed handshake fails at once, saying why, where libzmq would retry it quietly
 * until the time is up; so does an address where no ZeroMQ server listens (an HTTP server, say), told by what it
 * answers a greeting with (ZmtpGreeting.ts).
 *
 * Given CURVE credentials, it encrypts the connection and signs every attempt anew
 * (`security/RequestSignature.ts`): a retry carries a fresh nonce, so the server does not take it for a replay.
 */
import { Clock, Context, Duration, Effect, Layer, type Option, Queue, Ref, Result, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as Zmq from "zeromq"
import { type ArgsOf, type CommandName, Commands, type ResultOf } from "../protocol/Commands.ts"
import { DEFAULT_ADDRESS } from "../protocol/endpoint.ts"
import { type ErrorResponse, Response } from "../protocol/Envelope.ts"
import { formatIssues } from "../protocol/issues.ts"
import { fingerprint } from "../security/keys.ts"
import { type ClientCredentials, makeSigner } from "../security/RequestSignature.ts"
import { messageOf, RECEIVE_RECHECK_MILLIS, receiver, send as sendOn, ZmqError } from "../zmq/ZmqAdapter.ts"
import { CONNECTION_REFUSED, noAnswerWithin, refusedWith, RESEND_AFTER_SHARE, requestFrame, requestSocketOptions, unreachableAt } from "./wire.ts"
import { type PeerGreeting, peerGreeting } from "./ZmtpGreeting.ts"

const CURVE_FLAGS = "--server-key and --client-key (or ORCHESTRATE_SERVER_KEY and ORCHESTRATE_CLIENT_KEY)"

/** libzmq's monitor says the connection was refused: nothing listens at the address. */
export class ConnectionRefused extends Schema.TaggedError<ConnectionRefused>()("ConnectionRefused", {}) {
  override get message(): string {
    return CONNECTION_REFUSED
  }
}

/** Nothing came back within the budget: the one reason a resend might fare better. */
export class NoAnswer extends Schema.TaggedError<NoAnswer>()("NoAnswer", { timeout: Schema.Duration }) {
  override get message(): string {
    return noAnswerWithin(Duration.format(this.timeout))
  }
}

/** The server's ZAP handler refused this client's key: it is no principal's. */
export class HandshakeRefused extends Schema.TaggedError<HandshakeRefused>()("HandshakeRefused", {
  /** The fingerprint of the key presented; null when the client presented none. */
  keyFingerprint: Schema.NullOr(Schema.String)
}) {
  override get message(): string {
    return `the orchestrator refused this client's key (${this.keyFingerprint ?? "none"}): it is not one of its principals`
  }
}

/** One side speaks CURVE and the other does not. */
export class MechanismMismatch extends Schema.TaggedError<MechanismMismatch>()("MechanismMismatch", {
  /** Whether this client offered CURVE (to a plain server), or not (to a CURVE server). */
  clientCurve: Schema.Boolean
}) {
  override get message(): string {
    return this.clientCurve
      ? "the orchestrator does not use CURVE: leave out --server-key and --client-key"
      : `the orchestrator requires CURVE: give ${CURVE_FLAGS}`
  }
}

/** A CURVE server hung up on the handshake of a client that does hold a principal's key: a wrong server key. */
export class WrongServerKey extends Schema.TaggedError<WrongServerKey>()("WrongServerKey", { code: Schema.String }) {
  override get message(): string {
    return `the CURVE handshake failed (${this.code}): is --server-key the orchestrator's public key?`
  }
}

/** The handshake failed in a way the server's greeting does not explain. */
export class HandshakeFailed extends Schema.TaggedError<HandshakeFailed>()("HandshakeFailed", {
  code: Schema.String,
  clientCurve: Schema.Boolean
}) {
  override get message(): string {
    return this.clientCurve
      ? `the CURVE handshake failed (${this.code}): is --server-key the orchestrator's public key, and does it use CURVE?`
      : `the handshake failed (${this.code}): does the orchestrator require CURVE (--server-key and --client-key)?`
  }
}

/** Where the command interface is, for a user who gave the address of something else. */
const COMMAND_ADDRESS = `at commandInterface.address (up --address; ${DEFAULT_ADDRESS} by default)`

/**
 * The peer answered a ZeroMQ greeting with an HTTP response: most likely the orchestrator's own HTTP interface
 * (`up --http`), which serves the same commands, but not to this client.
 */
export class AnswersHttp extends Schema.TaggedError<AnswersHttp>()("AnswersHttp", {}) {
  override get message(): string {
    return `an HTTP server answered, not ZeroMQ: is this the orchestrator's HTTP interface (up --http)? The CLI talks to its command interface, ${COMMAND_ADDRESS}`
  }
}

/** The peer answered a ZeroMQ greeting with bytes that are not one, nor HTTP. */
export class NotZmtp extends Schema.TaggedError<NotZmtp>()("NotZmtp", {}) {
  override get message(): string {
    return `the server does not speak ZeroMQ (ZMTP): the CLI talks to the orchestrator's command interface, ${COMMAND_ADDRESS}`
  }
}

/** zeromq.js refused the address (a bad transport or host) before trying it. */
export class InvalidAddress extends Schema.TaggedError<InvalidAddress>()("InvalidAddress", { cause: Schema.Defect() }) {
  override get message(): string {
    return `cannot connect: ${messageOf(this.cause)}`
  }
}

/** Sending the request or receiving its reply failed on the socket itself. */
export class ExchangeFailed extends Schema.TaggedError<ExchangeFailed>()("ExchangeFailed", { cause: Schema.instanceOf(ZmqError) }) {
  override get message(): string {
    return `request failed: ${this.cause.reason.message}`
  }
}

export const UnreachableReason = Schema.Union([
  ConnectionRefused,
  NoAnswer,
  HandshakeRefused,
  MechanismMismatch,
  WrongServerKey,
  HandshakeFailed,
  AnswersHttp,
  NotZmtp,
  InvalidAddress,
  ExchangeFailed
])
export type UnreachableReason = typeof UnreachableReason.Type

/** No answer: nothing listens at the address, the connection failed, or the orchestrator did not reply in time. */
export class Unreachable extends Schema.TaggedError<Unreachable>()("Unreachable", {
  address: Schema.String,
  reason: UnreachableReason
}) {
  override get message(): string {
    return unreachableAt(this.reason.message, this.address)
  }
}

/** The text that came back is not a response of this protocol. */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>()("MalformedResponse", {
  cause: Schema.instanceOf(Schema.SchemaError)
}) {
  override get message(): string {
    return formatIssues(this.cause)
  }
}

/** A success response whose `data` is not the command's result. */
export class UnexpectedData extends Schema.TaggedError<UnexpectedData>()("UnexpectedData", {
  command: Schema.String,
  cause: Schema.instanceOf(Schema.SchemaError)
}) {
  override get message(): string {
    return formatIssues(this.cause, "data")
  }
}

/** The reply was not a response this client understands. */
export class BadResponse extends Schema.TaggedError<BadResponse>()("BadResponse", {
  address: Schema.String,
  reason: Schema.Union([MalformedResponse, UnexpectedData])
}) {
  override get message(): string {
    return `unexpected response from ${this.address}: ${this.reason.message}`
  }
}

/** The orchestrator answered with an error. */
export class CommandRefused extends Schema.TaggedError<CommandRefused>()("CommandRefused", {
  code: Schema.Int,
  reason: Schema.String,
  error: Schema.String,
  /** The response exactly as received. */
  raw: Schema.String
}) {
  override get message(): string {
    return refusedWith(this.error, this.code)
  }
}

export type ClientError = Unreachable | BadResponse

/** A response, decoded, with the text it came as. */
export interface Received {
  readonly raw: string
  readonly response: Response
}

/** A command's result, typed, with the response text it came as. */
export interface Reply<A> {
  readonly data: A
  readonly raw: string
}

export interface ClientOptions {
  readonly address: string
  /** How long to wait for an answer, retries included. */
  readonly timeout: Duration.Duration
  /** For a server that uses CURVE: this client's key pair and the server's public key. */
  readonly credentials?: ClientCredentials
}

/** What a request says besides its command: why it is made, recorded in the server's audit trail. */
export interface RequestOptions {
  readonly timeout?: Duration.Duration
  readonly reason?: string
}

const decodeResponse = Schema.decodeUnknownResult(Schema.fromJsonString(Response))

/** Handshakes failing without a reason this many times in a row are reported as they are. */
const UNEXPLAINED_HANDSHAKE_FAILURES = 3

/** The peer answered a greeting with something else than one: an HTTP server, or something else again. */
const notZeroMq = (answered: Option.Option<PeerGreeting>) => {
  if (answered._tag === "None") return undefined
  if (answered.value._tag === "Http") return new AnswersHttp({})
  return answered.value._tag === "NotZmtp" ? new NotZmtp({}) : undefined
}

/**
 * Why a server hung up during the handshake, given what it answered a greeting with: it does not speak ZeroMQ;
 * or, given the mechanism its greeting offers, a plain client at a CURVE server, a CURVE client at a plain one,
 * or (CURVE on both sides, where a client key no principal has would have been refused as such) a server key
 * that is not the server's.
 */
const explainHangUp = (code: string, answered: Option.Option<PeerGreeting>, clientCurve: boolean) => {
  if (answered._tag === "None" || answered.value._tag !== "Zmtp") return notZeroMq(answered)
  if (answered.value.mechanism === "CURVE") return clientCurve ? new WrongServerKey({ code }) : new MechanismMismatch({ clientCurve })
  return clientCurve ? new MechanismMismatch({ clientCurve }) : undefined
}

const requestSocket = (address: string, credentials: ClientCredentials | undefined) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      new Zmq.Request({ ...requestSocketOptions(address, credentials), receiveTimeout: RECEIVE_RECHECK_MILLIS })
    ),
    (socket) => Effect.sync(() => socket.close())
  )

const WATCHED = ["connect", "connect:retry", "disconnect", "handshake", "handshake:error:auth", "handshake:error:protocol", "handshake:error:other"] as const
type ConnectionEvent = Zmq.EventOfType<typeof WATCHED[number]>

/** The socket's connection events as they come: subscribed to before it connects, so that none is missed. */
const connectionEvents = (socket: Zmq.Request) =>
  Effect.flatMap(Queue.unbounded<ConnectionEvent>(), (queue) =>
    Effect.sync(() => {
      for (const type of WATCHED) socket.events.on(type, (event) => Queue.offerUnsafe(queue, event))
      return queue
    }))

/**
 * Fails as soon as the events show that no answer can come: the connection was refused, or the handshake
 * failed. Never succeeds. A handshake failure it cannot explain is noted in `lastProblem` (it is the likelier
 * story than silence if the time runs out) and reported once it has repeated.
 */
const diagnose = (
  events: Queue.Dequeue<ConnectionEvent>,
  address: string,
  credentials: ClientCredentials | undefined,
  lastProblem: Ref.Ref<HandshakeFailed | undefined>
): Effect.Effect<never, Unreachable> =>
  Effect.gen(function*() {
    const unreachable = (reason: UnreachableReason) => new Unreachable({ address, reason })
    const clientCurve = credentials !== undefined
    let connected = false
    // Connected, and the handshake neither done nor failed yet.
    let handshaking = false
    let unexplained = 0
    let answered: Option.Option<PeerGreeting> | undefined
    // The peer's answer to a greeting, asked once, at the first failure that needs it.
    const askGreeting = Effect.suspend(() =>
      answered === undefined ? Effect.map(peerGreeting(address), (greeting) => (answered = greeting)) : Effect.succeed(answered))
    for (;;) {
      const event = yield* Queue.take(events)
      if (event.type === "connect") {
        connected = true
        handshaking = true
      } else if (event.type === "handshake") {
        handshaking = false
      } else if (event.type === "disconnect") {
        // Hung up mid-handshake without a handshake error: libzmq takes a first byte other than a greeting's for
        // ZMTP 1.0 (which has no greeting) and just sees the connection end. Its answer to a greeting tells.
        const explained = handshaking ? notZeroMq(yield* askGreeting) : undefined
        if (explained !== undefined) return yield* unreachable(explained)
        handshaking = false
      } else if (event.type === "connect:retry") {
        // libzmq retries a refused connection quietly; its monitor says so within a couple of milliseconds. Once
        // connected, a retry means the peer hung up (as a CURVE server does on a failed handshake), not a refusal.
        if (!connected) return yield* unreachable(new ConnectionRefused({}))
      } else if (event.type === "handshake:error:auth") {
        return yield* unreachable(new HandshakeRefused({ keyFingerprint: clientCurve ? fingerprint(credentials.publicKey) : null }))
      } else if (event.error.code === "ERR_ZMTP_MECHANISM_MISMATCH") {
        return yield* unreachable(new MechanismMismatch({ clientCurve }))
      } else if (event.type === "handshake:error:protocol") {
        // A peer that breaks the protocol may not speak it at all: its answer to a greeting tells.
        const explained = notZeroMq(yield* askGreeting)
        return yield* unreachable(explained ?? new HandshakeFailed({ code: event.error.code, clientCurve }))
      } else {
        // The peer hung up (EPIPE, ECONNRESET), often before its reason arrived: ask its greeting, once.
        handshaking = false
        const explained = explainHangUp(event.error.code, yield* askGreeting, clientCurve)
        if (explained !== undefined) return yield* unreachable(explained)
        const problem = new HandshakeFailed({ code: event.error.code, clientCurve })
        yield* Ref.set(lastProblem, problem)
        if (++unexplained >= UNEXPLAINED_HANDSHAKE_FAILURES) return yield* unreachable(problem)
      }
    }
  })

/**
 * The request's frames sent and its reply received on `socket`; a failure of the socket itself is the reason. An
 * EAGAIN ("not possible or timed out") says only that nothing came yet: a handshake failing under load showed one
 * now and then before its own event did. It waits on, for the handshake's diagnosis or the request's budget.
 */
const exchange = (socket: Zmq.Request, frames: ReadonlyArray<string>, address: string): Effect.Effect<string, Unreachable> =>
  sendOn(socket, [...frames]).pipe(
    Effect.andThen(receiver(socket)),
    Effect.map(([reply]) => reply === undefined ? "" : reply.toString("utf8")),
    Effect.catchIf(
      (cause) => cause.reason._tag === "OperationFailed" && cause.reason.code === "EAGAIN",
      () => Effect.never
    ),
    Effect.mapError((cause) => new Unreachable({ address, reason: new ExchangeFailed({ cause }) }))
  )

/** One request on a fresh REQ socket, closed when the attempt ends, however it ends. */
const attempt = (
  address: string,
  frames: ReadonlyArray<string>,
  credentials: ClientCredentials | undefined,
  lastProblem: Ref.Ref<HandshakeFailed | undefined>
): Effect.Effect<string, Unreachable> =>
  Effect.scoped(Effect.gen(function*() {
    const socket = yield* requestSocket(address, credentials)
    const events = yield* connectionEvents(socket)
    yield* Effect.try({
      try: () => socket.connect(address),
      catch: (cause) => new Unreachable({ address, reason: new InvalidAddress({ cause }) })
    })
    return yield* Effect.raceFirst(exchange(socket, frames, address), diagnose(events, address, credentials, lastProblem))
  }))

const isNoAnswer = (error: Unreachable | BadResponse): boolean => error._tag === "Unreachable" && error.reason._tag === "NoAnswer"

export class CommandClient extends Context.Service<CommandClient, {
  readonly address: string
  /** Sends a request envelope and returns the response, whatever its status. */
  readonly send: (
    request: { readonly command: string; readonly args: ReadonlyArray<unknown>; readonly reason?: string },
    options: { readonly retry: boolean; readonly timeout?: Duration.Duration }
  ) => Effect.Effect<Received, ClientError>
  /** Runs a command: its arguments encoded and its result decoded with the command's own schemas. */
  readonly call: <K extends CommandName>(
    command: K,
    args: ArgsOf<K>,
    options?: RequestOptions
  ) => Effect.Effect<Reply<ResultOf<K>>, ClientError | CommandRefused>
}>()("effect-orchestrate/CommandClient") {
  static readonly make = (options: ClientOptions): CommandClient["Service"] => {
    const { address, credentials } = options
    const sign = credentials === undefined ? undefined : makeSigner(credentials)
    // Signed at each attempt, so that a retry has its own timestamp and nonce.
    const framesOf = (body: string) =>
      sign === undefined ? Effect.succeed([body]) : Effect.map(Clock.currentTimeMillis, (now) => [body, sign(body, now)])

    const send = (
      request: { readonly command: string; readonly args: ReadonlyArray<unknown>; readonly reason?: string },
      sendOptions: { readonly retry: boolean; readonly timeout?: Duration.Duration }
    ) =>
      Effect.gen(function*() {
        // Every request carries an id: it is echoed back, recorded in the audit trail, and is what makes a
        // resend of a mutating request recognisable as the same request.
        const body = requestFrame(request, randomUUID())
        const budget = sendOptions.timeout ?? options.timeout
        const lastProblem = yield* Ref.make<HandshakeFailed | undefined>(undefined)
        const once = Effect.flatMap(framesOf(body), (frames) => attempt(address, frames, credentials, lastProblem))
        const noAnswer = () => new Unreachable({ address, reason: new NoAnswer({ timeout: budget }) })
        // Out of time: a handshake failure seen meanwhile is the likelier story than silence.
        const outOfTime = Effect.flatMap(Ref.get(lastProblem), (problem) =>
          Effect.fail(problem === undefined ? noAnswer() : new Unreachable({ address, reason: problem })))
        const attempts = sendOptions.retry
          ? once.pipe(
            Effect.timeoutOrElse({ duration: Duration.times(budget, RESEND_AFTER_SHARE), orElse: () => Effect.fail(noAnswer()) }),
            Effect.retry({ times: 1, while: isNoAnswer })
          )
          : once
        const raw = yield* attempts.pipe(
          // The resend's own share would end after the budget does, so its NoAnswer is the budget running out too.
          Effect.catchIf(isNoAnswer, () => outOfTime),
          Effect.timeoutOrElse({ duration: budget, orElse: () => outOfTime })
        )
        const decoded = decodeResponse(raw)
        if (Result.isFailure(decoded)) {
          return yield* new BadResponse({ address, reason: new MalformedResponse({ cause: decoded.failure }) })
        }
        return { raw, response: decoded.success }
      })

    const refused = (response: ErrorResponse, raw: string) =>
      new CommandRefused({ code: response.code, reason: response.reason, error: response.error, raw })

    const call = <K extends CommandName>(command: K, args: ArgsOf<K>, callOptions: RequestOptions = {}) =>
      Effect.gen(function*() {
        const spec: Commands[K] = Commands[command]
        const encodedArgs = yield* Schema.encodeEffect(spec.args)(args).pipe(Effect.orDie)
        const { raw, response } = yield* send(
          { command, args: encodedArgs, ...(callOptions.reason === undefined ? {} : { reason: callOptions.reason }) },
          { retry: spec.final !== true, ...(callOptions.timeout === undefined ? {} : { timeout: callOptions.timeout }) }
        )
        if (response.status === "error") return yield* refused(response, raw)
        const data = yield* Schema.decodeUnknownEffect(spec.result)(response.data).pipe(
          Effect.mapError((cause) => new BadResponse({ address, reason: new UnexpectedData({ command, cause }) }))
        )
        return { data, raw }
      })

    return CommandClient.of({ address, send, call })
  }

  static readonly layer = (options: ClientOptions): Layer.Layer<CommandClient> =>
    Layer.succeed(CommandClient, CommandClient.make(options))
}
