import type { PlatformError } from "effect"

/** Why a file the command line named could not be read, in a few words. */
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
