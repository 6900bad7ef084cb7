/**
 * A typed client for the command interface, sharing the protocol's Schemas with the server.
 *
 * Every attempt uses a fresh REQ socket that is closed with linger 0 afterwards (the "Lazy Pirate" pattern): a
 * REQ socket that missed its reply cannot send again, and a socket holding an unsent message would keep the
 * process from exiting. A refused connection fails at once rather than waiting out the timeout. A request that
 * got no answer is sent once more on a fresh socket within the same time budget, with the same id: for a mutating
 * command the server recognises the resend and answers it with the first reply instead of running it twice.
 * A `final` command (`shutdown`) is the exception, sent once: a resend would find the server already stopping.
 *
 * Given CURVE credentials, it encrypts the connection and signs every attempt anew
 * (`security/RequestSignature.ts`): a retry carries a fresh nonce, so the server does not take it for a replay.
 */
import { Context, Duration, Effect, Layer, Result, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as Zmq from "zeromq"
import { type ArgsOf, type CommandName, Commands, type ResultOf } from "../protocol/Commands.ts"
import { type ErrorResponse, Response } from "../protocol/Envelope.ts"
import { formatIssues } from "../protocol/issues.ts"
import { fingerprint } from "../security/keys.ts"
import { type ClientCredentials, makeSigner } from "../security/RequestSignature.ts"

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

/** Share of the time budget a first attempt gets; the retry has the rest. */
const FIRST_ATTEMPT_SHARE = 0.6

const decodeResponse = Schema.decodeUnknownResult(Schema.fromJsonString(Response))

const timedOut = (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && "code" in cause && cause.code === "EAGAIN"

/**
 * How long one receive waits before looking again. ZeroMQ signals readiness on an edge-triggered descriptor that
 * other work on the socket can consume; a single long receive trusting it could report "no answer" for a reply
 * that had arrived (seen in about one in three full test runs before this). A REQ socket may receive again after a
 * receive timed out.
 */
const RECEIVE_RECHECK_MILLIS = 250

/** Receives the reply, looking again every RECEIVE_RECHECK_MILLIS until `deadline`. */
const receiveBy = async (socket: Zmq.Request, deadline: number): Promise<Array<Buffer>> => {
  for (;;) {
    try {
      return await socket.receive()
    } catch (error) {
      if (!timedOut(error) || socket.closed || Date.now() >= deadline) throw error
    }
  }
}

/** Why a handshake failed, from the monitor event libzmq reports it with. */
const handshakeFailure = (
  event: Zmq.EventOfType<"handshake:error:auth" | "handshake:error:protocol" | "handshake:error:other">,
  credentials: ClientCredentials | undefined
): string => {
  if (event.type === "handshake:error:auth") {
    return `the orchestrator refused this client's key (${credentials === undefined ? "none" : fingerprint(credentials.publicKey)}): it is not one of its principals`
  }
  if (event.error.code === "ERR_ZMTP_MECHANISM_MISMATCH") {
    return credentials === undefined
      ? "the orchestrator requires CURVE: give --server-key and --client-key (or ORCHESTRATE_SERVER_KEY and ORCHESTRATE_CLIENT_KEY)"
      : "the orchestrator does not use CURVE: leave out --server-key and --client-key"
  }
  return credentials === undefined
    ? `the handshake failed (${event.error.code}): does the orchestrator require CURVE (--server-key and --client-key)?`
    : `the CURVE handshake failed (${event.error.code}): is --server-key the orchestrator's public key, and does it use CURVE?`
}

/** Handshakes failing without a reason this many times in a row are reported as they are. */
const UNEXPLAINED_HANDSHAKE_FAILURES = 3

/** A fresh REQ socket, with CURVE when given credentials. */
const requestSocket = (timeoutMillis: number, credentials: ClientCredentials | undefined) =>
  new Zmq.Request({
    linger: 0,
    receiveTimeout: Math.min(timeoutMillis, RECEIVE_RECHECK_MILLIS),
    sendTimeout: timeoutMillis,
    ...(credentials === undefined ? {} : {
      curveServerKey: credentials.serverPublicKey,
      curvePublicKey: credentials.publicKey,
      curveSecretKey: credentials.secretKey
    })
  })

/** One request on a fresh REQ socket; the socket is closed whatever happens. */
const attempt = (
  address: string,
  frames: ReadonlyArray<string>,
  timeoutMillis: number,
  credentials: ClientCredentials | undefined
) =>
  Effect.callback<string, Unreachable>((resume) => {
    const socket = requestSocket(timeoutMillis, credentials)
    const deadline = Date.now() + timeoutMillis
    let settled = false
    const settle = (outcome: Effect.Effect<string, Unreachable>) => {
      if (settled) return
      settled = true
      socket.close()
      resume(outcome)
    }
    const unreachable = (detail: string, noAnswer = false) => Effect.fail(new Unreachable({ address, detail, noAnswer }))
    // libzmq retries a refused connection quietly; its monitor says so within a couple of milliseconds. Once
    // connected, a retry means the peer hung up (as a CURVE server does on a failed handshake), not a refusal.
    let connected = false
    socket.events.on("connect", () => {
      connected = true
    })
    socket.events.on("connect:retry", () => {
      if (!connected) settle(unreachable("connection refused: is the orchestrator running with its command interface enabled?"))
    })
    // A refused or failed handshake is retried quietly too, until the timeout; say why at once instead. A peer
    // that drops the connection mid-handshake (EPIPE, ECONNRESET) often does so before its reason arrives, so
    // such an error is only reported if it repeats, or when the time is up.
    let handshakeProblem: string | undefined
    let unexplained = 0
    for (const type of ["handshake:error:auth", "handshake:error:protocol"] as const) {
      socket.events.on(type, (event) => settle(unreachable(handshakeFailure(event, credentials))))
    }
    socket.events.on("handshake:error:other", (event) => {
      handshakeProblem = handshakeFailure(event, credentials)
      if (event.error.code === "ERR_ZMTP_MECHANISM_MISMATCH" || ++unexplained >= UNEXPLAINED_HANDSHAKE_FAILURES) {
        settle(unreachable(handshakeProblem))
      }
    })
    try {
      socket.connect(address)
    } catch (error) {
      settle(unreachable(`cannot connect: ${error instanceof Error ? error.message : String(error)}`))
      return
    }
    socket.send([...frames])
      .then(() => receiveBy(socket, deadline))
      .then(
        ([reply]) => settle(Effect.succeed(reply === undefined ? "" : reply.toString("utf8"))),
        (error: unknown) => {
          if (!timedOut(error)) return settle(unreachable(`request failed: ${error instanceof Error ? error.message : String(error)}`))
          settle(handshakeProblem === undefined
            ? unreachable(`no answer within ${Duration.format(Duration.millis(timeoutMillis))}`, true)
            : unreachable(handshakeProblem))
        }
      )
    return Effect.sync(() => settle(Effect.never))
  })

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
    const framesOf = (body: string) => Effect.sync(() => sign === undefined ? [body] : [body, sign(body, Date.now())])

    const send = (
      request: { readonly command: string; readonly args: ReadonlyArray<unknown>; readonly reason?: string },
      sendOptions: { readonly retry: boolean; readonly timeout?: Duration.Duration }
    ) =>
      Effect.gen(function*() {
        // Every request carries an id: it is echoed back, recorded in the audit trail, and is what makes a
        // resend of a mutating request recognisable as the same request.
        const body = JSON.stringify({ ...request, id: randomUUID() })
        const budget = Duration.toMillis(sendOptions.timeout ?? options.timeout)
        const first = sendOptions.retry ? Math.max(1, Math.round(budget * FIRST_ATTEMPT_SHARE)) : budget
        const once = (timeoutMillis: number) =>
          Effect.flatMap(framesOf(body), (frames) => attempt(address, frames, timeoutMillis, credentials))
        const raw = yield* once(first).pipe(
          Effect.catchIf(
            (error) => sendOptions.retry && error.noAnswer,
            () => once(Math.max(1, budget - first))
          )
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
