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
 * until the time is up.
 *
 * Given CURVE credentials, it encrypts the connection and signs every attempt anew
 * (`security/RequestSignature.ts`): a retry carries a fresh nonce, so the server does not take it for a replay.
 */
import { Clock, Context, Duration, Effect, Layer, type Option, Queue, Ref, Result, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as Zmq from "zeromq"
import { usesIpv6 } from "../protocol/Address.ts"
import { type ArgsOf, type CommandName, Commands, type ResultOf } from "../protocol/Commands.ts"
import { type ErrorResponse, Response } from "../protocol/Envelope.ts"
import { formatIssues } from "../protocol/issues.ts"
import { fingerprint } from "../security/keys.ts"
import { type ClientCredentials, makeSigner } from "../security/RequestSignature.ts"
import { serverMechanism } from "./ZmtpGreeting.ts"

/** No answer: nothing listens at the address, or the orchestrator did not reply in time. */
export class Unreachable extends Schema.TaggedError<Unreachable>()("Unreachable", {
  address: Schema.String,
  detail: Schema.String,
  /** Nothing came back in time, where a resend might fare better; otherwise the connection itself failed. */
  noAnswer: Schema.Boolean
}) {
  override get message(): string {
    return `${this.detail} (${this.address})`
  }
}

/** The reply was not a response this client understands. */
export class BadResponse extends Schema.TaggedError<BadResponse>()("BadResponse", {
  address: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `unexpected response from ${this.address}: ${this.detail}`
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
    return `${this.error} (${this.code})`
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

/** The first attempt got no answer within its share of the budget: worth sending again. */
class NoAnswerYet extends Schema.TaggedError<NoAnswerYet>()("NoAnswerYet", {}) {}

/** Share of the budget after which a request that got no answer is resent; the resend has the rest. */
const RESEND_AFTER_SHARE = 0.6

const decodeResponse = Schema.decodeUnknownResult(Schema.fromJsonString(Response))

const timedOut = (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && "code" in cause && cause.code === "EAGAIN"

const describe = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/**
 * How long one receive waits before looking again. ZeroMQ signals readiness on an edge-triggered descriptor that
 * other work on the socket can consume; a single long receive trusting it could report "no answer" for a reply
 * that had arrived (seen in about one in three full test runs before this). A REQ socket may receive again after a
 * receive timed out.
 */
const RECEIVE_RECHECK_MILLIS = 250

/** Handshakes failing without a reason this many times in a row are reported as they are. */
const UNEXPLAINED_HANDSHAKE_FAILURES = 3

const CURVE_FLAGS = "--server-key and --client-key (or ORCHESTRATE_SERVER_KEY and ORCHESTRATE_CLIENT_KEY)"

/** What each way a handshake can fail means for this client. */
const why = {
  refusedKey: (credentials: ClientCredentials | undefined) =>
    `the orchestrator refused this client's key (${credentials === undefined ? "none" : fingerprint(credentials.publicKey)}): it is not one of its principals`,
  mechanismMismatch: (credentials: ClientCredentials | undefined) =>
    credentials === undefined
      ? `the orchestrator requires CURVE: give ${CURVE_FLAGS}`
      : "the orchestrator does not use CURVE: leave out --server-key and --client-key",
  wrongServerKey: (code: string) => `the CURVE handshake failed (${code}): is --server-key the orchestrator's public key?`,
  unexplained: (code: string, credentials: ClientCredentials | undefined) =>
    credentials === undefined
      ? `the handshake failed (${code}): does the orchestrator require CURVE (--server-key and --client-key)?`
      : `the CURVE handshake failed (${code}): is --server-key the orchestrator's public key, and does it use CURVE?`
}

/**
 * Why a server hung up during the handshake, given the mechanism its greeting offers: a plain client at a CURVE
 * server, a CURVE client at a plain one, or (CURVE on both sides, where a client key no principal has would have
 * been refused as such) a server key that is not the server's.
 */
const explainHangUp = (code: string, offered: Option.Option<string>, credentials: ClientCredentials | undefined) => {
  if (offered._tag === "None") return undefined
  if (offered.value === "CURVE") return credentials === undefined ? why.mechanismMismatch(credentials) : why.wrongServerKey(code)
  return credentials === undefined ? undefined : why.mechanismMismatch(credentials)
}

const requestSocket = (address: string, credentials: ClientCredentials | undefined) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      new Zmq.Request({
        linger: 0,
        receiveTimeout: RECEIVE_RECHECK_MILLIS,
        ipv6: usesIpv6(address),
        ...(credentials === undefined ? {} : {
          curveServerKey: credentials.serverPublicKey,
          curvePublicKey: credentials.publicKey,
          curveSecretKey: credentials.secretKey
        })
      })
    ),
    (socket) => Effect.sync(() => socket.close())
  )

const WATCHED = ["connect", "connect:retry", "handshake:error:auth", "handshake:error:protocol", "handshake:error:other"] as const
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
  lastProblem: Ref.Ref<string | undefined>
): Effect.Effect<never, Unreachable> =>
  Effect.gen(function*() {
    const unreachable = (detail: string) => new Unreachable({ address, detail, noAnswer: false })
    let connected = false
    let unexplained = 0
    let offered: Option.Option<string> | undefined
    for (;;) {
      const event = yield* Queue.take(events)
      if (event.type === "connect") {
        connected = true
      } else if (event.type === "connect:retry") {
        // libzmq retries a refused connection quietly; its monitor says so within a couple of milliseconds. Once
        // connected, a retry means the peer hung up (as a CURVE server does on a failed handshake), not a refusal.
        if (!connected) return yield* unreachable("connection refused: is the orchestrator running with its command interface enabled?")
      } else if (event.type === "handshake:error:auth") {
        return yield* unreachable(why.refusedKey(credentials))
      } else if (event.error.code === "ERR_ZMTP_MECHANISM_MISMATCH") {
        return yield* unreachable(why.mechanismMismatch(credentials))
      } else if (event.type === "handshake:error:protocol") {
        return yield* unreachable(why.unexplained(event.error.code, credentials))
      } else {
        // The peer hung up (EPIPE, ECONNRESET), often before its reason arrived: ask its greeting, once.
        offered ??= yield* serverMechanism(address)
        const explained = explainHangUp(event.error.code, offered, credentials)
        if (explained !== undefined) return yield* unreachable(explained)
        const problem = why.unexplained(event.error.code, credentials)
        yield* Ref.set(lastProblem, problem)
        if (++unexplained >= UNEXPLAINED_HANDSHAKE_FAILURES) return yield* unreachable(problem)
      }
    }
  })

/** Receives the reply, looking again every RECEIVE_RECHECK_MILLIS; bounded by the caller's deadline. */
const receiveReply = (socket: Zmq.Request): Effect.Effect<Array<Buffer>, unknown> =>
  Effect.tryPromise({ try: () => socket.receive(), catch: (cause): unknown => cause }).pipe(
    Effect.catch((cause) => timedOut(cause) && !socket.closed ? Effect.suspend(() => receiveReply(socket)) : Effect.fail(cause))
  )

/** One request on a fresh REQ socket, closed when the attempt ends, however it ends. */
const attempt = (
  address: string,
  frames: ReadonlyArray<string>,
  credentials: ClientCredentials | undefined,
  lastProblem: Ref.Ref<string | undefined>
): Effect.Effect<string, Unreachable> =>
  Effect.scoped(Effect.gen(function*() {
    const socket = yield* requestSocket(address, credentials)
    const events = yield* connectionEvents(socket)
    yield* Effect.try({
      try: () => socket.connect(address),
      catch: (cause) => new Unreachable({ address, detail: `cannot connect: ${describe(cause)}`, noAnswer: false })
    })
    const exchange = Effect.tryPromise({ try: () => socket.send([...frames]), catch: (cause): unknown => cause }).pipe(
      Effect.andThen(receiveReply(socket)),
      Effect.map(([reply]) => reply === undefined ? "" : reply.toString("utf8")),
      Effect.mapError((cause) => new Unreachable({ address, detail: `request failed: ${describe(cause)}`, noAnswer: false }))
    )
    return yield* Effect.raceFirst(exchange, diagnose(events, address, credentials, lastProblem))
  }))

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
        const body = JSON.stringify({ ...request, id: randomUUID() })
        const budget = sendOptions.timeout ?? options.timeout
        const lastProblem = yield* Ref.make<string | undefined>(undefined)
        const once = Effect.flatMap(framesOf(body), (frames) => attempt(address, frames, credentials, lastProblem))
        const outOfTime = Effect.flatMap(Ref.get(lastProblem), (problem) =>
          Effect.fail(
            problem === undefined
              ? new Unreachable({ address, detail: `no answer within ${Duration.format(budget)}`, noAnswer: true })
              : new Unreachable({ address, detail: problem, noAnswer: false })
          ))
        const attempts = sendOptions.retry
          ? once.pipe(
            Effect.timeoutOrElse({ duration: Duration.times(budget, RESEND_AFTER_SHARE), orElse: () => Effect.fail(new NoAnswerYet()) }),
            Effect.retry({ times: 1, while: (error) => error._tag === "NoAnswerYet" })
          )
          : once
        const raw = yield* attempts.pipe(
          Effect.timeoutOrElse({ duration: budget, orElse: () => outOfTime }),
          // The resend's own share would end after the budget does, so this is the budget running out too.
          Effect.catchTag("NoAnswerYet", () => outOfTime)
        )
        const decoded = decodeResponse(raw)
        if (Result.isFailure(decoded)) {
          return yield* new BadResponse({ address, detail: formatIssues(decoded.failure) })
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
          Effect.mapError((error) => new BadResponse({ address, detail: formatIssues(error, "data") }))
        )
        return { data, raw }
      })

    return CommandClient.of({ address, send, call })
  }

  static readonly layer = (options: ClientOptions): Layer.Layer<CommandClient> =>
    Layer.succeed(CommandClient, CommandClient.make(options))
}
