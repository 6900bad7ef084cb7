/**
 * 10. Crash-to-restart: an agent that fails at once (exit 1), restart `on-failure` with backoff 0, under the real
 * `orchestrate up`, against the floor: a shell loop running the same program again as soon as it exits (`sh -c
 * 'while ...; do <agent>; done'`, counted to the same number of runs). Interleaved rounds, medians.
 *
 * Measured as the agent sees it: each run appends `$EPOCHREALTIME` (bash's clock, read without a fork) to a file as
 * its first act and again just before it exits; a gap is from one run's exit line to the next run's start line. It
 * includes what both sides pay: bash starting, and the kernel reaping the exited process; the orchestrator adds
 * noticing the exit, recording it, stopping what the run left behind, and spawning the next run. A second table splits
 * the orchestrator's restarts at its events (AGENT_FAILED, AGENT_QUEUED, AGENT_STARTED, read from `history`).
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { spawn } from "node:child_process"
import { setTimeout as sleep } from "node:timers/promises"
import type { HistoryEvent } from "../src/protocol/Model.ts"
import { ask, historyEvents } from "./lib/commands.ts"
import { exitOf } from "./lib/processes.ts"
import { loadAverage, median, percentile, printTable, ratio, sortedCopy } from "./lib/stats.ts"
import { startUp } from "./lib/up.ts"

/** The agent: two timestamps and a failing exit. `$EPOCHREALTIME` is seconds with six decimals. */
const agentScript = (file: string) =>
  `printf 's %s\\n' "$EPOCHREALTIME" >> '${file}'; printf 'e %s\\n' "$EPOCHREALTIME" >> '${file}'; exit 1`

/** `1796169217.445384` as integer microseconds (exact: 1.8e15 is well within a double's 2^53). */
const micros = (stamp: string): number => {
  const [seconds = "", fraction = ""] = stamp.split(".")
  return Number(seconds) * 1e6 + Number(fraction.padEnd(6, "0"))
}

/** Each run's first act and last, in epoch microseconds, in order. */
const runsIn = (file: string): { readonly starts: Array<number>; readonly exits: Array<number> } => {
  const lines = Fs.readFileSync(file, "latin1").split("\n").filter((line) => line !== "")
  return {
    starts: lines.filter((line) => line.startsWith("s ")).map((line) => micros(line.slice(2))),
    exits: lines.filter((line) => line.startsWith("e ")).map((line) => micros(line.slice(2)))
  }
}

/** The gaps, in milliseconds, between each run's exit and the next run's start, for the first `runs` runs. */
const gapsOf = (file: string, runs: number): Array<number> => {
  const { starts, exits } = runsIn(file)
  const gaps: Array<number> = []
  for (let run = 1; run < Math.min(runs, starts.length); run++) {
    const exit = exits[run - 1]
    const start = starts[run]
    if (exit !== undefined && start !== undefined) gaps.push((start - exit) / 1000)
  }
  return gaps
}

/** Where a restart's time goes, in milliseconds, from the orchestrator's events (whole milliseconds) between. */
interface Phases {
  /** The run's last act to its AGENT_FAILED: noticing the exit, draining its pipes, stopping what it left. */
  readonly exitToFailed: number
  /** AGENT_FAILED (with AGENT_RESTARTED) to AGENT_QUEUED: the backoff of 0 and the log note. */
  readonly failedToQueued: number
  /** AGENT_QUEUED to AGENT_STARTED: a worker slot, the probe runner, the spawn (fork and exec) of the next run. */
  readonly queuedToStarted: number
  /** AGENT_STARTED to the next run's first act: bash starting, while the orchestrator records the start. */
  readonly startedToFirstAct: number
}

const phasesOf = (file: string, runs: number, events: ReadonlyArray<HistoryEvent>): Array<Phases> => {
  const { starts, exits } = runsIn(file)
  const times = (name: string) => events.filter((event) => event.eventName === name).map((event) => event.timestamp.epochMilliseconds)
  const failed = times("AGENT_FAILED")
  // The first AGENT_QUEUED is the initial one; the one after each failure is the (n + 1)-th.
  const queued = times("AGENT_QUEUED").slice(1)
  const started = times("AGENT_STARTED")
  const phases: Array<Phases> = []
  for (let run = 1; run < runs; run++) {
    const exit = exits[run - 1]
    const firstAct = starts[run]
    const failedAt = failed[run - 1]
    const queuedAt = queued[run - 1]
    const startedAt = started[run]
    if (exit === undefined || firstAct === undefined || failedAt === undefined || queuedAt === undefined || startedAt === undefined) continue
    phases.push({
      exitToFailed: failedAt - exit / 1000,
      failedToQueued: queuedAt - failedAt,
      queuedToStarted: startedAt - queuedAt,
      startedToFirstAct: firstAct / 1000 - startedAt
    })
  }
  return phases
}

const startsIn = (file: string): number => {
  try {
    return Fs.readFileSync(file, "latin1").split("\n").filter((line) => line.startsWith("s ")).length
  } catch {
    return 0
  }
}

/** The floor: a shell runs the agent `runs` times, each as soon as the last has exited. */
const shellLoop = async (runs: number): Promise<Array<number>> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-bench-restart-"))
  const file = Path.join(dir, "runs")
  const child = spawn("sh", ["-c", `i=0; while [ "$i" -lt ${runs} ]; do "$@"; i=$((i + 1)); done`, "sh", "bash", "-c", agentScript(file)], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, LC_ALL: "C" }
  })
  const code = await exitOf(child)
  if (code !== 0) throw new Error(`the shell loop exited ${code}`)
  const gaps = gapsOf(file, runs)
  Fs.rmSync(dir, { recursive: true, force: true })
  return gaps
}

