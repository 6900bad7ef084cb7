/**
 * Where requests come from: a source of incoming requests, each carrying its own way to answer. The live layer
 * is a ZeroMQ Router (`ZmqSocket.ts`); tests use the in-memory one (`MemorySocket.ts`). Also the errors a socket
 * fails with, and why an address could not be bound, each as a reason with its cause.
 */
import { Context, type Effect, type Latch, Schema } from "effect"
import type { ErrorCode, ErrorReason } from "../protocol/Envelope.ts"
import { errorCode, messageOf } from "../zmq/ZmqAdapter.ts"

/** A request could not be read from the socket. */
export class SocketReadError extends Schema.TaggedError<SocketReadError>()("SocketReadError", { cause: Schema.Defect() }) {
  override get message(): string {
    return `socket receive failed: ${messageOf(this.cause)}`
  }
}

/** A reply could not be handed to the socket (logged by the socket, which sends replies on its own time). */
export class SocketWriteError extends Schema.TaggedError<SocketWriteError>()("SocketWriteError", { cause: Schema.Defect() }) {
  override get message(): string {
    return `socket send failed: ${messageOf(this.cause)}`
  }
}

export class SocketError extends Schema.TaggedError<SocketError>()("SocketError", {
  reason: Schema.Union([SocketReadError, SocketWriteError])
}) {
  override get message(): string {
    return this.reason.message
  }
}

/** Another socket holds the address: a live server on the ipc path, or a tcp port in use. */
export class AddressInUse extends Schema.TaggedError<AddressInUse>()("AddressInUse", { cause: Schema.optional(Schema.Defect()) }) {
  override get message(): string {
    return "the address is already in use (is another orchestrator running?)"
  }
}

export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", { cause: Schema.Defect() }) {
  override get message(): string {
    return "permission denied"
  }
}

/** No local interface has the address (EADDRNOTAVAIL), or IPv6 is off (ENODEV). */
export class AddressNotAvailable extends Schema.TaggedError<AddressNotAvailable>()("AddressNotAvailable", { cause: Schema.Defect() }) {
  override get message(): string {
    return "no such local address (for an IPv6 address such as [::1], IPv6 must be enabled on this machine)"
  }
}

export class UnsupportedTransport extends Schema.TaggedError<UnsupportedTransport>()("UnsupportedTransport", { cause: Schema.Defect() }) {
  override get message(): string {
    return "unsupported transport"
  }
}

export class IpcPathTooLong extends Schema.TaggedError<IpcPathTooLong>()("IpcPathTooLong", { cause: Schema.Defect() }) {
  override get message(): string {
    return "the ipc path is too long (about 107 characters at most)"
  }
}

/** A failure of the bind itself that has no reason of its own above. */
export class BindFailed extends Schema.TaggedError<BindFailed>()("BindFailed", { cause: Schema.Defect() }) {
  override get message(): string {
    return messageOf(this.cause)
  }
}

/** Why a system call refused the address: the errno codes people meet have their own reason. */
export const bindFailure = (cause: unknown): AddressInUse | PermissionDenied | AddressNotAvailable | UnsupportedTransport | IpcPathTooLong | BindFailed => {
  switch (errorCode(cause)) {
    case "EADDRINUSE":
      return new AddressInUse({ cause })
    case "EACCES":
    case "EPERM":
      return new PermissionDenied({ cause })
    case "EADDRNOTAVAIL":
    case "ENODEV":
      return new AddressNotAvailable({ cause })
    case "EPROTONOSUPPORT":
      return new UnsupportedTransport({ cause })
    case "ENAMETOOLONG":
      return new IpcPathTooLong({ cause })
    default:
      return new BindFailed({ cause })
  }
}

/** Why a file operation on the socket file failed: permission, or as the system said. */
export const fileFailure = (cause: unknown): PermissionDenied | BindFailed =>
  errorCode(cause) === "EACCES" || errorCode(cause) === "EPERM" ? new PermissionDenied({ cause }) : new BindFailed({ cause })

