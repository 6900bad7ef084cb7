/**
 * The `logs` section of a config file: how many lines each agent keeps in memory, and where (if anywhere) they
 * are also written, rotated by size.
 */
import { Duration, Schema } from "effect"
import { durationBetween, intBetween, withDefault } from "../settings.ts"
import { DEFAULT_FLUSH_TIMEOUT } from "./LogFiles.ts"
import { DEFAULT_KEEP_LINES } from "./LogStore.ts"

export const LogSettings = Schema.Struct({
  /** Lines kept in memory per agent, for `logs`; an agent's own, whatever the others write. */
  keepLines: withDefault(intBetween(1, 100_000), DEFAULT_KEEP_LINES),
  /** A directory to append each agent's lines to, as `<agent>.log`; relative to the config file. No files without it. */
  dir: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty())),
  /** A log file is rotated before it would grow past this many bytes (10 MiB). */
  maxBytes: withDefault(intBetween(1024, 1024 * 1024 * 1024), 10 * 1024 * 1024),
  /** Rotated files kept per agent (`<agent>.log.1` is the newest); older ones are deleted. */
  keep: withDefault(intBetween(0, 100), 5),
  /**
   * How long stopping waits for the last writes (10 s): past it, a disk that stopped answering has the lines not
   * written yet counted as lost, rather than holding the stop until a service manager kills the orchestrator.
   */
  flushTimeout: withDefault(durationBetween("100 millis", "10 minutes"), Duration.toMillis(DEFAULT_FLUSH_TIMEOUT))
})
export type LogSettings = typeof LogSettings.Type
