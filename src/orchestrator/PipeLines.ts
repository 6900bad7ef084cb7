/**
 * A process agent's output, read from its pipes into lines (LineSplitter) and handed on as it comes, each chunk's
 * lines at once.
 */
import { type Context, Effect } from "effect"
import type { Readable } from "node:stream"
import type { ByteLines } from "../logs/ByteLines.ts"
import { LineSplitter } from "../logs/LineSplitter.ts"

/**
 * Reads one of a process's pipes until it ends, handing `onLines` the lines of each chunk as it arrives, in the
 * stream's own "data" listener. Keeping lines is synchronous (unless an application's LogSink suspends: then the
 * pipe is paused until it is done, so that lines stay in order and the agent is held back rather than its output
 * buffered here). A final unterminated line counts too.
 * Not an Effect Stream over the pipe (NodeStream.fromReadable): its paused-mode reads stop and restart the pipe,
 * and each chunk waited for the reading fiber to wake in a later turn of the event loop: about 30 µs of CPU a chunk
 * of 64 KiB, 65 ms per 100 MB, measured against a plain "data" listener.
 *
 * Once its lines are kept (copied: LogStore, LogSink), a chunk's memory is let go at once, by detaching its
 * buffer. Left to the collector, read buffers add up outside V8's heap, and every ~64 MiB of them V8 runs a full
 * collection of the whole heap: two or three per 100 MB an agent writes, each about 25 ms of the main thread plus
 * the marking threads' work. Only a buffer the chunk has to itself is detached (Node gives each read its own), and
 * only once its lines were handled synchronously.
 */
export const readLines = (
  readable: Readable,
  onLines: (lines: ReadonlyArray<ByteLines>) => Effect.Effect<void>,
  services: Context.Context<never>
): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const splitter = new LineSplitter()
    const run = Effect.runForkWith(services)
    /** Hands `lines` on; says whether that is done already, or the pipe waits for it. */
    const keep = (lines: ReadonlyArray<ByteLines>): boolean => {
      if (lines.length === 0) return true
      const fiber = run(onLines(lines).pipe(Effect.catchCause((cause) => Effect.logError("an agent's output lines could not be kept", cause))))
      if (fiber.pollUnsafe() !== undefined) return true
      readable.pause()
      fiber.addObserver(() => readable.resume())
      return false
    }
    const onData = (chunk: Buffer) => {
      const { buffer } = chunk
      if (keep(splitter.push(chunk)) && buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength) {
        buffer.transfer(0)
      }
    }
    const stop = () => {
      readable.off("data", onData)
      readable.off("end", finish)
      readable.off("error", finish)
      readable.off("close", finish)
    }
    // Its end, an error or a close, whichever comes first; what a read error leaves unread is lost either way.
    function finish() {
      stop()
      keep(splitter.end())
      resume(Effect.void)
    }
    readable.on("data", onData)
    readable.once("end", finish)
    readable.once("error", finish)
    readable.once("close", finish)
    return Effect.sync(() => {
      stop()
      readable.destroy()
    })
  })
