/**
 * The text of a failure's cause, for the message of the error that wraps it: an Error's own message (what Node and
 * libraries say happened), or the thrown value as text. Errors keep the cause itself; only their message uses this.
 */
export const messageOf = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)
