/**
 * `mkdir -p` that always ends. Node's own (`mkdir` with `recursive`) never returns for a directory whose parent
 * exists but cannot hold it: procfs answers ENOENT for any new name, as a dangling symlink does, which Node's walk
 * takes for a missing parent: it makes the parent (EEXIST) and tries the child again, forever. The synchronous one
 * spins on the main thread, where not even a signal is handled any more (`up --logs-dir /proc/x` took 90% of a core
 * until SIGKILL). Here a directory still refused once its parent is there is an error: the one its `mkdir` gave.
 */
import { Effect, FileSystem, Path } from "effect"
import * as Fs from "node:fs"
import * as NodePath from "node:path"

const codeOf = (error: unknown): unknown => error instanceof Error && "code" in error ? error.code : undefined

/** Makes `path` and its missing parents, each with `mode`; an existing directory is left as it is. */
export const makeDirectoriesSync = (path: string, mode: number): void => {
  const missing: Array<string> = []
  for (let current = NodePath.resolve(path);;) {
    try {
      Fs.mkdirSync(current, { mode })
      break
    } catch (error) {
      const code = codeOf(error)
      if (code === "EEXIST") break
      const parent = NodePath.dirname(current)
      if (code !== "ENOENT" || parent === current) throw error
      missing.unshift(current)
      current = parent
    }
  }
  // Each one's parent is there now: one refused still is refused for good.
  for (const directory of missing) {
    try {
      Fs.mkdirSync(directory, { mode })
    } catch (error) {
      // Made meanwhile by someone else.
      if (codeOf(error) !== "EEXIST") throw error
    }
  }
}

/**
 * The same through the platform's FileSystem, for callers whose errors are its PlatformErrors. The log files use
 * the synchronous one: they open their file on the main thread, at once, where an Effect is not to be had.
 */
export const makeDirectories = Effect.fnUntraced(function*(path: string, mode: number) {
  const fs = yield* FileSystem.FileSystem
  const paths = yield* Path.Path
  const made = (directory: string) =>
    fs.makeDirectory(directory, { mode }).pipe(
      Effect.as(true),
      Effect.catchIf((error) => error.reason._tag === "AlreadyExists", () => Effect.succeed(true))
    )
  const missing: Array<string> = []
  let current = paths.resolve(path)
  for (;;) {
    const parent = paths.dirname(current)
    const here = yield* made(current).pipe(
      Effect.catchIf((error) => error.reason._tag === "NotFound" && parent !== current, () => Effect.succeed(false))
    )
    if (here) break
    missing.unshift(current)
    current = parent
  }
  for (const directory of missing) yield* made(directory)
})
