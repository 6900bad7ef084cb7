/**
 * What each process agent uses: CPU (in percent of one core) and resident memory, summed over every process of
 * its run (its group, its descendants and the processes carrying its marker, as ProcessTable finds them), and the
 * CPU seconds it has used in all.
 *
 * Sampled only when asked (`ps`, `status`, `stats`), and at most once every `SAMPLE_INTERVAL`: within it, every
 * caller gets the last sample, so a dashboard polling ten times a second costs one scan of /proc a second (the cost
 * at 200 agents is in bench/README.md). No timer runs while nobody asks.
 *
 * - `cpuPercent` is CPU time over wall time since the previous sample, per process (named by its pid and start
 *   time, so that a reused pid starts afresh), summed: 100 is one core, and an agent busy on several cores
 *   exceeds it. A process the previous sample did not see (every process, on the first sample) counts with what
 *   it used over the interval if it started within it, or else with its average since it started.
 * - `memoryBytes` is the sum of the processes' resident sets, shared pages counted in each (as `ps` and `top` do).
 * - `cpuSeconds` only grows: it adds each sample's increase of every process of the agent's runs, across restarts,
 *   so that it can be exported as a counter. What a process uses between the last sample and its exit is not seen.
 *
 * An agent whose run has no process left, or that was not running at the last sample, has no `cpuPercent` and no
 * `memoryBytes` (null) until the next one.
 */
import { Clock, Context, Duration, Effect, Layer, Semaphore } from "effect"
import { ProcessStats } from "./ProcessStats.ts"
import type { Run } from "./ProcessTable.ts"

/** The most often /proc is read; callers in between get the last sample. */
export const SAMPLE_INTERVAL = Duration.seconds(1)

/** A process that started within this of its sample is taken to have run this long, not zero. */
const SHORTEST_AGE_SECONDS = 0.01

export interface AgentUsage {
  readonly cpuPercent: number | null
  readonly memoryBytes: number | null
  readonly cpuSeconds: number | null
}

/** What is known of an Effect agent, or of an agent never sampled: nothing. */
export const NO_USAGE: AgentUsage = { cpuPercent: null, memoryBytes: null, cpuSeconds: null }

/** A process agent's run in progress. */
export interface AgentProcesses {
  readonly agent: string
  readonly run: Run
}

/** Per-sample figures of one run. */
interface RunUsage {
  readonly cpuPercent: number
  readonly memoryBytes: number
}

const round = (value: number, digits: number) => {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

export class ResourceUsage extends Context.Service<ResourceUsage, {
  /**
   * The usage of the agents whose runs are given, from the last sample if it is recent enough, else from a new
   * one; the answer for an agent not given is its `cpuSeconds` alone.
   */
  readonly sample: (runs: ReadonlyArray<AgentProcesses>) => Effect.Effect<(agent: string) => AgentUsage>
}>()("effect-orchestrate/ResourceUsage") {
  static readonly make = Effect.gen(function*() {
    const stats = yield* ProcessStats
    const lock = yield* Semaphore.make(1)
    const intervalMillis = Duration.toMillis(SAMPLE_INTERVAL)
    /** When the last sample was taken, by the Clock (for the cache) and by the system (for the rates). */
    let last: { readonly at: number; readonly now: number } | undefined
    /** The last sample's figures, by run (its invocation marker): a new run is not taken for its predecessor. */
    let byRun = new Map<string, RunUsage>()
    /** Each process's CPU seconds at the last sample, by `pid:start`. */
    let seen = new Map<string, number>()
    const totals = new Map<string, number>()

    const take = (runs: ReadonlyArray<AgentProcesses>, at: number) =>
      Effect.map(stats.read(runs.map(({ run }) => run)), (reading) => {
        const interval = last === undefined ? 0 : Math.max(0, reading.now - last.now)
        const counted = new Map<string, number>()
        const figures = new Map<string, RunUsage>()
        runs.forEach(({ agent, run }, index) => {
          const processes = reading.runs[index] ?? []
          let cpuInInterval = 0
          let memoryBytes = 0
          let added = 0
          for (const member of processes) {
            const key = `${member.pid}:${member.startedAt}`
            if (counted.has(key)) continue
            counted.set(key, member.cpuSeconds)
            memoryBytes += member.rssBytes
            const before = seen.get(key)
            if (before !== undefined) {
              const used = Math.max(0, member.cpuSeconds - before)
              cpuInInterval += interval > 0 ? used / interval : 0
              added += used
            } else {
              const age = Math.max(SHORTEST_AGE_SECONDS, reading.now - member.startedAt)
              cpuInInterval += member.cpuSeconds / Math.max(interval, age)
              added += member.cpuSeconds
            }
          }
          totals.set(agent, (totals.get(agent) ?? 0) + added)
          if (processes.length > 0) figures.set(run.invocation, { cpuPercent: round(cpuInInterval * 100, 1), memoryBytes })
        })
        seen = counted
        byRun = figures
        last = { at, now: reading.now }
      })

    const answer = (runs: ReadonlyArray<AgentProcesses>) => {
      const runOf = new Map(runs.map(({ agent, run }) => [agent, run.invocation]))
      return (agent: string): AgentUsage => {
        const total = totals.get(agent)
        const invocation = runOf.get(agent)
        const figures = invocation === undefined ? undefined : byRun.get(invocation)
        // Most agents of a large orchestrator are Effect agents: one object for them all.
        if (total === undefined && figures === undefined) return NO_USAGE
        return {
          cpuPercent: figures?.cpuPercent ?? null,
          memoryBytes: figures?.memoryBytes ?? null,
          cpuSeconds: total === undefined ? null : round(total, 2)
        }
      }
    }

    return ResourceUsage.of({
      sample: (runs) =>
        lock.withPermit(Effect.gen(function*() {
          const at = yield* Clock.currentTimeMillis
          // Nothing runs: nothing to read, and the next run is sampled as soon as it is asked for.
          if (runs.length > 0 && (last === undefined || at - last.at >= intervalMillis)) yield* take(runs, at)
          return answer(runs)
        }))
    })
  })

  static readonly layer = Layer.effect(ResourceUsage, ResourceUsage.make)
}
