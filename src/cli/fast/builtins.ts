/**
 * Node's built-in modules as the fast path uses them: taken as CommonJS takes them, with `process.getBuiltinModule`,
 * not imported. An `import` of one (as esbuild writes it) first builds an ES module namespace of all its exports:
 * about 5 ms of CPU for node:fs, node:path and node:os here, against nothing for these (measured 30 runs each).
 */
export const Fs = process.getBuiltinModule("node:fs")
export const Path = process.getBuiltinModule("node:path")

/** The home directory, when $HOME does not say: node:os is loaded only then. */
export const homedir = (): string => process.getBuiltinModule("node:os").homedir()