/** The same agent under `orchestrate up`, until it has started `runs` times. */
const orchestrated = async (runs: number): Promise<{ readonly gaps: Array<number>; readonly phases: Array<Phases> }> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "orch-bench-restart-"))
  const file = Path.join(dir, "runs")
  const up = startUp({
    agents: [{
      name: "crasher",
      command: "bash",
      args: ["-c", agentScript(file)],
      env: { LC_ALL: "C" },
      restart: "on-failure",
      maxRestarts: 1_000_000,
      backoff: { initial: 0, max: 0 }
    }]
  })
  // The file is all there is to watch: its lines are the runs. 100 µs of reading every 20 ms.
  const deadline = performance.now() + 60_000
  while (startsIn(file) < runs) {
    if (performance.now() > deadline) {
      throw new Error(`the agent started only ${startsIn(file)} of ${runs} times within 60 s; up logged:\n${up.log().slice(-2000)}`)
    }
    await sleep(20)
  }
  const history = await ask(up.address, { command: "history", args: [{ agent: "crasher", limit: 1000 }] })
  await up.stop()
  const gaps = gapsOf(file, runs)
  const phases = phasesOf(file, runs, historyEvents(history.json))
  Fs.rmSync(dir, { recursive: true, force: true })
  return { gaps, phases }
}

interface Round {
  readonly floor: ReadonlyArray<number>
  readonly orchestrator: ReadonlyArray<number>
  readonly phases: ReadonlyArray<Phases>
}

export const restart = async (options: { readonly rounds: number; readonly restarts: number }) => {
  const runs = options.restarts + 1
  const rounds: Array<Round> = []
  for (let round = 0; round < options.rounds; round++) {
    const floorFirst = round % 2 === 0
    const floor = floorFirst ? await shellLoop(runs) : undefined
    const { gaps, phases } = await orchestrated(runs)
    rounds.push({ floor: floor ?? await shellLoop(runs), orchestrator: gaps, phases })
  }
  const stats = (values: ReadonlyArray<number>) => {
    const sorted = sortedCopy(values)
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
  }
  const perRound = rounds.map((round) => ({ floor: stats(round.floor), orchestrator: stats(round.orchestrator) }))
  const medianOf = (pick: (round: (typeof perRound)[number]) => number) => median(perRound.map(pick))
  const ms = (value: number) => `${value.toFixed(2)} ms`
  const summary = {
    floorP50: medianOf((r) => r.floor.p50),
    floorP99: medianOf((r) => r.floor.p99),
    orchestratorP50: medianOf((r) => r.orchestrator.p50),
    orchestratorP99: medianOf((r) => r.orchestrator.p99),
    p50Ratio: medianOf((r) => r.orchestrator.p50 / r.floor.p50),
    p99Ratio: medianOf((r) => r.orchestrator.p99 / r.floor.p99)
  }
  const load = loadAverage()
  printTable(
    `Crash-to-restart: exit to the next run's first act, ${options.restarts} restarts per round (p99: the slowest), backoff 0 (load ${load})`,
    ["round", "shell loop p50", "p99", "orchestrate up p50", "p99", "p50 ratio", "p99 ratio"],
    [
      ...perRound.map((r, i) => [
        String(i + 1),
        ms(r.floor.p50),
        ms(r.floor.p99),
        ms(r.orchestrator.p50),
        ms(r.orchestrator.p99),
        ratio(r.orchestrator.p50 / r.floor.p50),
        ratio(r.orchestrator.p99 / r.floor.p99)
      ]),
      ["median", ms(summary.floorP50), ms(summary.floorP99), ms(summary.orchestratorP50), ms(summary.orchestratorP99), ratio(summary.p50Ratio), ratio(summary.p99Ratio)]
    ]
  )
  const phases = rounds.flatMap((round) => round.phases)
  const phase = (pick: (phases: Phases) => number) => stats(phases.map(pick))
  const breakdown = {
    exitToFailed: phase((p) => p.exitToFailed),
    failedToQueued: phase((p) => p.failedToQueued),
    queuedToStarted: phase((p) => p.queuedToStarted),
    startedToFirstAct: phase((p) => p.startedToFirstAct)
  }
  printTable(
    `Where the orchestrator's restarts go, ${phases.length} restarts (event times are whole milliseconds)`,
    ["phase", "p50", "p99"],
    ([
      ["exit -> AGENT_FAILED (exit noticed, pipes drained, leftovers looked for)", breakdown.exitToFailed],
      ["AGENT_FAILED -> AGENT_QUEUED (backoff 0)", breakdown.failedToQueued],
      ["AGENT_QUEUED -> AGENT_STARTED (slot, probes, fork and exec)", breakdown.queuedToStarted],
      ["AGENT_STARTED -> first act (bash starting)", breakdown.startedToFirstAct]
    ] as const).map(([label, value]) => [label, ms(value.p50), ms(value.p99)])
  )
  console.log("target: none in issue 14 (measured)")
  return { ...summary, breakdown, rounds: perRound, gaps: rounds.map(({ floor, orchestrator }) => ({ floor, orchestrator })), loadavg: load }
}
