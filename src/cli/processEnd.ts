/**
 * What every CLI process does about the way it ends, with or without effect: the full CLI (runMain.ts) and the fast
 * path (fast/main.ts) stop on the same signals and survive the same closed outputs.
 */

/** How long a finished CLI may take to drain its output before it exits regardless. */
export const EXIT_GRACE_MILLIS = 2000

/**
 * The signals that ask for a graceful stop. SIGHUP is one of them: a closed terminal or SSH session must stop
 * `up` the same way `kill` or Ctrl-C do, not end it with Node's default (exit 129, no cleanup).
 */
export const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const

/**
 * Output that can no longer be written (a closed terminal gives EIO, a closed pipe EPIPE) is dropped: losing a
 * log line must not crash a process that is stopping services.
 */
export const ignoreOutputErrors = (): void => {
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {})
}
