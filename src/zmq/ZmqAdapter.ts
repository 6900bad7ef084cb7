/**
 * zeromq.js sockets as Effects: receiving without missing a message, sending, and why either failed, for every
 * socket this project opens (the command server's Router, the ZAP handler, the client's REQ sockets, the tests').
 *
 * ZeroMQ signals readiness on an edge-triggered descriptor, and other work on the socket can consume the edge: a
 * receive that trusted it alone could wait for the next message while one is already queued. That happened to about
 * one fuzz run in ten on the server under load, and to one full test run in three in the client. So every socket
 * that receives is opened with `receiveTimeout: RECEIVE_RECHECK_MILLIS`, and `receiver` looks again after a receive
 * that timed out while the socket is still open. A stall is bounded to that interval, at the cost of an idle
 * wake-up per interval.
 */
import { Effect, Predicate, Schema } from "effect"
import { messageOf } from "../messageOf.ts"

/** How long one receive waits before looking again (see the module header). */
export const RECEIVE_RECHECK_MILLIS = 250

/** The error code zeromq.js or Node gave a failure (`EAGAIN`, `EADDRINUSE`, `EHOSTUNREACH`...), if it gave one. */
export const errorCode = (cause: unknown): string | undefined =>
  Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? cause.code : undefined

/** What a thrown value says: zeromq.js and Node throw Errors; anything else is shown as it is. */
export { messageOf }

/** The socket was closed before or while the operation ran: the end of its life rather than a fault. */
export class SocketClosed extends Schema.TaggedError<SocketClosed>()("SocketClosed", { cause: Schema.Defect() }) {
  override get message(): string {
    return "the socket is closed"
  }
}

/** libzmq or zeromq.js refused the operation; the cause's `code` says why (`EFSM`, `EHOSTUNREACH`, `EBUSY`...). */
export class OperationFailed extends Schema.TaggedError<OperationFailed>()("OperationFailed", { cause: Schema.Defect() }) {
  get code(): string | undefined {
    return errorCode(this.cause)
  }

  override get message(): string {
    return messageOf(this.cause)
  }
}

export class ZmqError extends Schema.TaggedError<ZmqError>()("ZmqError", {
  operation: Schema.Literals(["receive", "send"]),
  reason: Schema.Union([SocketClosed, OperationFailed])
}) {
  override get message(): string {
    return `${this.operation} failed: ${this.reason.message}`
  }
}

/** What a socket must offer to be received from. */
export interface Receiving<M> {
  readonly closed: boolean
  receive(): Promise<M>
}

/** What a socket must offer to be sent on. */
export interface Sending<M> {
  readonly closed: boolean
  send(message: M): Promise<void>
}

const failure = (operation: "receive" | "send", socket: { readonly closed: boolean }, cause: unknown) =>
  new ZmqError({
    operation,
    reason: socket.closed ? new SocketClosed({ cause }) : new OperationFailed({ cause })
  })

/**
 * The next message on `socket`, however long it takes, as one reusable Effect. The socket must have been opened
 * with a receive timeout (`RECEIVE_RECHECK_MILLIS`); a receive that timed out is tried again while it is open.
 *
 * zeromq.js allows one receive in flight per socket, and interrupting this leaves that one pending until the socket
 * closes or its timeout ends; every socket here is closed by the scope that interrupts its receiver.
 */
export const receiver = <M>(socket: Receiving<M>): Effect.Effect<M, ZmqError> => {
  const once = Effect.tryPromise({ try: () => socket.receive(), catch: (cause): unknown => cause })
  const loop: Effect.Effect<M, ZmqError> = Effect.catch(once, (cause) =>
    errorCode(cause) === "EAGAIN" && !socket.closed ? loop : Effect.fail(failure("receive", socket, cause)))
  return loop
}

/**
 * Sends `message`. zeromq.js allows one send in flight per socket and throws `EBUSY` at a second one, so a socket
 * that sends from several fibers must serialise its sends (the command server does, with a semaphore).
 */
export const send = <M>(socket: Sending<M>, message: M): Effect.Effect<void, ZmqError> =>
  Effect.tryPromise({ try: () => socket.send(message), catch: (cause) => failure("send", socket, cause) })
