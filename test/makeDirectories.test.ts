/**
 * `mkdir -p` that ends: the directories are made with their mode, an existing one is left alone, and a path whose
 * parent exists but cannot hold it (procfs, a dangling symlink) fails at once with its own error, where Node's
 * recursive `mkdir` never returns.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { makeDirectories, makeDirectoriesSync } from "../src/makeDirectories.ts"
import { tempDir } from "./support/files.ts"

const errorOf = (run: () => void): unknown => {
  try {
    run()
    return undefined
  } catch (error) {
    return error
  }
}

const codeOf = (error: unknown): unknown => error instanceof Error && "code" in error ? error.code : undefined

describe("makeDirectories", () => {
  it.live("makes every missing directory with its mode, and leaves an existing one as it is", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-mkdir-")
      const deep = Path.join(dir, "a", "b", "c")
      makeDirectoriesSync(deep, 0o750)
      for (const made of [Path.join(dir, "a"), Path.join(dir, "a", "b"), deep]) {
        expect(Fs.statSync(made).mode & 0o777).toBe(0o750)
      }
      Fs.chmodSync(deep, 0o700)
      makeDirectoriesSync(deep, 0o750)
      expect(Fs.statSync(deep).mode & 0o777).toBe(0o700)

      const other = Path.join(dir, "x", "y")
      yield* makeDirectories(other, 0o700)
      expect(Fs.statSync(Path.join(dir, "x")).mode & 0o777).toBe(0o700)
      expect(Fs.statSync(other).isDirectory()).toBe(true)
      yield* makeDirectories(other, 0o700)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))

  it.live("fails at once below a dangling symlink, and below a regular file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-mkdir-")
      const dangling = Path.join(dir, "dangling")
      Fs.symlinkSync(Path.join(dir, "gone"), dangling)
      const below = Path.join(dangling, "logs", "more")
      const error = errorOf(() => makeDirectoriesSync(below, 0o750))
      expect(codeOf(error)).toBe("ENOENT")
      expect(error instanceof Error ? error.message : "").toBe(`ENOENT: no such file or directory, mkdir '${Path.join(dangling, "logs")}'`)
      const failed = yield* Effect.flip(makeDirectories(below, 0o700))
      expect(failed.reason._tag).toBe("NotFound")

      Fs.writeFileSync(Path.join(dir, "file"), "")
      expect(codeOf(errorOf(() => makeDirectoriesSync(Path.join(dir, "file", "logs"), 0o750)))).toBe("ENOTDIR")
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))

  it.live.skipIf(!Fs.existsSync("/proc/self"))("fails at once under /proc, which answers ENOENT for any new name", () =>
    Effect.gen(function*() {
      expect(codeOf(errorOf(() => makeDirectoriesSync("/proc/orchestrate-no-such/logs", 0o750)))).toBe("ENOENT")
      const failed = yield* Effect.flip(makeDirectories("/proc/orchestrate-no-such/logs", 0o700))
      expect(failed.reason._tag).toBe("NotFound")
    }).pipe(Effect.provide(NodeServices.layer)))
})
