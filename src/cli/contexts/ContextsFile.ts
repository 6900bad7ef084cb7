/**
 * The CLI's named contexts: `$XDG_CONFIG_HOME/orchestrate/contexts.json` (`~/.config/orchestrate/contexts.json`
 * without it), each an orchestrator's address and, for one that uses CURVE, its public key and this client's key
 * pair file; and the context `context use` chose. `orchestrate context` keeps the file; every command that talks
 * to an orchestrator may read it.
 *
 * It is written whole to a temporary file beside it (mode 0600, flushed to disk) and renamed over it, so a crash
 * mid-write leaves the old file or the new one, never half of one; its directory is 0700. A file that is not what
 * this module writes is a `ContextsFileError` naming every problem by path, never a crash.
 */
import { Config, Effect, FileSystem, Option, Path, PlatformError, Schema } from "effect"
import { randomBytes } from "node:crypto"
import * as Os from "node:os"
import { makeDirectories } from "../../makeDirectories.ts"
import { messageOf } from "../../messageOf.ts"
import { ZmqAddress } from "../../protocol/Address.ts"
import { issueLines } from "../../protocol/issues.ts"
import { checkJsonLimits } from "../../protocol/jsonLimits.ts"
import { describeReadFailure } from "../../readFailure.ts"
import { isAbsolutePath, isContextName, isServerKey, MAX_CONTEXTS_FILE_BYTES as MAX_FILE_BYTES } from "./contextRules.ts"

export const ContextName = Schema.String.check(
  Schema.makeFilter((name: string) =>
    isContextName(name) ||
    `expected a context name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got ${JSON.stringify(name)}`
  )
)

/** Key files are kept by absolute path: a relative one would change meaning with the directory a command runs in. */
const AbsolutePath = Schema.String.check(
  Schema.makeFilter((path: string) => isAbsolutePath(path) || `expected an absolute path, got ${JSON.stringify(path)}`)
)

/** The orchestrator's public key itself, or the absolute path of a file holding it (`server.key.pub`). */
const ServerKey = Schema.String.check(
  Schema.makeFilter((key: string) =>
    isServerKey(key) ||
    `expected a CURVE key (40 Z85 characters) or the absolute path of a file holding one, got ${JSON.stringify(key)}`
  )
)

export const SavedContext = Schema.Struct({
  address: ZmqAddress,
  serverKey: Schema.optionalKey(ServerKey),
  /** The absolute path of this client's key pair file. */
  clientKey: Schema.optionalKey(AbsolutePath)
}).check(
  Schema.makeFilter((context) =>
    (context.serverKey === undefined) === (context.clientKey === undefined) || {
      path: [context.serverKey === undefined ? "serverKey" : "clientKey"],
      issue: "missing: serverKey and clientKey go together (a CURVE client needs the orchestrator's public key and its own key pair)"
    }
  )
)
export type SavedContext = typeof SavedContext.Type

export const ContextsDocument = Schema.Struct({
  /** The context used when a command names none and gives no address; `context use` sets it. */
  current: Schema.optionalKey(ContextName),
  contexts: Schema.Record(ContextName, SavedContext)
}).check(
  Schema.makeFilter((document) =>
    document.current === undefined || Object.hasOwn(document.contexts, document.current) || {
      path: ["current"],
      issue: `names no context: ${JSON.stringify(document.current)}`
    }
  )
)
export type ContextsDocument = typeof ContextsDocument.Type

const noContexts: ContextsDocument = { contexts: {} }

/** The names of the contexts, sorted. */
export const contextNames = (document: ContextsDocument): ReadonlyArray<string> => Object.keys(document.contexts).sort()

/** The document is 3 levels deep: a much deeper one is refused before decoding recurses into it. */
const MAX_DEPTH = 8

const FileFailure = Schema.instanceOf(PlatformError.PlatformError)

/** The file exists but could not be read: permissions, a directory in its place. */
export class UnreadableContexts extends Schema.TaggedError<UnreadableContexts>()("UnreadableContexts", { cause: FileFailure }) {
  override get message(): string {
    return `cannot read it: ${describeReadFailure(this.cause)}`
  }
}

/** Something other than a file is where the file should be. */
export class ContextsNotAFile extends Schema.TaggedError<ContextsNotAFile>()("ContextsNotAFile", { type: Schema.String }) {
  override get message(): string {
    return `it is not a file but a ${this.type.toLowerCase()}`
  }
}

export class ContextsTooLarge extends Schema.TaggedError<ContextsTooLarge>()("ContextsTooLarge", { bytes: Schema.Number }) {
  override get message(): string {
    return `it is ${this.bytes} bytes, more than a contexts file can be (${MAX_FILE_BYTES})`
  }
}

/** The text is not JSON, or not a contexts document: each problem with its path. */
export class InvalidContexts extends Schema.TaggedError<InvalidContexts>()("InvalidContexts", {
  problems: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `it is not a contexts file (fix or remove it): ${this.problems.join("; ")}`
  }
}

