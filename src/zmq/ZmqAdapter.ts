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
import { Effect, Fiber, type Latch, Predicate, Schema } from "effect"
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
 * Hands every message on `socket` to `onMessage` as it arrives, until interrupted, reading only while `open` is
 * open. For a server's receive loop: each message costs a zeromq.js promise and nothing else, where a fiber taking
 * one message at a time (`receiver`) paid a fiber suspension and resumption per message. Fails as `receiver` does,
 * and dies with whatever `onMessage` throws.
 *
 * As with `receiver`, the socket must have a receive timeout, and interrupting this leaves one receive pending until
 * the socket closes or its timeout ends; a message it gets then is not handed over.
 */
export const receiveEach = <M>(
  socket: Receiving<M>,
  onMessage: (message: M) => void,
  open: Latch.Latch
): Effect.Effect<never, ZmqError> =>
  Effect.callback<never, ZmqError>((resume) => {
    let stopped = false
    let waiting: Fiber.Fiber<void> | undefined
    const stop = (outcome: Effect.Effect<never, ZmqError>) => {
      stopped = true
      resume(outcome)
    }
    const read = (): void => {
      if (stopped) return
      if (!open.isOpen()) {
        waiting = Effect.runFork(open.await)
        waiting.addObserver(read)
        return
      }
      socket.receive().then(received, failed)
    }
    const received = (message: M): void => {
      if (stopped) return
      try {
        onMessage(message)
      } catch (defect) {
        return stop(Effect.die(defect))
      }
      read()
    }
    const failed = (cause: unknown): void => {
      if (stopped) return
      if (errorCode(cause) === "EAGAIN" && !socket.closed) return read()
      stop(Effect.fail(failure("receive", socket, cause)))
    }
    read()
    return Effect.suspend(() => {
      stopped = true
      return waiting === undefined ? Effect.void : Fiber.interrupt(waiting)
    })
  })

/**
 * Sends `message`. zeromq.js allows one send in flight per socket and throws `EBUSY` at a second one, so a socket
 * that sends from several fibers must serialise its sends (the command server does, with a `SendQueue`).
 */
export const send = <M>(socket: Sending<M>, message: M): Effect.Effect<void, ZmqError> =>
  Effect.tryPromise({ try: () => socket.send(message), catch: (cause) => failure("send", socket, cause) })

/** Messages sent in the order given, one in flight at a time, without the sender waiting for any of them. */
export interface SendQueue<M> {
  /** Hands `message` to the socket now if no send is in flight, or once those before it have gone. */
  readonly send: (message: M) => void
  /** Waits until every message given so far has been handed to the socket, or has failed. */
  readonly flushed: Effect.Effect<void>
}

/**
 * A `SendQueue` on `socket`; `onFailure` hears of every message that could not be sent. For a server answering
 * many requests at once: a lock around each send (the semaphore this replaced) cost every reply a permit and a
 * fiber suspension until zeromq.js's promise settled, while a message handed over here costs an array slot at most.
 */
export const makeSendQueue = <M>(socket: Sending<M>, onFailure: (error: ZmqError) => void): SendQueue<M> => {
  const waiting: Array<M | undefined> = []
  let head = 0
  let inFlight = false
  let onIdle: Array<() => void> = []

  /** Hands the next waiting message to the socket; when none is left, wakes whoever waits for the queue to empty. */
  const pump = (): void => {
    for (;;) {
      const message = waiting[head]
      if (message === undefined) {
        inFlight = false
        waiting.length = 0
        head = 0
        const idle = onIdle
        onIdle = []
        for (const resume of idle) resume()
        return
      }
      waiting[head++] = undefined
      let sent: Promise<void>
      try {
        sent = socket.send(message)
      } catch (cause) {
        // zeromq.js throws at once on a closed socket (EBADF) or a second send in flight (EBUSY).
        onFailure(failure("send", socket, cause))
        continue
      }
      sent.then(pump, (cause: unknown) => {
        onFailure(failure("send", socket, cause))
        pump()
      })
      return
    }
  }

  return {
    send: (message) => {
      waiting.push(message)
      if (inFlight) return
      inFlight = true
      pump()
    },
    flushed: Effect.callback<void>((resume) => {
      if (!inFlight) return resume(Effect.void)
      onIdle.push(() => resume(Effect.void))
    })
  }
}
