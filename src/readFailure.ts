/**
 * Why a file could not be read, in a few words: the CLI says it of the files its command line names, and a reload
 * of the config file it could not read.
 */
import { type PlatformError, Predicate } from "effect"

/** The error code of the system call that failed (`EISDIR`), when the failure came from one. */
const systemCode = (error: PlatformError.PlatformError): unknown => {
  const cause = error.reason.cause
  return Predicate.hasProperty(cause, "code") ? cause.code : undefined
}

export const describeReadFailure = (error: PlatformError.PlatformError): string => {
  switch (error.reason._tag) {
    case "NotFound":
      return "no such file"
    case "PermissionDenied":
      return "permission denied"
    case "BadResource":
      // Node files a directory (EISDIR), a path through a file (ENOTDIR) and a symbolic link loop (ELOOP) alike.
      switch (systemCode(error)) {
        case "EISDIR":
          return "it is a directory"
        case "ENOTDIR":
          return "a directory in its path is a file"
        case "ELOOP":
          return "too many symbolic links"
        default:
          return error.message
      }
    default:
      return error.message
  }
}
