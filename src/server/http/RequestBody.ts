/**
 * A request's body, read whole up to a limit: the bytes of a command envelope, or of a REST route's body.
 *
 * Read from Node's request as it arrives, and handed on at its `end`. Effect's `request.arrayBuffer` reads the same
 * bytes, but through a cached Effect run on a fiber of its own for each request, and an end-of-stream watcher that
 * hands them on at the request's `close`, a tick later: 24 µs of CPU per `POST /api/v1/command` `ps`, a tenth of
 * its round trip (bench/README.md, benchmark 15). A request that expects `100 Continue` is still read by effect,
 * which sends that interim answer; none of this interface's own clients send one, curl does for larger bodies.
 *
 * Past the limit it stops collecting, lets the rest flow by unread, as effect does, and says so; the answer then
 * closes the connection (`HttpTransport.ts`).
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { ByteSize, Data, Effect } from "effect"
import { HttpIncomingMessage, type HttpServerRequest } from "effect/http"

/** The body went past the limit; what came after was not kept. */
export class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{}> {}

/** The body could not be read: the client broke off, or sent what Node could not parse. */
export class BodyUnreadable extends Data.TaggedError("BodyUnreadable")<{ readonly cause: unknown }> {
  override get message(): string {
    return this.cause instanceof Error ? this.cause.message : String(this.cause)
  }
}

/** Through effect's reader, which answers `Expect: 100-continue` before it reads. */
const readByEffect = (request: HttpServerRequest.HttpServerRequest, limit: number) =>
  request.arrayBuffer.pipe(
    Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(limit)),
    Effect.mapBoth({
      onFailure: (error) =>
        error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
          ? new BodyTooLarge()
          : new BodyUnreadable({ cause: error }),
      onSuccess: (buffer) => new Uint8Array(buffer)
    })
  )

/** The whole body of `request`, at most `limit` bytes. */
export const readRequestBody = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<Uint8Array, BodyTooLarge | BodyUnreadable> => {
  const source = NodeHttpServerRequest.toIncomingMessage(request)
  // Unless nothing has read from it yet, effect's reader knows better what is left.
  if (request.headers["expect"] !== undefined || source.readableFlowing !== null || source.readableEnded || source.destroyed) {
    return readByEffect(request, limit)
  }
  return Effect.callback<Uint8Array, BodyTooLarge | BodyUnreadable>((resume) => {
    const chunks: Array<Buffer> = []
    let bytes = 0
    const stop = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
    }
    function onData(chunk: Buffer) {
      bytes += chunk.length
      if (bytes <= limit) {
        chunks.push(chunk)
        return
      }
      stop()
      source.resume()
      resume(Effect.fail(new BodyTooLarge()))
    }
    function onEnd() {
      stop()
      // A copy of its own: a chunk is a view of a far larger buffer, which the request's bytes must not keep alive.
      const body = new Uint8Array(bytes)
      let at = 0
      for (const chunk of chunks) {
        body.set(chunk, at)
        at += chunk.length
      }
      resume(Effect.succeed(body))
    }
    function onError(cause: unknown) {
      stop()
      resume(Effect.fail(new BodyUnreadable({ cause })))
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    return Effect.sync(stop)
  })
}
