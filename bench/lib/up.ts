/**
 * The real `orchestrate up` (bin/orchestrate.js, running the dist bundle) for the benchmarks that measure what a
 * user runs: a config written to a temporary directory, the command interface on an ipc address in it, every
 * command allowed, agents' output not shown (`--quiet`). Also what /proc says about a process's memory.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { projectDir } from "./processes.ts"

export const BIN = Path.join(projectDir, "bin", "orchestrate.js")

/** Now, in epoch milliseconds with a sub-millisecond fraction: comparable with the orchestrator's event times. */
export const epochMillis = (): number => performance.timeOrigin + performance.now()

export const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis))

export const loadAverage = (): string => Fs.readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(" ")

const running = new Set<ChildProcess>()
// A benchmark that throws must not leave an orchestrator behind; its guardian then stops the agents.
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

/** Resolves with a process's exit code (null when a signal ended it), at once if it has already exited. */
export const exitOf = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once("exit", (code) => resolve(code)))

export interface Up {
  readonly dir: string
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
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, "up", file, "--quiet", "--address", address, "--allow", "all"], {
    stdio: ["ignore", "ignore", log],
    env: { ...process.env, NO_COLOR: "1", ...options.env }
  })
  Fs.closeSync(log)
  running.add(child)
  return {
    dir,
    address,
    pid: child.pid ?? -1,
    spawnedAt,
    log: () => Fs.readFileSync(Path.join(dir, "up.log"), "utf8"),
    stop: async () => {
      child.kill("SIGTERM")
      const code = await exitOf(child)
      running.delete(child)
      Fs.rmSync(dir, { recursive: true, force: true })
      return code
    }
  }
}

export interface ProcessMemory {
  readonly rssMiB: number
  /** Private and shared anonymous memory: the heaps (V8's and malloc's), stacks. */
  readonly anonymousMiB: number
  /** Mapped files: the Node binary's and libraries' pages it has touched. */
  readonly fileMiB: number
}

/** A process's memory as /proc/<pid>/smaps_rollup sums it. */
export const memoryOf = (pid: number): ProcessMemory => {
  const text = Fs.readFileSync(`/proc/${pid}/smaps_rollup`, "latin1")
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN)
  const rss = kib("Rss")
  const anonymous = kib("Anonymous")
  return { rssMiB: rss / 1024, anonymousMiB: anonymous / 1024, fileMiB: (rss - anonymous) / 1024 }
}

/** The least-squares line through the points: the slope per unit of x, and where it crosses x = 0. */
export const linearFit = (points: ReadonlyArray<readonly [x: number, y: number]>): { readonly slope: number; readonly intercept: number } => {
  const n = points.length
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0)
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0)
  const slope = variance === 0 ? Number.NaN : covariance / variance
  return { slope, intercept: meanY - slope * meanX }
}

export interface RecordedEvent {
  readonly seq: number
  readonly name: string
  readonly agent: string | null
  /** Epoch milliseconds, as the orchestrator's clock read it (whole milliseconds). */
  readonly at: number
}

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> => typeof value === "object" && value !== null

/** The events of a `history` reply's data, oldest first. */
export const recordedEvents = (data: Readonly<Record<string, unknown>>): Array<RecordedEvent> => {
  const events = Array.isArray(data["events"]) ? data["events"] : []
  return events.flatMap((event: unknown) =>
    isObject(event) && typeof event["seq"] === "number" && typeof event["event_name"] === "string" && typeof event["timestamp"] === "string"
      ? [{
        seq: event["seq"],
        name: event["event_name"],
        agent: typeof event["agent_name"] === "string" ? event["agent_name"] : null,
        at: Date.parse(event["timestamp"])
      }]
      : []
  )
}
