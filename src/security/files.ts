/**
 * Why a file holding keys or the audit trail could not be opened, read or written: the errno codes its owner
 * meets said in words, anything else as Node said it.
 */
import { Predicate, Schema } from "effect"
import { messageOf } from "../messageOf.ts"

const described: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory"
}

export class FileAccessFailed extends Schema.TaggedError<FileAccessFailed>()("FileAccessFailed", { cause: Schema.Defect() }) {
  /** The errno code (`ENOENT`, `EACCES`...), when the system gave one. */
  get code(): string | undefined {
    return Predicate.hasProperty(this.cause, "code") && typeof this.cause.code === "string" ? this.cause.code : undefined
  }

  override get message(): string {
    const code = this.code
    const known = code === undefined ? undefined : described[code]
    if (known !== undefined) return known
    // Node's file system functions throw Errors; anything else is shown as it is.
    return messageOf(this.cause)
  }
}
