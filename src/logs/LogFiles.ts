/**
 * Agents' lines appended to files, one per agent: `DIR/<agent>.log`, one line each as
 * `<ISO-8601 time> <stream> <line>`, rotated by size (`<agent>.log.1` is the newest rotated file, up to
 * `<agent>.log.<keep>`). Files are created 0640 and the directory 0750.
 *
 * Lines are formatted straight from the bytes they arrived in (the time and stream prefix made once per batch, not
 * per line) into a buffer per agent, and written behind the main thread (AgentLogFile) once a megabyte waits, or
 * every FLUSH_MILLIS: an agent writing a million lines costs a few hundred writes, not a million. A line is lost
 * only if the process dies within FLUSH_MILLIS of it or while its write is under way; the scope's finalizer writes
 * what is buffered and waits for every write to end, for `flushTimeout` at most: a disk that stopped answering (a
 * hung NFS mount, a dead USB disk) must not hold the orchestrator's stop until a service manager kills it, losing
 * the rest of the stop. The lines still unwritten then are counted as lost, with one warning. An agent that writes
 * faster than its disk takes is held back: once MAX_QUEUED_BYTES wait for the disk, the sink returns an Effect that
 * waits for room, and its pipe is read no further meanwhile.
 *
 * Writing must never stop an agent or the orchestrator: a full disk or an unwritable directory is logged once per
 * agent (until a write works again), and every line that could not be written is counted (`failures`).
 */
