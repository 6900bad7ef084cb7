/**
 * The audit trail: every command attempt and every refused connection, recorded in the EventStore (category
 * `command`) and, when `auditFile` is set, appended to a hash-chained NDJSON file (`security/auditChain.ts`) that
 * outlives the process and shows tampering.
 */
import { Context, Effect, Layer, Schema } from "effect"
import * as Fs from "node:fs"
import { EventCategory, EventStore } from "../events/EventStore.ts"
import type { EventRecord } from "../events/EventLog.ts"
import type { Severity } from "../protocol/Model.ts"
import { chainLine, claimedLink, GENESIS } from "../security/auditChain.ts"
import { FileAccessFailed } from "../security/files.ts"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"

export interface AuditRecord {
  readonly eventName: string
  readonly severity: Severity
  readonly data: Readonly<Record<string, unknown>>
}

/** The file could not be opened (created, or appended to) at startup. */
export class CannotOpen extends Schema.TaggedError<CannotOpen>()("CannotOpen", { reason: FileAccessFailed }) {
  override get message(): string {
    return `cannot open: ${this.reason.message}`
  }
}

/** The file's last line is no record to chain on: cut short (a crash mid-write), or not this format at all. */
export class IncompleteRecord extends Schema.TaggedError<IncompleteRecord>()("IncompleteRecord", { path: Schema.String }) {
  override get message(): string {
    return `its last line is not a complete audit record, so new records cannot be chained to it; ` +
      `check it with 'orchestrate audit verify ${this.path}', then move the file aside to start a new chain`
  }
}

/** A record could not be appended. Not fatal: the record is still in the EventStore, and this is logged. */
export class AppendFailed extends Schema.TaggedError<AppendFailed>()("AppendFailed", { reason: FileAccessFailed }) {
  override get message(): string {
    return `cannot append: ${this.reason.message}`
  }
}

export class AuditFileError extends Schema.TaggedError<AuditFileError>()("AuditFileError", {
  path: Schema.String,
  reason: Schema.Union([CannotOpen, IncompleteRecord, AppendFailed])
}) {
  override get message(): string {
    return `audit file ${this.path}: ${this.reason.message}`
  }
}

/** Enough of the file's end to hold its last record: records are small, their values truncated. */
const TAIL_BYTES = 256 * 1024

/** Where the file's chain ends: the last record's seq and hash, or the genesis when the file is empty. */
const readChainEnd = (path: string, fd: number): { readonly seq: number; readonly hash: string } | IncompleteRecord => {
  const size = Fs.fstatSync(fd).size
  if (size === 0) return { seq: 0, hash: GENESIS }
  const length = Math.min(size, TAIL_BYTES)
  const buffer = Buffer.alloc(length)
  Fs.readSync(fd, buffer, 0, length, size - length)
  const text = buffer.toString("utf8")
  const last = claimedLink(text.split("\n").filter((line) => line !== "").at(-1) ?? "")
  return last === undefined || !text.endsWith("\n") ? new IncompleteRecord({ path }) : last
}

/** Opens the file for appending (created 0600) and returns a function that chains a record onto it. */
const openAuditFile = Effect.fnUntraced(function*(path: string) {
  const fd = yield* Effect.acquireRelease(
    Effect.try({
      try: () => Fs.openSync(path, Fs.constants.O_RDWR | Fs.constants.O_APPEND | Fs.constants.O_CREAT, 0o600),
      catch: (cause) => new AuditFileError({ path, reason: new CannotOpen({ reason: new FileAccessFailed({ cause }) }) })
    }),
    (fd) => Effect.sync(() => Fs.closeSync(fd))
  )
  const mode = Fs.fstatSync(fd).mode & 0o777
  if ((mode & 0o077) !== 0) {
    yield* Effect.logWarning(
      `the audit file ${path} is open to others (mode ${mode.toString(8)}); chmod 600 it: the chain shows tampering, it does not prevent it`
    )
  }
  const end = readChainEnd(path, fd)
  if (end instanceof IncompleteRecord) return yield* new AuditFileError({ path, reason: end })
  let seq = end.seq
  let prev = end.hash
  // Appends are synchronous, so records reach the file whole and in the order they were made.
  return (entry: { readonly time: string; readonly event: string; readonly severity: string; readonly data: unknown }) => {
    const { line, hash } = chainLine({ seq: seq + 1, ...entry }, prev)
    Fs.writeSync(fd, `${line}\n`)
    seq++
    prev = hash
  }
})

export class AuditTrail extends Context.Service<AuditTrail, {
  readonly record: (record: AuditRecord) => Effect.Effect<void>
}>()("effect-orchestrate/AuditTrail") {
  static readonly layer: Layer.Layer<AuditTrail, AuditFileError, EventStore | CommandInterfaceConfig> = Layer.effect(
    AuditTrail,
    Effect.gen(function*() {
      const events = yield* EventStore
      const { auditFile } = yield* CommandInterfaceConfig
      const toEventStore = (record: AuditRecord) =>
        events.record({ eventName: record.eventName, category: EventCategory.command, severity: record.severity, data: record.data })
      if (auditFile === undefined) return AuditTrail.of({ record: (record) => Effect.asVoid(toEventStore(record)) })
      const append = yield* openAuditFile(auditFile)

      // The file gets the record as the store kept it: the same time and the same bounded data.
      const toFile = (stored: EventRecord) =>
        Effect.try({
          try: () =>
            append({
              time: new Date(stored.timestamp).toISOString(),
              event: stored.eventName,
              severity: stored.severity,
              data: stored.data
            }),
          catch: (cause) => new AuditFileError({ path: auditFile, reason: new AppendFailed({ reason: new FileAccessFailed({ cause }) }) })
        }).pipe(Effect.catch((error) => Effect.logError(error.message)))
      return AuditTrail.of({ record: (record) => Effect.flatMap(toEventStore(record), toFile) })
    })
  )
}
