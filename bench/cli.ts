/**
 * 4. CLI wall time: `orchestrate ps` as a process, end to end, against `node -e 0` and against a minimal
 * zeromq.js one-shot client (the floor), interleaved. Target: <= 2x the one-shot floor.
 */
import { spawnSync } from "node:child_process"
import * as Path from "node:path"
import { benchDir, projectDir, startServer } from "./lib/processes.ts"
import { median, printTable, ratio, verdict } from "./lib/stats.ts"

const wallMillis = (args: ReadonlyArray<string>): number => {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}`)
  return elapsed
}

export const cli = async (options: { readonly runs: number }) => {
  const server = await startServer("command-interface.ts", ["--agents", "10"])
  const commands = {
    "node -e 0": ["-e", "0"],
    "one-shot zeromq.js client": [Path.join(benchDir, "servers", "oneshot-client.mjs"), server.endpoint],
    "orchestrate ps": [Path.join(projectDir, "bin", "orchestrate.js"), "ps", "--address", server.endpoint]
  } as const
  type Label = keyof typeof commands
  const labels = Object.keys(commands) as Array<Label>
  const times: Record<Label, Array<number>> = { "node -e 0": [], "one-shot zeromq.js client": [], "orchestrate ps": [] }
  // The first run of each fills caches (the file system's, V8's compile cache): reported apart.
  const cold = Object.fromEntries(labels.map((label) => [label, wallMillis(commands[label])]))
  for (let run = 0; run < options.runs; run++) {
    for (const label of run % 2 === 0 ? labels : [...labels].reverse()) times[label].push(wallMillis(commands[label]))
  }
  await server.stop()
  const floor = median(times["one-shot zeromq.js client"])
  const ours = median(times["orchestrate ps"])
  printTable(
    `CLI wall time, median of ${options.runs} interleaved runs`,
    ["command", "median", "first run", "vs one-shot floor"],
    labels.map((label) => [label, `${median(times[label]).toFixed(1)} ms`, `${(cold[label] ?? 0).toFixed(1)} ms`, ratio(median(times[label]) / floor)])
  )
  console.log(`target orchestrate ps <= 2x the one-shot floor: ${verdict(ours / floor <= 2)}`)
  return { medians: Object.fromEntries(labels.map((label) => [label, median(times[label])])), cold, ratio: ours / floor, target: 2, met: ours / floor <= 2 }
}
