/**
 * The CLI's exit codes (exit.ts says which failure ends with which) and its one line on stderr for a failure.
 * Apart from exit.ts, which needs effect, so that the fast path (fast/main.ts) ends the same way.
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2, unreachable: 3, interrupted: 130 } as const
export type ExitCode = typeof ExitCode[keyof typeof ExitCode]

/** How a failure is said on stderr: one line. */
export const errorLine = (message: string): string => `error: ${message}`
