/**
 * 8. Agent logs: an agent writing 1,000,000 lines of 100 bytes, under the orchestrator, against the same program
 * writing to /dev/null, in the same round. The orchestrator keeps the lines as `orchestrate up` does: with log files
 * off (`up --quiet`), on (`--logs-dir`), and shown in the foreground (`up`, its stdout on /dev/null, so that every
 * line is shown). Each round runs those three once with nothing else going on, for the ratio, the orchestrator's
 * CPU and its peak RSS; then files off and on again while a client sends `ps` back to back, for `ps` latency while
 * it runs (and the ratio under that load: on two shared cores, the client competes with both processes).
 * Targets: at most 1.5x the /dev/null run, files off and on; `ps` p99 under 10 ms.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Readable } from "node:stream"
import { connect } from "./lib/clients.ts"
import { benchDir, killOnExit } from "./lib/processes.ts"
import { loadAverage, median, percentile, printTable, ratio, sortedCopy, verdict } from "./lib/stats.ts"
import { WRITER } from "./lib/logWriter.ts"

const PS = JSON.stringify({ command: "ps" })

/**
 * The V8 heap flags `orchestrate up` runs with (bin/orchestrate.js executes `up` again with them, and says why). The
 * server under test gets them too, so that this measures the collections users get.
 */
const UP_V8_FLAGS = ["--max-semi-space-size=4", "--initial-old-space-size=64"]

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
  readonly startMs: number
  readonly ranMs: number
  readonly cpuMs: number
  readonly peakRssMiB: number
  readonly lines: number
  readonly psTimes: ReadonlyArray<number>
}

interface Setup {
  /** Log files in this directory. */
  readonly dir?: string | undefined
  /** Agents' lines shown on the orchestrator's stdout, which is /dev/null. */
  readonly foreground?: boolean
  /** A client sends `ps` back to back while the agent runs. */
  readonly poll: boolean
}

/** One orchestrator run of the writer. */
const underOrchestrator = (setup: Setup): Promise<Flood> =>
  new Promise((resolve, reject) => {
    const devNull = Fs.openSync("/dev/null", "w")
    const args = [...(setup.dir === undefined ? [] : ["--dir", setup.dir]), ...(setup.foreground === true ? ["--foreground"] : [])]
    const child = killOnExit(spawn(process.execPath, [...UP_V8_FLAGS, Path.join(benchDir, "servers", "log-flood.ts"), ...args], {
      stdio: ["ignore", devNull, "inherit", "pipe"]
    }))
    Fs.closeSync(devNull)
    const reports = child.stdio[3] as Readable
    let buffered = ""
    let polling = false
    let done = false
    const psTimes: Array<number> = []
    reports.on("data", (chunk: Buffer) => {
      buffered += chunk.toString()
      const ready = /READY (\S+)/.exec(buffered)
      if (ready?.[1] !== undefined && setup.poll && !polling) {
        polling = true
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
      if (finished?.[1] !== undefined && !done) {
        done = true
        resolve({ ...(JSON.parse(finished[1]) as Omit<Flood, "psTimes">), psTimes })
      }
    })
    child.once("exit", (code) => {
      if (!done) reject(new Error(`log-flood exited (${code}) before it was done: ${buffered}`))
    })
  })

interface Round {
  readonly baseMs: number
  readonly off: Flood
  readonly on: Flood
  readonly shown: Flood
  readonly offPolled: Flood
  readonly onPolled: Flood
}

export const logs = async (options: { readonly rounds: number }) => {
  const rounds: Array<Round> = []
  for (let round = 0; round < options.rounds; round++) {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-bench-logs-"))
    const fresh = () => {
      Fs.rmSync(dir, { recursive: true, force: true })
      return dir
    }
    const baseMs = await baseline()
    const off = await underOrchestrator({ poll: false })
    const on = await underOrchestrator({ dir: fresh(), poll: false })
    const shown = await underOrchestrator({ foreground: true, poll: false })
    const offPolled = await underOrchestrator({ poll: true })
    const onPolled = await underOrchestrator({ dir: fresh(), poll: true })
    Fs.rmSync(dir, { recursive: true, force: true })
    rounds.push({ baseMs, off, on, shown, offPolled, onPolled })
  }
  const p = (flood: Flood, at: number) => percentile(sortedCopy(flood.psTimes), at) / 1000
  const vs = (flood: Flood, r: Round) => `${flood.ranMs.toFixed(0)} ms ${ratio(flood.ranMs / r.baseMs)}`
  printTable(
    `Agent logs: 1,000,000 lines of 100 bytes, ${options.rounds} rounds (load ${loadAverage()})`,
    ["round", "/dev/null", "files off", "files on", "foreground", "cpu (off/on/fg)", "peak RSS (off/on/fg)", "start"],
    rounds.map((r, i) => [
      String(i + 1),
      `${r.baseMs.toFixed(0)} ms`,
      vs(r.off, r),
      vs(r.on, r),
      vs(r.shown, r),
      `${r.off.cpuMs.toFixed(0)} / ${r.on.cpuMs.toFixed(0)} / ${r.shown.cpuMs.toFixed(0)} ms`,
      `${r.off.peakRssMiB.toFixed(0)} / ${r.on.peakRssMiB.toFixed(0)} / ${r.shown.peakRssMiB.toFixed(0)} MiB`,
      `${r.off.startMs.toFixed(0)} ms`
    ])
  )
  printTable(
    "The same while a client sends `ps` back to back",
    ["round", "files off", "files on", "ps p50 (off/on)", "ps p99 (off/on)", "requests (off/on)"],
    rounds.map((r, i) => [
      String(i + 1),
      vs(r.offPolled, r),
      vs(r.onPolled, r),
      `${p(r.offPolled, 50).toFixed(2)} / ${p(r.onPolled, 50).toFixed(2)} ms`,
      `${p(r.offPolled, 99).toFixed(1)} / ${p(r.onPolled, 99).toFixed(1)} ms`,
      `${r.offPolled.psTimes.length} / ${r.onPolled.psTimes.length}`
    ])
  )
  const ratioOf = (pick: (r: Round) => Flood) => median(rounds.map((r) => pick(r).ranMs / r.baseMs))
  const offRatio = ratioOf((r) => r.off)
  const onRatio = ratioOf((r) => r.on)
  const shownRatio = ratioOf((r) => r.shown)
  const polledRatios = { off: ratioOf((r) => r.offPolled), on: ratioOf((r) => r.onPolled) }
  const worstP99 = Math.max(...rounds.flatMap((r) => [p(r.offPolled, 99), p(r.onPolled, 99)]))
  const met = onRatio <= 1.5 && offRatio <= 1.5 && worstP99 < 10
  console.log(
    `target <= 1.5x the /dev/null run and ps p99 < 10 ms: ${verdict(met)} (files off ${ratio(offRatio)}, on ${ratio(onRatio)}, ` +
      `worst ps p99 ${worstP99.toFixed(1)} ms); foreground ${ratio(shownRatio)}; polled: files off ${ratio(polledRatios.off)}, on ${ratio(polledRatios.on)}`
  )
  return { rounds, offRatio, onRatio, shownRatio, polledRatios, worstP99, met }
}
