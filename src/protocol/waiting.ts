/**
 * What a queued agent is waiting for, as the server's messages and the CLI say it. Apart from the Schemas in
 * Model.ts, so that the CLI's fast path (which loads no Schema) renders `status` with the same words.
 */
import type { WaitingFor } from "./Model.ts"

export const waitingDescriptions: Readonly<Record<WaitingFor, string>> = {
  dependencies: "waiting for its dependencies",
  worker: "waiting for a worker slot",
  backoff: "waiting to restart"
}
