/**
 * 8. Agent logs: an agent writing 1,000,000 lines of 100 bytes, under the orchestrator (log files off, then on)
 * against the same program writing to /dev/null, in the same round, with `ps` latency measured while it runs.
 * Targets: at most 1.5x the /dev/null run; `ps` p99 under 10 ms.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { connect } from "./lib/clients.ts"
import { benchDir } from "./lib/processes.ts"
import { median, percentile, printTable, ratio, sortedCopy, verdict } from "./lib/stats.ts"
import { WRITER } from "./servers/log-flood.ts"

const PS = JSON.stringify({ command: "ps" })

/** The writer alone, its stdout on /dev/null: what the program costs without anyone reading its output. */
const baseline = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const devNull = Fs.openSync("/dev/null", "w")
    const started = performance.now()
    const child = spawn(process.execPath, ["-e", WRITER], { stdio: ["ignore", devNull, "inherit"] })
    child.once("exit", (code) => {
      Fs.closeSync(devNull)
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`writer exited ${code}`))
    })
  })

interface Flood {
  readonly ranMs: number
  readonly cpuMs: number
  readonly peakRssMiB: number
  readonly lines: number
  readonly psTimes: ReadonlyArray<number>
}

/** One orchestrator run of the writer, with a client sending `ps` back to back until it is done. */
const underOrchestrator = (dir: string | undefined): Promise<Flood> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [Path.join(benchDir, "servers", "log-flood.ts"), ...(dir === undefined ? [] : ["--dir", dir])], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let buffered = ""
    let done = false
    const psTimes: Array<number> = []
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString()
      const ready = /READY (\S+)/.exec(buffered)
      if (ready?.[1] !== undefined && psTimes.length === 0 && !buffered.includes("POLLING")) {
        buffered += "POLLING"
        const socket = connect(ready[1])
        void (async () => {
          try {
            while (!done) {
              const started = process.hrtime.bigint()
              await socket.send(PS)
              await socket.receive()
              psTimes.push(Number(process.hrtime.bigint() - started) / 1000)
            }
          } catch {
            // The server exits once the run is done; a request in flight then gets no answer.
          }
          socket.close()
        })()
      }
      const finished = /DONE (\{.*\})/.exec(buffered)
      if (finished?.[1] !== undefined) {
        done = true
        resolve({ ...(JSON.parse(finished[1]) as Omit<Flood, "psTimes">), psTimes })
      }
    })
    child.once("exit", (code) => {
      if (!done) reject(new Error(`log-flood exited (${code}) before it was done: ${buffered}`))
    })
  })

export const logs = async (options: { readonly rounds: number }) => {
  const rounds: Array<{ baseMs: number; off: Flood; on: Flood }> = []
  for (let round = 0; round < options.rounds; round++) {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-bench-logs-"))
    const baseMs = await baseline()
    const off = await underOrchestrator(undefined)
    const on = await underOrchestrator(dir)
    Fs.rmSync(dir, { recursive: true, force: true })
    rounds.push({ baseMs, off, on })
  }
  const p99 = (flood: Flood) => percentile(sortedCopy(flood.psTimes), 99) / 1000
  printTable(
    `Agent logs: 1,000,000 lines of 100 bytes, ${options.rounds} rounds`,
    ["round", "/dev/null", "files off", "ratio", "files on", "ratio", "cpu (off/on)", "peak RSS (off/on)", "ps p99 (off/on)"],
    rounds.map((r, i) => [
      String(i + 1),
      `${r.baseMs.toFixed(0)} ms`,
      `${r.off.ranMs.toFixed(0)} ms`,
      ratio(r.off.ranMs / r.baseMs),
      `${r.on.ranMs.toFixed(0)} ms`,
      ratio(r.on.ranMs / r.baseMs),
      `${r.off.cpuMs.toFixed(0)} / ${r.on.cpuMs.toFixed(0)} ms`,
      `${r.off.peakRssMiB.toFixed(0)} / ${r.on.peakRssMiB.toFixed(0)} MiB`,
      `${p99(r.off).toFixed(1)} / ${p99(r.on).toFixed(1)} ms`
    ])
  )
  const offRatio = median(rounds.map((r) => r.off.ranMs / r.baseMs))
  const onRatio = median(rounds.map((r) => r.on.ranMs / r.baseMs))
  const worstP99 = Math.max(...rounds.flatMap((r) => [p99(r.off), p99(r.on)]))
  const met = onRatio <= 1.5 && offRatio <= 1.5 && worstP99 < 10
  console.log(`target <= 1.5x the /dev/null run and ps p99 < 10 ms: ${verdict(met)} (files off ${ratio(offRatio)}, on ${ratio(onRatio)}, worst ps p99 ${worstP99.toFixed(1)} ms)`)
  return { rounds, offRatio, onRatio, worstP99, met }
}