/** A dead server's socket file is in the way, and could not be removed. */
export class StaleSocketFile extends Schema.TaggedError<StaleSocketFile>()("StaleSocketFile", {
  reason: Schema.Union([PermissionDenied, BindFailed])
}) {
  override get message(): string {
    return `cannot remove the stale socket file: ${this.reason.message}`
  }
}

/** `ipcGroup` names no group in /etc/group. */
export class UnknownGroup extends Schema.TaggedError<UnknownGroup>()("UnknownGroup", { group: Schema.String }) {
  override get message(): string {
    return `ipcGroup: no such group '${this.group}'`
  }
}

/** The socket file could not be given to `ipcGroup` (this user is not in it, say). */
export class GroupRefused extends Schema.TaggedError<GroupRefused>()("GroupRefused", {
  groupId: Schema.Number,
  reason: Schema.Union([PermissionDenied, BindFailed])
}) {
  override get message(): string {
    return `cannot give the socket file to group ${this.groupId} (ipcGroup): ${this.reason.message}`
  }
}

/** A network-reachable address without CURVE, and the config does not accept the risk. */
export class NetworkExposed extends Schema.TaggedError<NetworkExposed>()("NetworkExposed", {}) {
  override get message(): string {
    return "it is reachable from the network and CURVE is off, so anyone who can connect could run commands. " +
      "Enable CURVE: create a server key with 'orchestrate keygen server.key', then set commandInterface.curve to " +
      `{"keyFile": "server.key", "principals": [{"name": "ops", "publicKey": "<a client's public key>", "role": "all"}]} ` +
      "(see the README's Security section). Or bind a loopback or ipc:// address, or set " +
      "commandInterface.allowInsecureNetwork to true to accept the risk"
  }
}

/** The process-wide CURVE authentication (ZAP) handler could not be bound, most likely because something else is. */
export class ZapUnavailable extends Schema.TaggedError<ZapUnavailable>()("ZapUnavailable", { cause: Schema.Defect() }) {
  override get message(): string {
    return `cannot start the CURVE authentication (ZAP) handler: ${messageOf(this.cause)} (does something else in this process handle ZAP?)`
  }
}

export const BindErrorReason = Schema.Union([
  AddressInUse,
  PermissionDenied,
  AddressNotAvailable,
  UnsupportedTransport,
  IpcPathTooLong,
  BindFailed,
  StaleSocketFile,
  UnknownGroup,
  GroupRefused,
  NetworkExposed,
  ZapUnavailable
])
export type BindErrorReason = typeof BindErrorReason.Type

/** The address could not be bound, and why. */
export class BindError extends Schema.TaggedError<BindError>()("BindError", {
  address: Schema.String,
  reason: BindErrorReason
}) {
  override get message(): string {
    return `cannot bind the command interface to ${this.address}: ${this.reason.message}`
  }
}

/**
 * Where a request came from, for the audit record, when its transport knows (HTTP); the ZeroMQ Router does not
 * learn a message's peer, and its records have never had these fields.
 */
export interface RequestOrigin {
  readonly transport: "http"
  /** The peer's IP address. */
  readonly peerAddress: string | null
}

export interface IncomingRequest {
  /** The message body: normally one frame holding the request JSON. */
  readonly frames: ReadonlyArray<Uint8Array>
  /**
   * Answers this request, in the shape its client expects. It does not wait for the answer to be sent: the socket
   * sends answers in the order given and logs one it could not send (its client then times out). The pipeline
   * also gives the answer's code and error reason, for a transport that shows them beside the body (HTTP's status).
   */
  readonly reply: (body: string, code: 200 | ErrorCode, reason: ErrorReason | undefined) => Effect.Effect<void>
  readonly origin?: RequestOrigin
}

export class Socket extends Context.Service<Socket, {
  /** The bound endpoint, with any wildcard port resolved. */
  readonly endpoint: string
  /**
   * Hands each request to `onRequest` as it arrives, until interrupted, reading only while `open` is open: while it
   * is closed, requests wait in the transport's own queues, which push back on clients instead of memory growing.
   * Fails when reading fails; serving again goes on from there.
   */
  readonly serve: (onRequest: (request: IncomingRequest) => void, open: Latch.Latch) => Effect.Effect<never, SocketError>
}>()("effect-orchestrate/Socket") {}
