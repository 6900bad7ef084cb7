/**
 * 4. CLI wall time: `orchestrate ps` as a process, end to end, against a minimal zeromq.js one-shot client (the
 * floor), interleaved round by round with the pieces of that floor (`node -e 0`, Node importing zeromq) and with
 * the full CLI (the same `ps` with ORCHESTRATE_NO_FAST_PATH=1, which skips the one-shot fast path), `status`
 * (whose fast path loads effect's DateTime) and `ps --help` both ways (what trying the fast path first costs a
 * command it leaves to the full CLI). Target (issue 14): `orchestrate ps` <= 1.3x the one-shot floor.
 */
import { spawnSync } from "node:child_process"
import * as Path from "node:path"
import { benchDir, projectDir, startServer } from "./lib/processes.ts"
import { median, printTable, ratio, verdict } from "./lib/stats.ts"
import { BIN } from "./lib/up.ts"

const TARGET = 1.3

interface Command {
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
}

const wallMillis = ({ args, env }: Command): number => {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, {
    cwd: projectDir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"]
  })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}`)
  return elapsed
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
  const entries: ReadonlyArray<readonly [string, Command]> = Object.entries(commands)
  const times = new Map(entries.map(([label]) => [label, new Array<number>()]))
  // The first run of each fills caches (the file system's, V8's compile cache): reported apart.
  const cold = new Map(entries.map(([label, command]) => [label, wallMillis(command)]))
  for (let run = 0; run < options.runs; run++) {
    for (const [label, command] of run % 2 === 0 ? entries : [...entries].reverse()) times.get(label)?.push(wallMillis(command))
  }
  await server.stop()
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
  return { medians, cold: Object.fromEntries(cold), breakdown, ratio: ours / floor, target: TARGET, met: ours / floor <= TARGET }
}
