/**
 * Where a process agent's output comes in. Each of its streams is one end of a pair of connected UNIX stream
 * sockets made here, rather than of the pair Node's spawn makes (the child sees the same thing either way: libuv
 * gives it a socketpair too). What that buys is the end this process reads: it reads into buffers of its own
 * (`onread`), reused from read to read and grown to what the agent writes (up to 256 KiB a read), instead of a
 * fresh 64 KiB buffer for every read, handed through a Readable stream. For an agent writing 100 MB that was a
 * third of the orchestrator's CPU (benchmark 8, bench/README.md).
 *
 * The pair is made through a listening socket in a private directory (mkdtemp: 0700, so only this user can
 * connect), which is gone as soon as both ends are connected. Where that cannot be done (no writable temporary
 * directory, or a path too long for a socket), the agent gets Node's pipes, read as a stream: `readableSource`.
 */
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Readable } from "node:stream"

/**
 * A stream of a child's output, as `readLines` reads it. `onChunk` gets each chunk read, in order, and says whether
 * it is done with the chunk's bytes (they may then be reused or let go). False keeps them as they are, and nothing
 * more is read until `resume`; a chunk that was read meanwhile is still given, and may be kept too.
 */
export interface OutputSource {
  readonly start: (onChunk: (chunk: Buffer) => boolean, onEnd: () => void) => void
  readonly resume: () => void
  readonly destroy: () => void
}

/**
 * Calls `onEnd` on the stream's end, an error or a close, whichever comes first (what a read error leaves unread is
 * lost either way), after `detach`. Returns what stops listening, `detach` included.
 */
const onEnded = (stream: Readable, onEnd: () => void, detach = () => {}): () => void => {
  const finish = () => {
    stop()
    onEnd()
  }
  const stop = () => {
    detach()
    stream.off("end", finish)
    stream.off("error", finish)
    stream.off("close", finish)
  }
  stream.once("end", finish)
  stream.once("error", finish)
  stream.once("close", finish)
  return stop
}

/**
 * Node's own pipe, read as a stream. Each chunk has a buffer of its own; once done with, it is let go at once
 * (detached): left to the collector, read buffers add up outside V8's heap, and every ~64 MiB of them V8 runs a full
 * collection of the whole heap (about 25 ms of the main thread each, plus the marking threads' work). Node resumes a
 * child's paused stdout by itself once the child has exited, so chunks may still come after a pause.
 */
export const readableSource = (readable: Readable): OutputSource => {
  let stop = () => {}
  return {
    start: (onChunk, onEnd) => {
      const onData = (chunk: Buffer) => {
        if (!onChunk(chunk)) {
          readable.pause()
          return
        }
        const { buffer } = chunk
        if (buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength) buffer.transfer(0)
      }
      stop = onEnded(readable, onEnd, () => readable.off("data", onData))
      readable.on("data", onData)
    },
    resume: () => readable.resume(),
    destroy: () => {
      stop()
      readable.destroy()
    }
  }
}

/** The first read buffer, and the largest: an idle agent keeps 1 KiB a stream, one writing a flood 256 KiB. */
const SMALLEST_READ = 1024
const LARGEST_READ = 256 * 1024

/** The end of a pair this process reads, into a buffer that is reused unless the last chunk in it was kept. */
class SocketSource implements OutputSource {
  readonly socket: Net.Socket
  private buffer = Buffer.allocUnsafe(SMALLEST_READ)
  /** How much the last read took, and whether its chunk is still in use. */
  private lastRead = 0
  private kept = false
  private onChunk: (chunk: Buffer) => boolean = () => true
  private stop = () => {}

  constructor(path: string) {
    this.socket = Net.connect({ path, onread: { buffer: () => this.nextBuffer(), callback: (length) => this.read(length) } })
    // Nothing is read until `start`: the child writes into the socket meanwhile.
    this.socket.pause()
    // An error ends the socket with a "close", which `start` listens for.
    this.socket.on("error", () => {})
  }

  /**
   * The buffer for the next read: the same one, unless the last chunk in it was kept; four times larger after a read
   * that filled it, four times smaller after one that took a sixteenth of it.
   */
  private nextBuffer(): Buffer {
    const size = this.buffer.length
    const wanted = this.lastRead === size ? Math.min(LARGEST_READ, 4 * size) : this.lastRead < size / 16 ? Math.max(SMALLEST_READ, size / 4) : size
    if (this.kept || wanted !== size) this.buffer = Buffer.allocUnsafe(wanted)
    this.kept = false
    return this.buffer
  }

  private read(length: number): boolean {
    this.lastRead = length
    const done = this.onChunk(this.buffer.subarray(0, length))
    this.kept = !done
    return done
  }

  start(onChunk: (chunk: Buffer) => boolean, onEnd: () => void): void {
    this.onChunk = onChunk
    this.stop = onEnded(this.socket, onEnd)
    this.socket.resume()
  }

  resume(): void {
    this.socket.resume()
  }

  destroy(): void {
    this.stop()
    this.socket.destroy()
  }
}

/** A connected pair: `child` goes to spawn's stdio (and is closed here once spawned), `source` is read here. */
export interface OutputPair {
  readonly child: Net.Socket
  readonly source: OutputSource
}

/** Makes `count` pairs, one after the other, through a listening socket that is gone once they are made. */
export const makeOutputPairs = (count: number): Effect.Effect<ReadonlyArray<OutputPair>, Error> =>
  Effect.callback<ReadonlyArray<OutputPair>, Error>((resume) => {
    let dir: string
    try {
      dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "orchestrate-"))
    } catch (cause) {
      resume(Effect.fail(cause instanceof Error ? cause : new Error(String(cause))))
      return
    }
    const path = Path.join(dir, "output")
    const server = Net.createServer()
    const made: Array<OutputPair> = []
    let pending: SocketSource | undefined
    let settled = false
    const cleanUp = () => {
      server.close()
      Fs.rmSync(dir, { recursive: true, force: true })
    }
    const fail = (cause: Error) => {
      if (settled) return
      settled = true
      cleanUp()
      pending?.destroy()
      for (const pair of made) {
        pair.child.destroy()
        pair.source.destroy()
      }
      resume(Effect.fail(cause))
    }
    const next = () => {
      if (made.length === count) {
        settled = true
        cleanUp()
        resume(Effect.succeed(made))
        return
      }
      const source = new SocketSource(path)
      pending = source
      source.socket.once("error", fail)
      // One connection at a time: the one accepted next is this one.
      server.once("connection", (child) => {
        source.socket.off("error", fail)
        child.on("error", () => {})
        pending = undefined
        made.push({ child, source })
        next()
      })
    }
    server.once("error", fail)
    server.listen(path, next)
    return Effect.sync(() => fail(new Error("interrupted")))
  })
