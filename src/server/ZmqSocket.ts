/**
 * The live Socket: a ZeroMQ Router. A Router (not a Reply socket) lets many requests be in flight at once, so a
 * slow command never holds up `ps`, and it serves both REQ clients and DEALER clients, with or without the empty
 * delimiter frame, answering each in the shape it asked in.
 */
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Zmq from "zeromq"
import { usesIpv6 } from "../protocol/Address.ts"
import { makeSendQueue, RECEIVE_RECHECK_MILLIS, receiveEach, type ZmqError } from "../zmq/ZmqAdapter.ts"
import {
  AddressInUse,
  BindError,
  bindFailure,
  fileFailure,
  GroupRefused,
  type IncomingRequest,
  Socket,
  SocketError,
  SocketReadError,
  SocketWriteError,
  StaleSocketFile
} from "./Socket.ts"
import { registerZapCheck, type ZapDecision, type ZapRequest } from "./ZapHandler.ts"

export interface ZmqSocketOptions {
  readonly address: string
  /** Frames larger than this are dropped by ZeroMQ itself (the peer is disconnected). */
  readonly maxFrameBytes: number
  /** How long closing waits to flush replies still queued. */
  readonly lingerMillis?: number
  /** CURVE: the server's secret key, and who is admitted at the handshake. */
  readonly curve?: {
    readonly secretKey: string
    readonly admit: (request: ZapRequest, endpoint: string) => Effect.Effect<ZapDecision>
  }
  /** For an ipc:// address: the group allowed to connect besides the owner (mode 0660 instead of 0600). */
  readonly ipcGroupId?: number
}

const EMPTY = new Uint8Array(0)

/** Whether a process is listening on a Unix socket path. */
const isListening = (path: string): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    const probe = Net.connect(path)
    const done = (listening: boolean) => {
      probe.destroy()
      resume(Effect.succeed(listening))
    }
    probe.once("connect", () => done(true))
    probe.once("error", () => done(false))
  })

/**
 * libzmq silently takes over an ipc path that is already bound, orphaning the server behind it. Refuse a path a
 * live process listens on, and remove a stale file left by a dead one.
 */
const claimIpcPath = Effect.fnUntraced(function*(address: string) {
  const path = address.slice("ipc://".length)
  if (!Fs.existsSync(path)) return
  if (yield* isListening(path)) return yield* new BindError({ address, reason: new AddressInUse({}) })
  yield* Effect.try({
    try: () => Fs.unlinkSync(path),
    catch: (cause) => new BindError({ address, reason: new StaleSocketFile({ reason: fileFailure(cause) }) })
  })
})

/**
 * A Router that, on release, closes and then waits until libzmq has torn it down. `close()` alone returns before
 * the I/O thread releases the listening port (an immediate rebind failed 31 times in 200 here), while `unbind()`
 * first can drop a reply still being flushed. The monitor's `end` event comes once both are done: the replies
 * flushed (within linger) and the port free (0 failures in 300, 0.4 ms mean wait).
 *
 * The monitor is started only at release. Left running for the socket's life, it made the Router miss the next
 * incoming message after the JavaScript thread had been busy for a few seconds (about one run in three of the
 * fuzz test); started just before `close()` it still reports `end`.
 */
const acquireRouter = (options: ZmqSocketOptions, zapDomain: string | undefined) => {
  const linger = options.lingerMillis ?? 500
  const curve = options.curve === undefined || zapDomain === undefined
    ? {}
    : { curveServer: true, curveSecretKey: options.curve.secretKey, zapDomain }
  return Effect.acquireRelease(
    Effect.sync(() =>
      new Zmq.Router({
        linger,
        maxMessageSize: options.maxFrameBytes,
        // Replies are never worth blocking the server for: a client that stopped reading loses its reply.
        sendTimeout: 1000,
        receiveTimeout: RECEIVE_RECHECK_MILLIS,
        ipv6: usesIpv6(options.address),
        ...curve
      })
    ),
    (router) =>
      Effect.callback<void>((resume) => {
        router.events.on("end", () => resume(Effect.void))
        router.close()
      }).pipe(Effect.timeoutOption(linger + 1000))
  )
}

