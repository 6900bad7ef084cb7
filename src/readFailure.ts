/**
 * Why a file could not be read, in a few words: the CLI says it of the files its command line names, and a reload
 * of the config file it could not read.
 */
import type { PlatformError } from "effect"

export const describeReadFailure = (error: PlatformError.PlatformError): string => {
  switch (error.reason._tag) {
    case "NotFound":
      return "no such file"
    case "PermissionDenied":
      return "permission denied"
    default:
      return error.message
  }
}