export class UnwritableContexts extends Schema.TaggedError<UnwritableContexts>()("UnwritableContexts", { cause: FileFailure }) {
  override get message(): string {
    return `cannot write it: ${this.cause.reason._tag === "PermissionDenied" ? "permission denied" : this.cause.message}`
  }
}

export const ContextsFileErrorReason = Schema.Union([UnreadableContexts, ContextsNotAFile, ContextsTooLarge, InvalidContexts, UnwritableContexts])
export type ContextsFileErrorReason = typeof ContextsFileErrorReason.Type

/** The contexts file cannot be used (exit 2): it is a configuration file, and a broken one is a configuration error. */
export class ContextsFileError extends Schema.TaggedError<ContextsFileError>()("ContextsFileError", {
  path: Schema.String,
  reason: ContextsFileErrorReason
}) {
  override get message(): string {
    return `contexts file ${this.path}: ${this.reason.message}`
  }
}

/**
 * Where the file is, as the XDG base directory spec says: under `$XDG_CONFIG_HOME` if it is set to an absolute
 * path (the spec has relative ones ignored), else under `$HOME/.config`.
 */
export const contextsPath: Effect.Effect<string, never, Path.Path> = Effect.gen(function*() {
  const path = yield* Path.Path
  const configHome = yield* Config.option(Config.String("XDG_CONFIG_HOME")).pipe(Effect.orDie)
  const home = yield* Config.String("HOME").pipe(Config.withDefault(Os.homedir()), Effect.orDie)
  const base = Option.isSome(configHome) && path.isAbsolute(configHome.value) ? configHome.value : path.join(home, ".config")
  return path.join(base, "orchestrate", "contexts.json")
})

const decodeDocument = Schema.decodeUnknownResult(ContextsDocument)

/** The text of a contexts file, parsed and checked: every problem by path. */
export const parseContexts = (text: string): ContextsDocument | InvalidContexts => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return new InvalidContexts({ problems: [`not valid JSON: ${messageOf(error)}`] })
  }
  if (checkJsonLimits(json, { maxDepth: MAX_DEPTH }) !== undefined) {
    return new InvalidContexts({ problems: [`(root): nested deeper than ${MAX_DEPTH} levels`] })
  }
  const decoded = decodeDocument(json, { errors: "all", onExcessProperty: "error" })
  return decoded._tag === "Success" ? decoded.success : new InvalidContexts({ problems: issueLines(decoded.failure) })
}

/** The contexts; none when there is no file yet. */
export const loadContexts = Effect.fnUntraced(function*() {
  const fs = yield* FileSystem.FileSystem
  const file = yield* contextsPath
  const fail = (reason: ContextsFileErrorReason) => Effect.fail(new ContextsFileError({ path: file, reason }))
  const info = yield* fs.stat(file).pipe(
    Effect.map(Option.some),
    Effect.catchIf((error) => error.reason._tag === "NotFound", () => Effect.succeedNone),
    Effect.catch((cause) => fail(new UnreadableContexts({ cause })))
  )
  if (Option.isNone(info)) return noContexts
  if (info.value.type !== "File") return yield* fail(new ContextsNotAFile({ type: info.value.type }))
  const bytes = Number(info.value.size)
  if (bytes > MAX_FILE_BYTES) return yield* fail(new ContextsTooLarge({ bytes }))
  const text = yield* fs.readFileString(file).pipe(Effect.catch((cause) => fail(new UnreadableContexts({ cause }))))
  const parsed = parseContexts(text)
  return parsed instanceof InvalidContexts ? yield* fail(parsed) : parsed
})

/** Replaces the file with `document`, atomically: a temporary file, flushed, then renamed over the old one. */
export const saveContexts = Effect.fnUntraced(function*(document: ContextsDocument) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const file = yield* contextsPath
  const directory = path.dirname(file)
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`
  // The current context first, then the contexts by name: a file that reads the same way each time it is written.
  const ordered: ContextsDocument = {
    ...(document.current === undefined ? {} : { current: document.current }),
    contexts: Object.fromEntries(contextNames(document).flatMap((name) => {
      const saved = document.contexts[name]
      return saved === undefined ? [] : [[name, saved]]
    }))
  }
  const text = `${JSON.stringify(ordered, null, 2)}\n`
  yield* Effect.gen(function*() {
    yield* makeDirectories(directory, 0o700)
    // An existing directory keeps its mode through makeDirectories.
    yield* fs.chmod(directory, 0o700)
    yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(temporary, { flag: "wx", mode: 0o600 })
      yield* handle.writeAll(new TextEncoder().encode(text))
      yield* handle.sync
    }))
    // Created 0600 less the umask; said once more, so that no umask leaves it other than 0600.
    yield* fs.chmod(temporary, 0o600)
    yield* fs.rename(temporary, file)
  }).pipe(
    Effect.tapError(() => Effect.ignore(fs.remove(temporary, { force: true }))),
    Effect.mapError((cause) => new ContextsFileError({ path: file, reason: new UnwritableContexts({ cause }) }))
  )
})
