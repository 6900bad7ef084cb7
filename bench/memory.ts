/**
 * 12. Memory: the resident set of `orchestrate up` (the real CLI, its dist bundle) running 0, 50, 200 and 500 process
 * agents (`sleep`), and the slope per agent of a least-squares line through those points. Target (issue 14): RSS
 * with 200 process agents <= 120 MiB. The guardian is a process of its own and not counted.
 *
 * Each count is measured `settleSeconds` after its last agent is running (heartbeats keep allocating, and the RSS
 * creeps up for some seconds), in rounds that alternate ascending and descending order; figures are medians over
 * rounds. A preload (bench/servers/memory-report.mjs, `--expose-gc`) then says how the memory splits: what V8 has
 * committed (its young generation apart) when the RSS was read, the JavaScript heap still live after a full
 * collection, and array buffers; /proc says what is anonymous memory and what mapped files. One more row, measured in
 * each round too: the 200 agents with V8's own young generation limit (`--max-semi-space-size=0`), which `up` would
 * have without the cap that bin/orchestrate.js gives it (4 MiB semi-spaces).
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { waitForRunning } from "./lib/commands.ts"
import { benchDir, memoryOf, type ProcessMemory } from "./lib/processes.ts"
import { linearFit, loadAverage, median, printTable, verdict } from "./lib/stats.ts"
import { startUp } from "./lib/up.ts"

const COUNTS = [0, 50, 200, 500] as const
const TARGET_MIB = 120
const TARGET_AGENTS = 200
const MiB = 2 ** 20

interface Measured {
  readonly usage: { readonly heapUsed: number; readonly heapTotal: number; readonly arrayBuffers: number }
  /** What V8 has committed to its young generation (new space). */
  readonly youngGeneration: number
}

interface Report {
  /** As the process was when the RSS was read. */
  readonly before: Measured
  /** After a full collection: what is live. */
  readonly after: Measured
}

const isReport = (value: unknown): value is Report =>
  typeof value === "object" && value !== null && "before" in value && "after" in value

interface Sample extends ProcessMemory {
  readonly agents: number
  readonly liveHeapMiB: number
  readonly committedHeapMiB: number
  readonly youngGenerationMiB: number
  readonly arrayBuffersMiB: number
}

/**
 * The same 200 agents with V8's default young generation, in every round: what the cap `up` runs with saves (the
 * young generation V8 grows during the start-up's burst of spawns and keeps). A limit given on the command line
 * leaves bin/orchestrate.js's own out, and 0 is V8's default.
 */
const UNCAPPED = ["--max-semi-space-size=0"] as const

const measure = async (agents: number, settleSeconds: number, nodeArgs: ReadonlyArray<string> = []): Promise<Sample> => {
  const reportDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-bench-memory-"))
  const reportFile = Path.join(reportDir, "memory.json")
  const up = startUp(
    {
      maxWorkers: Math.max(1, agents),
      agents: Array.from({ length: agents }, (_, i) => ({ name: `sleeper-${i}`, command: "sleep", args: ["3600"] }))
    },
    {
      nodeArgs: ["--expose-gc", "--import", Path.join(benchDir, "servers", "memory-report.mjs"), ...nodeArgs],
      env: { MEMORY_REPORT_FILE: reportFile }
    }
  )
  await waitForRunning(up.address, agents)
  await sleep(settleSeconds * 1000)
  const read = memoryOf(up.pid)
  process.kill(up.pid, "SIGUSR2")
  while (!Fs.existsSync(reportFile)) await sleep(50)
  const report: unknown = JSON.parse(Fs.readFileSync(reportFile, "utf8"))
  await up.stop()
  Fs.rmSync(reportDir, { recursive: true, force: true })
  if (!isReport(report)) throw new Error(`unexpected memory report: ${JSON.stringify(report)}`)
  return {
    agents,
    ...read,
    liveHeapMiB: report.after.usage.heapUsed / MiB,
    committedHeapMiB: report.before.usage.heapTotal / MiB,
    youngGenerationMiB: report.before.youngGeneration / MiB,
    arrayBuffersMiB: report.after.usage.arrayBuffers / MiB
  }
}

