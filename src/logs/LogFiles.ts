/**
 * Agents' lines appended to files, one per agent: `DIR/<agent>.log`, one line each as
 * `<ISO-8601 time> <stream> <line>`, rotated by size (`<agent>.log.1` is the newest rotated file, up to
 * `<agent>.log.<keep>`). Files are created 0640 and the directory 0750.
 *
 * Lines are formatted straight from the bytes they arrived in into a buffer per agent (LineBuffer; the time and
 * stream prefix made once per batch, not per line), and written every FLUSH_MILLIS (or at once past FLUSH_BYTES),
 * with one write per agent: an agent writing a million lines costs a few thousand writes, not a million. Every line
 * in the buffer ends with the one "\n" it has, so line boundaries (for rotation, and for counting what a failed
 * write lost) are found in the bytes themselves rather than kept per line. This uses Node's synchronous file calls
 * inside `Effect.sync`, not the platform's FileSystem service: a flush is a handful of microseconds of kernel work
 * that must not interleave with another, and rotation is rename, rename, open. A line is lost only if the process
 * dies within FLUSH_MILLIS of it; the scope's finalizer writes what is buffered.
 *
 * Writing must never stop an agent or the orchestrator: a full disk or an unwritable directory is logged once per
 * agent, and every line that could not be written is counted (`failures`). A write can also take only part of the
 * data without failing (a file-size limit, a disk filling up): the rest is written again until all of it is on disk
 * or a write fails, and only then are the lines counted as written.
 */
