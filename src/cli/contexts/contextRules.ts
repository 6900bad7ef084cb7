/**
 * What a contexts file may hold, as plain predicates: ContextsFile.ts builds its schemas on them, and the fast path
 * (fast/contexts.ts) reads a file with the same rules without loading Schema.
 */
import { isCurveKey } from "../../security/z85.ts"

/** A real file holds a few contexts in a few hundred bytes: a larger one is not ours, and is refused unread. */
export const MAX_CONTEXTS_FILE_BYTES = 1024 * 1024

const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export const isContextName = (name: string): boolean => CONTEXT_NAME.test(name)

/** Key files are kept by absolute path: a relative one would change meaning with the directory a command runs in. */
export const isAbsolutePath = (path: string): boolean => path.startsWith("/")

/** The orchestrator's public key itself, or the absolute path of a file holding it (`server.key.pub`). */
export const isServerKey = (key: string): boolean => isCurveKey(key) || isAbsolutePath(key)