export const memory = async (options: { readonly rounds: number; readonly settleSeconds: number }) => {
  const samples: Array<Sample> = []
  const uncapped: Array<Sample> = []
  for (let round = 0; round < options.rounds; round++) {
    for (const agents of round % 2 === 0 ? COUNTS : [...COUNTS].reverse()) samples.push(await measure(agents, options.settleSeconds))
    uncapped.push(await measure(TARGET_AGENTS, options.settleSeconds, UNCAPPED))
  }
  const at = (agents: number, pick: (sample: Sample) => number) => median(samples.filter((s) => s.agents === agents).map(pick))
  const fit = (pick: (sample: Sample) => number, counts: ReadonlyArray<number>) =>
    linearFit(samples.filter((s) => counts.includes(s.agents)).map((s) => [s.agents, pick(s)] as const))
  const perAgentKiB = (pick: (sample: Sample) => number, counts: ReadonlyArray<number> = COUNTS) => fit(pick, counts).slope * 1024
  const mib = (value: number) => `${value.toFixed(1)} MiB`
  const load = loadAverage()
  const columns: ReadonlyArray<readonly [string, (sample: Sample) => number]> = [
    ["RSS", (s) => s.rssMiB],
    ["anonymous", (s) => s.anonymousMiB],
    ["file-backed", (s) => s.fileMiB],
    ["V8 heap committed", (s) => s.committedHeapMiB],
    ["of it young gen.", (s) => s.youngGenerationMiB],
    ["live JS heap (after GC)", (s) => s.liveHeapMiB],
    ["array buffers", (s) => s.arrayBuffersMiB]
  ]
  printTable(
    `Memory of orchestrate up with process agents (sleep), ${options.settleSeconds} s after the last is running, median of ${options.rounds} rounds (load ${load})`,
    ["agents", ...columns.map(([label]) => label)],
    [
      ...COUNTS.map((agents) => [String(agents), ...columns.map(([, pick]) => mib(at(agents, pick)))]),
      [`${TARGET_AGENTS}, ${UNCAPPED.join(" ")}`, ...columns.map(([, pick]) => mib(median(uncapped.map(pick))))],
      ["KiB per agent (fit 0-500)", ...columns.map(([, pick]) => perAgentKiB(pick).toFixed(0))],
      ["KiB per agent (fit 50-500)", ...columns.map(([, pick]) => perAgentKiB(pick, [50, 200, 500]).toFixed(0))]
    ]
  )
  const rssAtTarget = at(TARGET_AGENTS, (s) => s.rssMiB)
  const rssFit = fit((s) => s.rssMiB, COUNTS)
  const uncappedRss = median(uncapped.map((s) => s.rssMiB))
  console.log(`target RSS with ${TARGET_AGENTS} process agents <= ${TARGET_MIB} MiB: ${verdict(rssAtTarget <= TARGET_MIB)} (${mib(rssAtTarget)}; fit ${mib(rssFit.intercept)} + ${(rssFit.slope * 1024).toFixed(0)} KiB per agent; ${mib(uncappedRss)} with ${UNCAPPED.join(" ")})`)
  return {
    samples,
    uncapped: { nodeArgs: UNCAPPED, samples: uncapped, rssMiB: uncappedRss },
    rssMiB: Object.fromEntries(COUNTS.map((agents) => [agents, at(agents, (s) => s.rssMiB)])),
    rssSlopeKiBPerAgent: rssFit.slope * 1024,
    rssInterceptMiB: rssFit.intercept,
    rssSlopeKiBPerAgentFrom50: perAgentKiB((s) => s.rssMiB, [50, 200, 500]),
    liveHeapSlopeKiBPerAgent: perAgentKiB((s) => s.liveHeapMiB),
    target: TARGET_MIB,
    met: rssAtTarget <= TARGET_MIB,
    loadavg: load
  }
}
