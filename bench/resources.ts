/**
 * 9. What resource usage costs: the orchestrator's own CPU (utime + stime of its process, every thread) over a
 * window in which a client asks `ps` once a second, with 200 process agents (`sleep`). Sampling on, each `ps` finds
 * the last sample a second old and reads /proc again; the baseline is the same server whose sampler reads nothing
 * (`--no-resource-usage`). One server at a time, so that /proc holds one set of agents; each round runs both,
 * alternating which goes first; figures are medians over rounds.
 */
import * as Fs from "node:fs"
import { setTimeout as sleep } from "node:timers/promises"
import { connect, sequential } from "./lib/clients.ts"
import { dataOf, serverTimes, waitForRunning } from "./lib/commands.ts"
import { startServer } from "./lib/processes.ts"
import { loadAverage, median, printTable } from "./lib/stats.ts"

const AGENTS = 200

/** utime + stime of a process, every thread, in seconds (USER_HZ is 100). */
const cpuSecondsOf = (pid: number): number => {
  const text = Fs.readFileSync(`/proc/${pid}/stat`, "latin1")
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const processCount = (): number => Fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).length

interface Window {
  /** The orchestrator's CPU over the window, in percent of one core. */
  readonly cpuPercent: number
  /** Median server-side time of the window's `ps` requests. */
  readonly psServerMillis: number
  /** How many agents the last `ps` gave a memory figure: all of them when sampling, none otherwise. */
  readonly measuredAgents: number
  readonly processes: number
}

const measure = async (sampling: boolean, windowSeconds: number): Promise<Window> => {
  const server = await startServer("command-interface.ts", [
    "--agents", "0", "--process-agents", String(AGENTS), ...(sampling ? [] : ["--no-resource-usage"])
  ])
  await waitForRunning(server.endpoint, AGENTS)
  // Past the start-up's own work (200 spawns, their events) before the window opens.
  await sleep(3000)
  const socket = connect(server.endpoint)
  const ps = JSON.stringify({ command: "ps" })
  const startedCpu = cpuSecondsOf(server.pid)
  const started = performance.now()
  let requests = 0
  let last: Buffer | undefined
  for (let tick = 1; tick <= windowSeconds; tick++) {
    last = (await sequential(socket, ps, 1)).last
    requests++
    await sleep(Math.max(0, started + tick * 1000 - performance.now()))
  }
  const cpuPercent = (cpuSecondsOf(server.pid) - startedCpu) / ((performance.now() - started) / 1000) * 100
  socket.close()
  const agents = dataOf(JSON.parse(last?.toString() ?? "{}"))["agents"]
  const measuredAgents = Array.isArray(agents)
    ? agents.filter((agent: unknown) => typeof agent === "object" && agent !== null && "memory_bytes" in agent && agent.memory_bytes !== null).length
    : 0
  const psServerMillis = median(await serverTimes(server.endpoint, "ps", requests))
  const processes = processCount()
  await server.stop()
  return { cpuPercent, psServerMillis, measuredAgents, processes }
}

export const resources = async (options: { readonly rounds: number; readonly windowSeconds: number }) => {
  const rows: Array<{ readonly on: Window; readonly off: Window }> = []
  for (let round = 0; round < options.rounds; round++) {
    const first = round % 2 === 0
    const a = await measure(first, options.windowSeconds)
    const b = await measure(!first, options.windowSeconds)
    rows.push(first ? { on: a, off: b } : { on: b, off: a })
  }
  const load = loadAverage()
  const medianOf = (pick: (row: (typeof rows)[number]) => number) => median(rows.map(pick))
  const cost = medianOf((row) => row.on.cpuPercent - row.off.cpuPercent)
  const format = (row: (typeof rows)[number], label: string) => [
    label,
    `${row.off.cpuPercent.toFixed(2)}%`,
    `${row.on.cpuPercent.toFixed(2)}%`,
    `${(row.on.cpuPercent - row.off.cpuPercent).toFixed(2)}%`,
    `${row.off.psServerMillis.toFixed(2)} / ${row.on.psServerMillis.toFixed(2)} ms`,
    `${row.off.measuredAgents} / ${row.on.measuredAgents}`,
    String(row.on.processes)
  ]
  printTable(
    `Resource usage: orchestrator CPU with ${AGENTS} process agents, ps every second for ${options.windowSeconds} s (load ${load})`,
    ["round", "sampling off", "sampling on", "cost", "ps server-side off / on", "agents with figures", "processes"],
    [
      ...rows.map((row, i) => format(row, String(i + 1))),
      [
        "median",
        `${medianOf((row) => row.off.cpuPercent).toFixed(2)}%`,
        `${medianOf((row) => row.on.cpuPercent).toFixed(2)}%`,
        `${cost.toFixed(2)}%`,
        `${medianOf((row) => row.off.psServerMillis).toFixed(2)} / ${medianOf((row) => row.on.psServerMillis).toFixed(2)} ms`,
        "",
        ""
      ]
    ]
  )
  return { rounds: rows, costPercentOfCore: cost, loadavg: load }
}