import { Context, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import * as Path from "node:path"
import { messageOf } from "../messageOf.ts"
import { describeDuration } from "../settings.ts"
import { AgentLogFile, MAX_QUEUED_BYTES } from "./AgentLogFile.ts"
import type { LogBatch } from "./LogStore.ts"

const FLUSH_MILLIS = 100
/** How long a flush waits for the disk by default (`logs.flushTimeout`). */
export const DEFAULT_FLUSH_TIMEOUT = Duration.seconds(10)

export interface LogFilesConfig {
  readonly dir: string
  /** A file is rotated before a line would take it past this size. */
  readonly maxBytes: number
  /** Rotated files kept; the oldest beyond this are deleted. */
  readonly keep: number
  /** How long a flush (and so the scope's end) waits for the writes; DEFAULT_FLUSH_TIMEOUT without it. */
  readonly flushTimeout?: Duration.Input | undefined
}

/** A file name for an agent: its name, with anything that is not safe in a path replaced. */
export const logFileName = (agent: string): string => `${agent.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\./, "_")}.log`

export class LogFiles extends Context.Service<LogFiles, {
  /** Appends each batch's lines to its agent's file, as `<ISO-8601 time> <stream> <line>`. */
  readonly write: (batches: ReadonlyArray<LogBatch>) => Effect.Effect<void>
  /**
   * `write` as a LogSink that works at once, unless an agent has to wait for its disk (then it returns the Effect
   * that waits). What cannot be written is logged by the next periodic flush, within FLUSH_MILLIS.
   */
  readonly writeUnsafe: (batches: ReadonlyArray<LogBatch>) => Effect.Effect<void> | undefined
  /**
   * Writes what is buffered now and waits for it to be written, as the scope's end does, for `flushTimeout` at
   * most: the lines still unwritten then are given up on, counted in `failures` and logged in one warning.
   */
  readonly flush: Effect.Effect<void>
  /** Lines that could not be written (full disk, unwritable directory), since start. */
  readonly failures: Effect.Effect<number>
  readonly dir: string
}>()("effect-orchestrate/LogFiles") {
  static readonly make = (config: LogFilesConfig): Effect.Effect<LogFiles["Service"], never, Scope.Scope> =>
    Effect.gen(function*() {
      const files = new Map<string, AgentLogFile>()
      let failures = 0
      const warnings: Array<string> = []
      /** Fibers waiting for the files to have room, or to be idle: they look again whenever a write ends. */
      const waiters = new Set<() => void>()

      const settled = () => {
        for (const waiter of [...waiters]) waiter()
      }

      const waitUntil = (done: () => boolean): Effect.Effect<void> =>
        Effect.callback<void>((resume) => {
          if (done()) return resume(Effect.void)
          const waiter = () => {
            if (!done()) return
            waiters.delete(waiter)
            resume(Effect.void)
          }
          waiters.add(waiter)
          return Effect.sync(() => waiters.delete(waiter))
        })

      const fileOf = (agent: string): AgentLogFile => {
        const existing = files.get(agent)
        if (existing !== undefined) return existing
        const path = Path.join(config.dir, logFileName(agent))
        const file = new AgentLogFile(path, {
          ...config,
          lost: (lines, cause, first) => {
            failures += lines
            if (first) warnings.push(`cannot write agent log ${path}: ${messageOf(cause)}; lines that cannot be written are counted and dropped`)
          },
          settled
        })
        files.set(agent, file)
        return file
      }

      /** Logs the failures noted since last time (they are noted where no Effect can run). */
      const logWarnings = Effect.suspend(() => {
        const logged = warnings.splice(0)
        return logged.length === 0 ? Effect.void : Effect.forEach(logged, (warning) => Effect.logWarning(warning), { discard: true })
      })

      const allIdle = () => {
        for (const file of files.values()) if (!file.idle) return false
        return true
      }

      const tick = Effect.suspend(() => {
        for (const file of files.values()) {
          file.flush()
          file.shrink()
        }
        return logWarnings
      })

      const flushTimeout = Duration.fromInputUnsafe(config.flushTimeout ?? DEFAULT_FLUSH_TIMEOUT)
      const giveUp = Effect.suspend(() => {
        let lines = 0
        for (const file of files.values()) if (!file.idle) lines += file.abandon()
        failures += lines
        // The files have room again: whatever is held back goes on.
        settled()
        return Effect.logWarning(
          `agent log writes to ${config.dir} did not end within ${describeDuration(flushTimeout)} (is the disk answering?): ` +
            `stopped waiting; ${lines} ${lines === 1 ? "line" : "lines"} not written yet counted as lost`
        )
      })

      const flush = Effect.suspend(() => {
        for (const file of files.values()) file.flush()
        return waitUntil(allIdle).pipe(
          Effect.timeoutOrElse({ duration: flushTimeout, orElse: () => giveUp }),
          Effect.andThen(logWarnings)
        )
      })

      yield* Effect.forkScoped(Effect.repeat(tick, Schedule.spaced(FLUSH_MILLIS)))
      yield* Effect.addFinalizer(() =>
        Effect.andThen(flush, Effect.sync(() => {
          for (const file of files.values()) file.close()
        }))
      )

      const writeUnsafe = (batches: ReadonlyArray<LogBatch>): Effect.Effect<void> | undefined => {
        // Batches of the same millisecond share their time: formatted once.
        let lastTimestamp = Number.NaN
        let time = ""
        let full: AgentLogFile | undefined
        for (const batch of batches) {
          const file = fileOf(batch.agent)
          if (batch.timestamp !== lastTimestamp) {
            lastTimestamp = batch.timestamp
            time = new Date(batch.timestamp).toISOString()
          }
          file.append(batch.lines, `${time} ${batch.stream} `)
          if (file.queued > MAX_QUEUED_BYTES) full = file
        }
        if (full === undefined) return undefined
        const waiting = full
        return waitUntil(() => waiting.queued <= MAX_QUEUED_BYTES)
      }

      return {
        dir: config.dir,
        flush,
        write: (batches) => Effect.suspend(() => Effect.andThen(writeUnsafe(batches) ?? Effect.void, logWarnings)),
        writeUnsafe,
        failures: Effect.sync(() => failures)
      }
    })

  static readonly layer = (config: LogFilesConfig): Layer.Layer<LogFiles> => Layer.effect(LogFiles, LogFiles.make(config))
}
