/**
 * 11. Cold start: `orchestrate up` (the real CLI) with 10 agents, until every one is ready, against starting the
 * same 10 processes directly and waiting for the same readiness. Interleaved rounds, medians.
 *
 * Each agent is a small Node service: it listens on a port and then prints `ready`; its readiness is that line
 * (`readyLine`). Directly, the 10 are spawned at once and each is ready when its line arrives on its stdout. Under
 * the orchestrator, two figures, from the moment `up` is spawned:
 * - `up`, ready events: until the orchestrator has recorded the 10th AGENT_READY (its event times, read afterwards);
 * - `up` + `status --wait`: until `orchestrate status --wait`, spawned at the same moment as `up`, exits 0. This is
 *   what a user's script sees (`orchestrate up & orchestrate status --wait && ./smoke-tests`); it polls every 250 ms
 *   and pays its own start-up, on the same two cores.
 */
import { spawn } from "node:child_process"
import { ask, historyEvents, waitForRunning } from "./lib/commands.ts"
import { exitOf, killOnExit } from "./lib/processes.ts"
import { loadAverage, median, printTable, ratio } from "./lib/stats.ts"
import { BIN, epochMillis, startUp } from "./lib/up.ts"

const AGENTS = 10

/** A service that is ready once it listens; it runs until stopped. */
const SERVICE = `require("node:http").createServer().listen(0, "127.0.0.1", () => console.log("ready"))`

const config = {
  agents: Array.from({ length: AGENTS }, (_, i) => ({ name: `service-${i}`, command: process.execPath, args: ["-e", SERVICE], readyLine: "^ready$" }))
}

/** The baseline: the 10 spawned at once; milliseconds until the last has said it is ready. */
const direct = async (): Promise<number> => {
  const started = performance.now()
  const children = Array.from({ length: AGENTS }, () => killOnExit(spawn(process.execPath, ["-e", SERVICE], { stdio: ["ignore", "pipe", "inherit"] })))
  const ready = await Promise.all(children.map((child) =>
    new Promise<number>((resolve, reject) => {
      let seen = ""
      child.stdout.on("data", (chunk: Buffer) => {
        seen += chunk.toString()
        if (/^ready$/m.test(seen)) resolve(performance.now())
      })
      child.once("exit", (code) => reject(new Error(`a service exited (${code}) before it was ready`)))
    })
  ))
  const elapsed = Math.max(...ready) - started
  await Promise.all(children.map((child) => {
    child.kill("SIGTERM")
    return exitOf(child)
  }))
  return elapsed
}

interface Orchestrated {
  /** `up` spawned to ORCHESTRATOR_STARTED: its own start-up, before it starts any agent. */
  readonly startedMs: number
  /** `up` spawned to the last AGENT_READY. */
  readonly readyMs: number
}

/** `up` alone; what its events say. */
const orchestrated = async (): Promise<Orchestrated> => {
  const up = startUp(config)
  // The figure comes from the events' times, so asking only every 100 ms costs it nothing. The first request waits
  // until `up` answers, which it does before its agents are ready.
  await waitForRunning(up.address, AGENTS, 100)
  const events = historyEvents((await ask(up.address, { command: "history", args: [{ limit: 1000 }] })).json)
  await up.stop()
  const ready = events.filter((event) => event.eventName === "AGENT_READY").map((event) => event.timestamp.epochMilliseconds)
  const started = events.find((event) => event.eventName === "ORCHESTRATOR_STARTED")?.timestamp.epochMilliseconds
  if (ready.length !== AGENTS || started === undefined) throw new Error(`expected ${AGENTS} AGENT_READY and ORCHESTRATOR_STARTED, got ${JSON.stringify(events)}`)
  return { startedMs: started - up.spawnedAt, readyMs: Math.max(...ready) - up.spawnedAt }
}

/** `up` and `orchestrate status --wait` spawned together; milliseconds until the wait exits 0. */
const withStatusWait = async (): Promise<number> => {
  const up = startUp(config)
  const wait = spawn(process.execPath, [BIN, "status", "--wait", "--timeout", "30", "--address", up.address], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1" }
  })
  let said = ""
  wait.stderr.on("data", (chunk: Buffer) => (said += chunk.toString()))
  const code = await exitOf(wait)
  const elapsed = epochMillis() - up.spawnedAt
  await up.stop()
  if (code !== 0) throw new Error(`orchestrate status --wait exited ${code}: ${said}`)
  return elapsed
}

interface Round {
  readonly directMs: number
  readonly up: Orchestrated
  readonly statusWaitMs: number
}

export const coldStart = async (options: { readonly rounds: number }) => {
  const rounds: Array<Round> = []
  for (let round = 0; round < options.rounds; round++) {
    // Each of the three goes first, second and third in turn.
    const results: Partial<{ directMs: number; up: Orchestrated; statusWaitMs: number }> = {}
    const steps = [
      async () => (results.directMs = await direct()),
      async () => (results.up = await orchestrated()),
      async () => (results.statusWaitMs = await withStatusWait())
    ]
    for (let step = 0; step < steps.length; step++) await steps[(step + round) % steps.length]?.()
    if (results.directMs === undefined || results.up === undefined || results.statusWaitMs === undefined) throw new Error("a step did not run")
    rounds.push({ directMs: results.directMs, up: results.up, statusWaitMs: results.statusWaitMs })
  }
  const medianOf = (pick: (round: Round) => number) => median(rounds.map(pick))
  const summary = {
    directMs: medianOf((r) => r.directMs),
    upStartedMs: medianOf((r) => r.up.startedMs),
    upReadyMs: medianOf((r) => r.up.readyMs),
    statusWaitMs: medianOf((r) => r.statusWaitMs),
    readyRatio: medianOf((r) => r.up.readyMs / r.directMs),
    statusWaitRatio: medianOf((r) => r.statusWaitMs / r.directMs)
  }
  const ms = (value: number) => `${value.toFixed(0)} ms`
  const load = loadAverage()
  printTable(
    `Cold start: ${AGENTS} Node services until each is ready (listening, then its line), ${options.rounds} rounds (load ${load})`,
    ["round", "directly", "up: ORCHESTRATOR_STARTED", "up: last AGENT_READY", "ratio", "up + status --wait exits", "ratio"],
    [
      ...rounds.map((r, i) => [String(i + 1), ms(r.directMs), ms(r.up.startedMs), ms(r.up.readyMs), ratio(r.up.readyMs / r.directMs), ms(r.statusWaitMs), ratio(r.statusWaitMs / r.directMs)]),
      ["median", ms(summary.directMs), ms(summary.upStartedMs), ms(summary.upReadyMs), ratio(summary.readyRatio), ms(summary.statusWaitMs), ratio(summary.statusWaitRatio)]
    ]
  )
  console.log("target: none in issue 14 (measured)")
  return { ...summary, rounds, loadavg: load }
}
