/**
 * The real `orchestrate up` (bin/orchestrate.js, running the dist bundle) for the benchmarks that measure what a
 * user runs: a config written to a temporary directory, the command interface on an ipc address in it, every
 * command allowed, agents' output not shown (`--quiet`).
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { exitOf, killOnExit, projectDir } from "./processes.ts"

export const BIN = Path.join(projectDir, "bin", "orchestrate.js")

/** Now, in epoch milliseconds with a sub-millisecond fraction: comparable with the orchestrator's event times. */
export const epochMillis = (): number => performance.timeOrigin + performance.now()

export interface Up {
  readonly address: string
  readonly pid: number
  /** When it was spawned, in epoch milliseconds. */
  readonly spawnedAt: number
  /** What it has logged so far (its standard error). */
  readonly log: () => string
  /** Exits once its agents have stopped (SIGTERM, the graceful shutdown); resolves with its exit code. */
  readonly stop: () => Promise<number | null>
}

/**
 * Starts `orchestrate up` on `config`, with `nodeArgs` before the binary (a preload, say) and `env` added. It is
 * not known to answer yet: a request sent to `address` waits until it does.
 */
export const startUp = (
  config: Readonly<Record<string, unknown>>,
  options: { readonly nodeArgs?: ReadonlyArray<string>; readonly env?: Readonly<Record<string, string>> } = {}
): Up => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-bench-up-"))
  const file = Path.join(dir, "config.json")
  Fs.writeFileSync(file, JSON.stringify(config))
  const address = `ipc://${Path.join(dir, "cmd.sock")}`
  // Its log (every event, as `up` logs them) goes to a file: read by no one unless it fails, costing no one a pipe.
  const log = Fs.openSync(Path.join(dir, "up.log"), "w")
  const spawnedAt = epochMillis()
  const child = killOnExit(spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, "up", file, "--quiet", "--address", address, "--allow", "all"], {
    stdio: ["ignore", "ignore", log],
    env: { ...process.env, NO_COLOR: "1", ...options.env }
  }))
  Fs.closeSync(log)
  return {
    address,
    pid: child.pid ?? -1,
    spawnedAt,
    log: () => Fs.readFileSync(Path.join(dir, "up.log"), "utf8"),
    stop: async () => {
      child.kill("SIGTERM")
      const code = await exitOf(child)
      Fs.rmSync(dir, { recursive: true, force: true })
      return code
    }
  }
}
