/**
 * Defaults of the flags that every command talking to an orchestrator shares, apart from their effect/cli
 * definitions (root.ts), so that the fast path (fast/main.ts) applies the same ones.
 */

/** Seconds to wait for an answer without `--timeout`. */
export const DEFAULT_TIMEOUT_SECONDS = 5

/** Seconds `status --wait` waits for readiness without `--timeout`. */
export const WAIT_DEFAULT_SECONDS = 60

/**
 * Seconds `reload` waits for its answer without `--timeout`: it stops and starts agents, each within its grace
 * period, longer than a query may take. A systemd unit's `ExecReload` gives it at least as long.
 */
export const RELOAD_TIMEOUT_SECONDS = 120

/**
 * Most seconds `--timeout` may give (a day): a value past it is a slip (`99999999999`), which would leave a script
 * waiting, silent, for years.
 */
export const MAX_TIMEOUT_SECONDS = 86_400