import { Context, Effect, Layer, Schedule, type Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { messageOf } from "../messageOf.ts"
import { LineBuffer } from "./LineBuffer.ts"
import type { LogBatch } from "./LogStore.ts"

const FLUSH_MILLIS = 100
const FLUSH_BYTES = 64 * 1024

export interface LogFilesConfig {
  readonly dir: string
  /** A file is rotated before a line would take it past this size. */
  readonly maxBytes: number
  /** Rotated files kept; the oldest beyond this are deleted. */
  readonly keep: number
}

/** A file name for an agent: its name, with anything that is not safe in a path replaced. */
export const logFileName = (agent: string): string => `${agent.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\./, "_")}.log`

const NEWLINE = 0x0a

interface AgentFile {
  readonly path: string
  fd: number | undefined
  size: number
  /** Formatted lines not written yet, every one ending with "\n". */
  readonly pending: LineBuffer
  /** Set once a failure has been logged, so that a full disk logs one line, not one per flush. */
  failed: boolean
}

/** How many lines (each ending with "\n") `bytes[from, to)` holds. */
const countLines = (bytes: Buffer, from: number, to: number): number => {
  let count = 0
  for (let index = bytes.indexOf(NEWLINE, from); index !== -1 && index < to; index = bytes.indexOf(NEWLINE, index + 1)) count++
  return count
}

/**
 * Writes all of `data` to `fd` with `write` (Node's `writeSync`), as many times as it takes: a write may take only
 * part of it. Returns how many bytes are on disk; fewer than `data.length` only when a write took none (then
 * `error` says why) or threw.
 */
export const writeFully = (
  write: (fd: number, data: Uint8Array, offset: number, length: number) => number,
  fd: number,
  data: Uint8Array
): { readonly written: number; readonly error?: unknown } => {
  let written = 0
  try {
    while (written < data.length) {
      const count = write(fd, data, written, data.length - written)
      if (count <= 0) return { written, error: new Error(`a write of ${data.length - written} bytes wrote nothing`) }
      written += count
    }
    return { written }
  } catch (error) {
    return { written, error }
  }
}

export class LogFiles extends Context.Service<LogFiles, {
  /** A LogSink: appends each batch's lines to its agent's file, as `<ISO-8601 time> <stream> <line>`. */
  readonly write: (batches: ReadonlyArray<LogBatch>) => Effect.Effect<void>
  /** Writes what is buffered now, as the scope's end does; lines written afterwards are buffered again. */
  readonly flush: Effect.Effect<void>
  /** Lines that could not be written (full disk, unwritable directory), since start. */
  readonly failures: Effect.Effect<number>
  readonly dir: string
}>()("effect-orchestrate/LogFiles") {
  static readonly make = (config: LogFilesConfig): Effect.Effect<LogFiles["Service"], never, Scope.Scope> =>
    Effect.gen(function*() {
      const files = new Map<string, AgentFile>()
      let failures = 0
      const warnings: Array<string> = []

      const fail = (file: AgentFile, lines: number, cause: unknown) => {
        failures += lines
        if (file.failed) return
        file.failed = true
        warnings.push(`cannot write agent log ${file.path}: ${messageOf(cause)}; lines that cannot be written are counted and dropped`)
      }

      const open = (file: AgentFile) => {
        Fs.mkdirSync(config.dir, { recursive: true, mode: 0o750 })
        const fd = Fs.openSync(file.path, "a", 0o640)
        file.fd = fd
        file.size = Fs.fstatSync(fd).size
      }

      const rotate = (file: AgentFile) => {
        if (file.fd !== undefined) Fs.closeSync(file.fd)
        file.fd = undefined
        for (let index = config.keep - 1; index >= 1; index--) {
          if (Fs.existsSync(`${file.path}.${index}`)) Fs.renameSync(`${file.path}.${index}`, `${file.path}.${index + 1}`)
        }
        if (config.keep > 0) Fs.renameSync(file.path, `${file.path}.1`)
        else Fs.rmSync(file.path, { force: true })
        open(file)
      }

      /** Writes what an agent has buffered, rotating as the size limit comes. */
      const flushFile = (file: AgentFile) => {
        const pending = file.pending.bytes
        const total = file.pending.length
        if (total === 0) return
        // Bytes wholly on disk so far: on a failure, the lines after them are what is lost.
        let flushed = 0
        try {
          if (file.fd === undefined) open(file)
          const write = (to: number) => {
            if (file.fd === undefined) return
            const { written, error } = writeFully(Fs.writeSync, file.fd, pending.subarray(flushed, to))
            file.size += written
            flushed += written
            if (error !== undefined) throw error
          }
          while (flushed < total) {
            const room = config.maxBytes - file.size
            if (total - flushed <= room) {
              write(total)
              break
            }
            // The lines that fit before the limit; an empty file takes one line however long, or nothing would.
            let upTo = room > 0 ? pending.lastIndexOf(NEWLINE, flushed + room - 1) + 1 : 0
            if (upTo <= flushed && file.size === 0) upTo = pending.indexOf(NEWLINE, flushed) + 1
            if (upTo > flushed) write(upTo)
            rotate(file)
          }
          file.failed = false
        } catch (cause) {
          // Lost: every line whose "\n" is not on disk, one cut short by the failure among them.
          fail(file, countLines(pending, flushed, total), cause)
          if (file.fd !== undefined) {
            try {
              Fs.closeSync(file.fd)
            } catch {
              // Closing a broken descriptor can fail too; it is gone either way.
            }
          }
          file.fd = undefined
        }
        // A burst's large buffer is not kept for an agent that may stay quiet.
        file.pending.clear(4 * FLUSH_BYTES)
      }

      /** Logs the failures noted since last time (`fail` is called where no Effect can run). */
      const logWarnings = Effect.suspend(() => {
        const logged = warnings.splice(0)
        return logged.length === 0 ? Effect.void : Effect.forEach(logged, (warning) => Effect.logWarning(warning), { discard: true })
      })

      const flushAll = Effect.suspend(() => {
        for (const file of files.values()) flushFile(file)
        return logWarnings
      })

      yield* Effect.forkScoped(Effect.repeat(flushAll, Schedule.spaced(FLUSH_MILLIS)))
      yield* Effect.addFinalizer(() =>
        Effect.andThen(flushAll, Effect.sync(() => {
          for (const file of files.values()) {
            if (file.fd !== undefined) Fs.closeSync(file.fd)
            file.fd = undefined
          }
        }))
      )

      return {
        dir: config.dir,
        flush: flushAll,
        write: (batches) =>
          Effect.suspend(() => {
            // Batches of the same millisecond share their time: formatted once.
            let lastTimestamp = Number.NaN
            let time = ""
            for (const batch of batches) {
              let file = files.get(batch.agent)
              if (file === undefined) {
                file = { path: Path.join(config.dir, logFileName(batch.agent)), fd: undefined, size: 0, pending: new LineBuffer(), failed: false }
                files.set(batch.agent, file)
              }
              if (batch.timestamp !== lastTimestamp) {
                lastTimestamp = batch.timestamp
                time = new Date(batch.timestamp).toISOString()
              }
              file.pending.appendPrefixed(batch.lines, `${time} ${batch.stream} `)
              if (file.pending.length >= FLUSH_BYTES) flushFile(file)
            }
            return logWarnings
          }),
        failures: Effect.sync(() => failures)
      }
    })

  static readonly layer = (config: LogFilesConfig): Layer.Layer<LogFiles> => Layer.effect(LogFiles, LogFiles.make(config))
}
