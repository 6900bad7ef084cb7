import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** A fresh temporary directory, removed with the scope. */
export const tempDir = (prefix = "orch-") =>
  Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  )

/** `config` (JSON text as it is, anything else as JSON) written to `config.json` in a fresh temporary directory. */
export const configFile = (config: unknown, prefix = "orch-config-") =>
  Effect.map(tempDir(prefix), (dir) => {
    const file = Path.join(dir, "config.json")
    Fs.writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config))
    return file
  })

/**
 * A file at `path` that takes writes like a disk that stopped answering: a FIFO whose read end is open (so that
 * opening it to write does not block) and never read, so a write past the pipe's 64 KiB blocks in Node's thread
 * pool, as one to a hung NFS mount does. `release` closes the read end, which ends the stuck write (EPIPE); the
 * scope's end does too, so that no thread of the pool stays blocked past the test, whatever fails first.
 */
export const stuckFile = (path: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const made = ChildProcess.spawnSync("mkfifo", [path])
      if (made.status !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr.toString()}`)
      const reader = Fs.openSync(path, Fs.constants.O_RDONLY | Fs.constants.O_NONBLOCK)
      let open = true
      return {
        release: () => {
          if (open) Fs.closeSync(reader)
          open = false
        }
      }
    }),
    ({ release }) => Effect.sync(release)
  )

/** Whether this process holds a descriptor open on `path` (`/proc/self/fd`). */
export const isOpenHere = (path: string) =>
  Effect.sync(() =>
    Fs.readdirSync("/proc/self/fd").some((fd) => {
      try {
        return Fs.readlinkSync(`/proc/self/fd/${fd}`) === path
      } catch {
        return false
      }
    })
  )
