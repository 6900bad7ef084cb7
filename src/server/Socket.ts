/**
 * Where requests come from: a source of incoming requests, each carrying its own way to answer. The live layer
 * is a ZeroMQ Router (`ZmqSocket.ts`); tests use the in-memory one (`MemorySocket.ts`).
 */
import { Context, type Effect, Schema } from "effect"

export class SocketError extends Schema.TaggedError<SocketError>()("SocketError", {
  operation: Schema.String,
  cause: Schema.Defect()
}) {
  override get message(): string {
    return `socket ${this.operation} failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/** The address could not be bound: in use, invalid, or not permitted. */
export class BindError extends Schema.TaggedError<BindError>()("BindError", {
  address: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot bind the command interface to ${this.address}: ${this.detail}`
  }
}

export interface IncomingRequest {
  /** The message body: normally one frame holding the request JSON. */
  readonly frames: ReadonlyArray<Uint8Array>
  /** Answers this request, in the shape its client expects. */
  readonly reply: (body: string) => Effect.Effect<void, SocketError>
}

export class Socket extends Context.Service<Socket, {
  /** The bound endpoint, with any wildcard port resolved. */
  readonly endpoint: string
  /** Waits for the next request. */
  readonly take: Effect.Effect<IncomingRequest, SocketError>
}>()("effect-orchestrate/Socket") {}