/**
 * Binds an ipc:// address so that only the owner (or the owner and `groupId`) can connect. The file is created
 * under a umask that leaves it 0600, so it is never open to others even briefly; only then is it given to the
 * group and opened to it.
 */
const bindIpc = (router: Zmq.Router, address: string, groupId: number | undefined) =>
  Effect.gen(function*() {
    const path = address.slice("ipc://".length)
    yield* Effect.tryPromise({
      try: async () => {
        const umask = process.umask(0o177)
        try {
          await router.bind(address)
        } finally {
          process.umask(umask)
        }
      },
      catch: (cause) => new BindError({ address, reason: bindFailure(cause) })
    })
    if (groupId === undefined) return
    yield* Effect.try({
      try: () => {
        Fs.chownSync(path, -1, groupId)
        Fs.chmodSync(path, 0o660)
      },
      catch: (cause) => new BindError({ address, reason: new GroupRefused({ groupId, reason: fileFailure(cause) }) })
    })
  })

const make = Effect.fnUntraced(function*(options: ZmqSocketOptions) {
  // Registered before the socket exists and released after it closes, so no handshake goes unchecked.
  const zapDomain = options.curve === undefined ? undefined : `effect-orchestrate/${randomUUID()}`
  // Handshakes start only once bound, so a check always sees the bound endpoint (the port for `tcp://...:*`).
  let endpoint = options.address
  const { curve } = options
  if (curve !== undefined && zapDomain !== undefined) {
    yield* registerZapCheck(zapDomain, (request) => curve.admit(request, endpoint)).pipe(
      Effect.mapError((reason) => new BindError({ address: options.address, reason }))
    )
  }
  const router = yield* acquireRouter(options, zapDomain)
  const isIpc = options.address.startsWith("ipc://")
  if (isIpc) {
    yield* claimIpcPath(options.address)
    // libzmq leaves the socket file behind on close.
    yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(options.address.slice("ipc://".length), { force: true })))
    yield* bindIpc(router, options.address, options.ipcGroupId)
  } else {
    yield* Effect.tryPromise({
      try: () => router.bind(options.address),
      catch: (cause) => new BindError({ address: options.address, reason: bindFailure(cause) })
    })
  }
  endpoint = router.lastEndpoint ?? options.address

  // A reply that cannot be sent is lost to its client, which times out; the server goes on. The adapter's reason
  // (closed, or what libzmq said) is the cause: the operation is the SocketError's own.
  const context = yield* Effect.context<never>()
  const logFailure = (error: ZmqError) =>
    Effect.runForkWith(context)(
      Effect.logWarning("could not send a reply", new SocketError({ reason: new SocketWriteError({ cause: error.reason }) }).message)
    )
  const replies = makeSendQueue<Array<Uint8Array | string>>(router, logFailure)
  // Released before the router closes: replies still queued are handed to it, to be flushed within its linger.
  yield* Effect.addFinalizer(() => replies.flushed.pipe(Effect.timeoutOption(1000)))

  const toRequest = (message: Array<Uint8Array>): IncomingRequest => {
    const identity = message[0] ?? EMPTY
    // A REQ client (or a DEALER imitating one) puts an empty delimiter frame before the body.
    const delimited = message[1]?.length === 0
    return {
      frames: message.slice(delimited ? 2 : 1),
      reply: (body) => Effect.sync(() => replies.send(delimited ? [identity, EMPTY, body] : [identity, body]))
    }
  }

  return Socket.of({
    endpoint,
    serve: (onRequest, open) =>
      receiveEach(router, (message) => onRequest(toRequest(message)), open).pipe(
        Effect.mapError((error) => new SocketError({ reason: new SocketReadError({ cause: error.reason }) }))
      )
  })
})

export const layerZmq = (options: ZmqSocketOptions): Layer.Layer<Socket, BindError> => Layer.effect(Socket, make(options))
