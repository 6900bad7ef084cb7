/**
 * Defaults of the flags that every command talking to an orchestrator shares, apart from their effect/cli
 * definitions (root.ts), so that the fast path (fast/main.ts) applies the same ones.
 */

/** Seconds to wait for an answer without `--timeout`. */
export const DEFAULT_TIMEOUT_SECONDS = 5
