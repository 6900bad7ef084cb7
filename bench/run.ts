/**
 * Runs the benchmarks and writes their results to bench/results/. Never part of `npm test`.
 *   npm run bench                   every benchmark
 *   npm run bench -- latency cli    some of them
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { cli } from "./cli.ts"
import { coldStart } from "./coldstart.ts"
import { eventStore } from "./eventstore.ts"
import { http } from "./http.ts"
import { httpCost } from "./httpcost.ts"
import { isolation } from "./isolation.ts"
import { latency } from "./latency.ts"
import { logs } from "./logs.ts"
import { benchDir } from "./lib/processes.ts"
import { memory } from "./memory.ts"
import { resources } from "./resources.ts"
import { restart } from "./restart.ts"
import { scale } from "./scale.ts"
import { scaling } from "./scaling.ts"
import { security } from "./security.ts"
import { throughput } from "./throughput.ts"

const benchmarks = {
  latency: () => latency({ rounds: 10, perRound: 2000 }),
  throughput: () => throughput({ rounds: 3, millis: 1500 }),
  isolation: () => isolation({ rounds: 3, perRound: 2000 }),
  cli: () => cli({ runs: 20 }),
  eventstore: () => eventStore({ capacity: 100_000, events: 500_000, queries: 2000 }),
  scale: () => scale(),
  security: () => security({ rounds: 6, perRound: 2000 }),
  logs: () => logs({ rounds: 3 }),
  resources: () => resources({ rounds: 3, windowSeconds: 20 }),
  restart: () => restart({ rounds: 3, restarts: 50 }),
  coldstart: () => coldStart({ rounds: 5 }),
  memory: () => memory({ rounds: 2, settleSeconds: 10 }),
  scaling: () => scaling({ rounds: 2, requests: 100 }),
  // Short rounds, many of them: a 5% target needs the noise of a shared machine to land on both sides (10 x 2000
  // gave same-server A/A ratios of 0.93x and up to 1.34x a round; 40 x 1000 gave 0.99x twice).
  httpcost: () => httpCost({ rounds: 40, perRound: 1000, scrapeMillis: 1000 }),
  http: () => http({ rounds: 20, perRound: 1000 })
} as const

type Name = keyof typeof benchmarks
const isName = (name: string): name is Name => Object.hasOwn(benchmarks, name)

const requested = process.argv.slice(2)
const unknown = requested.filter((name) => !isName(name))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(benchmarks).join(", ")}`)
  process.exit(2)
}
const names = requested.length === 0 ? Object.keys(benchmarks).filter(isName) : requested.filter(isName)

const machine = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: Os.cpus().length,
  cpuModel: Os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(Os.totalmem() / 2 ** 30)
}
console.log(`${machine.date}  node ${machine.node}  ${machine.cpus} x ${machine.cpuModel}  ${machine.memoryGiB} GiB`)

const results: Record<string, unknown> = {}
for (const name of names) results[name] = await benchmarks[name]()

const dir = Path.join(benchDir, "results")
Fs.mkdirSync(dir, { recursive: true })
const file = Path.join(dir, `${machine.date.replace(/[:.]/g, "-")}.json`)
Fs.writeFileSync(file, `${JSON.stringify({ machine, results }, null, 2)}\n`)
console.log(`\nresults written to ${Path.relative(process.cwd(), file)}`)
process.exit(0)
