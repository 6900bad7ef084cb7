/**
 * How many events (`history`) and lines (`logs`) one page holds: what the server caps a `limit` to, and what it
 * gives without one. Plain numbers, apart from the Schemas in Commands.ts, so that the CLI's fast path (which loads
 * no Schema) asks and renders with the same ones.
 */

/** The most events one `history` page returns; a larger `limit` is capped to it. */
export const HISTORY_LIMIT_MAX = 1000
export const HISTORY_LIMIT_DEFAULT = 50

/** The most lines one `logs` page returns; a larger `limit` is capped to it. */
export const LOGS_LIMIT_MAX = 1000
export const LOGS_LIMIT_DEFAULT = 100
