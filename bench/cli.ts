/**
 * 4. CLI wall time: `orchestrate ps` as a process, end to end, against a minimal zeromq.js one-shot client (the
 * floor), interleaved round by round with the pieces of that floor (`node -e 0`, Node importing zeromq) and with
 * the full CLI (the same `ps` with ORCHESTRATE_NO_FAST_PATH=1, which skips the one-shot fast path), `status`
 * (whose fast path loads effect's DateTime) and `ps --help` both ways (what trying the fast path first costs a
 * command it leaves to the full CLI). Target (issue 14): `orchestrate ps` <= 1.3x the one-shot floor.
 *
 * For reference, without a target: `pm2 jlist` and `supervisorctl status`, in the same rounds, when they are on the
 * PATH and a first call answers (exit 0: pm2's starts its daemon if none runs, and the daemon is killed afterwards
 * if it was started here; supervisorctl needs a running supervisord). Otherwise the output says why not.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { benchDir, projectDir, startServer } from "./lib/processes.ts"
import { median, printTable, ratio, verdict } from "./lib/stats.ts"
import { BIN } from "./lib/up.ts"

const TARGET = 1.3

interface Command {
  /** The program, Node by default. */
  readonly file?: string
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
}

const wallMillis = ({ file = process.execPath, args, env }: Command): number => {
  const started = process.hrtime.bigint()
  const result = spawnSync(file, args, {
    cwd: projectDir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
    // A command that hangs fails the run rather than holding it (a one-shot command takes well under a second).
    timeout: 30_000
  })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${file} ${args.join(" ")} exited ${result.status}`)
  return elapsed
}

/** Whether `name` is a program on the PATH. */
const installed = (name: string): boolean => spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0

/** Whether pm2's daemon runs: its pid file names a live process. */
const pm2DaemonRunning = (): boolean => {
  try {
    process.kill(Number(Fs.readFileSync(Path.join(process.env["PM2_HOME"] ?? Path.join(Os.homedir(), ".pm2"), "pm2.pid"), "utf8").trim()), 0)
    return true
  } catch {
    return false
  }
}

/** The other supervisors' read commands, for reference: each measured only when it is installed and answers. */
const referenceCommands = () => {
  const pm2WasRunning = pm2DaemonRunning()
  const candidates: ReadonlyArray<readonly [label: string, command: Required<Pick<Command, "file" | "args">>]> = [
    ["pm2 jlist", { file: "pm2", args: ["jlist"] }],
    ["supervisorctl status", { file: "supervisorctl", args: ["status"] }]
  ]
  const measured: Array<readonly [string, Command]> = []
  const notMeasured: Array<readonly [string, string]> = []
  for (const [label, command] of candidates) {
    if (!installed(command.file)) {
      notMeasured.push([label, "not installed"])
      continue
    }
    // The first call, outside the figures: it may start a daemon.
    const probe = spawnSync(command.file, command.args, { stdio: "ignore", timeout: 30_000 })
    if (probe.status === 0) measured.push([label, command])
    else notMeasured.push([label, `installed, but did not answer (exit ${probe.status ?? probe.signal})`])
  }
  const cleanUp = () => {
    if (!pm2WasRunning && measured.some(([label]) => label === "pm2 jlist")) spawnSync("pm2", ["kill"], { stdio: "ignore" })
  }
  return { measured, notMeasured, cleanUp }
}

export const cli = async (options: { readonly runs: number }) => {
  const server = await startServer("command-interface.ts", ["--agents", "10"])
  const commands = {
    "node -e 0": { args: ["-e", "0"] },
    "node importing zeromq": { args: ["--input-type=module", "-e", "await import('zeromq')"] },
    "one-shot zeromq.js client": { args: [Path.join(benchDir, "servers", "oneshot-client.mjs"), server.endpoint] },
    "orchestrate ps": { args: [BIN, "ps", "--address", server.endpoint] },
    "orchestrate status": { args: [BIN, "status", "--address", server.endpoint] },
    "orchestrate ps, full CLI": { args: [BIN, "ps", "--address", server.endpoint], env: { ORCHESTRATE_NO_FAST_PATH: "1" } },
    "orchestrate ps --help": { args: [BIN, "ps", "--help"] },
    "orchestrate ps --help, full CLI": { args: [BIN, "ps", "--help"], env: { ORCHESTRATE_NO_FAST_PATH: "1" } }
  } satisfies Record<string, Command>
  const reference = referenceCommands()
  const entries: ReadonlyArray<readonly [string, Command]> = [...Object.entries(commands), ...reference.measured]
  const times = new Map(entries.map(([label]) => [label, new Array<number>()]))
  // The first run of each fills caches (the file system's, V8's compile cache): reported apart.
  let cold: Map<string, number>
  // However a run ends (a command that fails throws), the server and a pm2 daemon started here do not outlive it.
  try {
    cold = new Map(entries.map(([label, command]) => [label, wallMillis(command)]))
    for (let run = 0; run < options.runs; run++) {
      for (const [label, command] of run % 2 === 0 ? entries : [...entries].reverse()) times.get(label)?.push(wallMillis(command))
    }
  } finally {
    await server.stop()
    reference.cleanUp()
  }
  const medians = Object.fromEntries(entries.map(([label]) => [label, median(times.get(label) ?? [])]))
  const of = (label: keyof typeof commands): number => medians[label] ?? Number.NaN
  const floor = of("one-shot zeromq.js client")
  const ours = of("orchestrate ps")
  printTable(
    `CLI wall time, median of ${options.runs} interleaved runs`,
    ["command", "median", "first run", "vs one-shot floor"],
    entries.map(([label]) => {
      const value = medians[label] ?? Number.NaN
      return [label, `${value.toFixed(1)} ms`, `${(cold.get(label) ?? 0).toFixed(1)} ms`, ratio(value / floor)]
    })
  )
  // Differences of the medians above, measured in the same rounds.
  const breakdown = {
    "Node itself": of("node -e 0"),
    "loading zeromq.js": of("node importing zeromq") - of("node -e 0"),
    "the request and its answer (floor - Node - zeromq.js)": floor - of("node importing zeromq"),
    "the fast path's own modules and work (ps - floor)": ours - floor,
    "what the full CLI adds to ps (effect, effect/cli, Schema)": of("orchestrate ps, full CLI") - ours,
    "what status adds to ps (effect's DateTime)": of("orchestrate status") - ours,
    "what trying the fast path costs a command it leaves to the full CLI (ps --help)":
      of("orchestrate ps --help") - of("orchestrate ps --help, full CLI")
  }
  printTable("Where orchestrate ps spends its time", ["part", "ms"], Object.entries(breakdown).map(([part, ms]) => [part, ms.toFixed(1)]))
  console.log(`target orchestrate ps <= ${TARGET}x the one-shot floor: ${verdict(ours / floor <= TARGET)} (${ratio(ours / floor)})`)
  const referenceRatios = Object.fromEntries(reference.measured.map(([label]) => [label, (medians[label] ?? Number.NaN) / floor]))
  for (const [label, value] of Object.entries(referenceRatios)) console.log(`reference, no target: ${label} ${ratio(value)} the one-shot floor`)
  for (const [label, why] of reference.notMeasured) console.log(`reference, no target: ${label} not measured: ${why}`)
  return {
    medians,
    cold: Object.fromEntries(cold),
    breakdown,
    ratio: ours / floor,
    target: TARGET,
    met: ours / floor <= TARGET,
    reference: { ratios: referenceRatios, notMeasured: Object.fromEntries(reference.notMeasured) }
  }
}
