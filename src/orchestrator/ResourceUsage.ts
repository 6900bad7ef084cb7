/**
 * What each process agent uses: CPU (in percent of one core) and resident memory, summed over every process of
 * its run (its group, its descendants and the processes carrying its marker, as ProcessTable finds them), and the
 * CPU seconds it has used in all.
 *
 * Sampled only when asked (`ps`, `status`, `stats`), and at most once every `SAMPLE_INTERVAL`: within it, every
 * caller gets the last sample, so a dashboard polling ten times a second costs one scan of /proc a second (the cost
 * at 200 agents is in bench/README.md). No timer runs while nobody asks. A sample is taken while a request waits,
 * not on a schedule of its own: a figure is then never older than the request that shows it (test/cli's
 * cli-resources checks `cpu_seconds` against /proc read just before and after one). Every other request finds the
 * last sample fresh and is answered from it synchronously, with the answer made once per sample and set of runs:
 * `ps` asks on every request, and the lock, the clock and the lookup map it cost each time were 6% of a `ps`.
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
  /** Its run as the process table finds it, as of now: read when a sample is taken (the leader's exit changes it). */
  readonly run: () => Run
}

/** Each agent's usage as of a sample. */
export type UsageOf = (agent: string) => AgentUsage

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
   * one; the answer for an agent not given is its `cpuSeconds` alone. Given the same array again, with no sample
   * since, it gives the same answer, whose figures are the same objects.
   */
  readonly sample: (runs: ReadonlyArray<AgentProcesses>) => Effect.Effect<UsageOf>
  /** What `sample` would answer now, if that needs no new sample; undefined if it does. */
  readonly recent: (runs: ReadonlyArray<AgentProcesses>) => UsageOf | undefined
}>()("effect-orchestrate/ResourceUsage") {
  static readonly make = Effect.gen(function*() {
    const stats = yield* ProcessStats
    const clock = yield* Clock.Clock
    const lock = yield* Semaphore.make(1)
    const intervalMillis = Duration.toMillis(SAMPLE_INTERVAL)
    /** When the last sample was taken, by the Clock (for the cache) and by the system (for the rates). */
    let last: { readonly at: number; readonly now: number } | undefined
    /** The last sample's figures, by run (its invocation marker): a new run is not taken for its predecessor. */
    let byRun = new Map<string, RunUsage>()
    /** Each process's CPU seconds at the last sample, by `pid:start`. */
    let seen = new Map<string, number>()
    const totals = new Map<string, number>()
    /** The last answer, for the runs it was made for, until the next sample. */
    let answered: { readonly runs: ReadonlyArray<AgentProcesses>; readonly usageOf: UsageOf } | undefined

    const take = (runs: ReadonlyArray<AgentProcesses>, at: number) => {
      const current = runs.map(({ run }) => run())
      return Effect.map(stats.read(current), (reading) => {
        const interval = last === undefined ? 0 : Math.max(0, reading.now - last.now)
        const counted = new Map<string, number>()
        const figures = new Map<string, RunUsage>()
        runs.forEach(({ agent }, index) => {
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
          const invocation = current[index]?.invocation
          if (processes.length > 0 && invocation !== undefined) figures.set(invocation, { cpuPercent: round(cpuInInterval * 100, 1), memoryBytes })
        })
        seen = counted
        byRun = figures
        last = { at, now: reading.now }
        answered = undefined
      })
    }

    /** Each agent's usage by the last sample, made on first asking and kept: the same object for the same agent. */
    const answer = (runs: ReadonlyArray<AgentProcesses>): UsageOf => {
      const runOf = new Map(runs.map(({ agent, run }) => [agent, run().invocation]))
      const made = new Map<string, AgentUsage>()
      return (agent) => {
        const known = made.get(agent)
        if (known !== undefined) return known
        const total = totals.get(agent)
        const invocation = runOf.get(agent)
        const figures = invocation === undefined ? undefined : byRun.get(invocation)
        // Most agents of a large orchestrator are Effect agents: one object for them all.
        const usage = total === undefined && figures === undefined ? NO_USAGE : {
          cpuPercent: figures?.cpuPercent ?? null,
          memoryBytes: figures?.memoryBytes ?? null,
          cpuSeconds: total === undefined ? null : round(total, 2)
        }
        made.set(agent, usage)
        return usage
      }
    }

    // Nothing runs: nothing to read, and the next run is sampled as soon as it is asked for.
    const needsSample = (runs: ReadonlyArray<AgentProcesses>, at: number) =>
      runs.length > 0 && (last === undefined || at - last.at >= intervalMillis)

    const recent = (runs: ReadonlyArray<AgentProcesses>): UsageOf | undefined => {
      if (needsSample(runs, clock.currentTimeMillisUnsafe())) return undefined
      if (answered?.runs !== runs) answered = { runs, usageOf: answer(runs) }
      return answered.usageOf
    }

    return ResourceUsage.of({
      sample: (runs) =>
        Effect.suspend(() => {
          const usageOf = recent(runs)
          if (usageOf !== undefined) return Effect.succeed(usageOf)
          // Callers at the same moment share one sample: the first takes it, the others find it fresh.
          return lock.withPermit(Effect.suspend(() => {
            const at = clock.currentTimeMillisUnsafe()
            const taken = needsSample(runs, at) ? take(runs, at) : Effect.void
            return Effect.map(taken, () => recent(runs) ?? answer(runs))
          }))
        }),
      recent
    })
  })

  static readonly layer = Layer.effect(ResourceUsage, ResourceUsage.make)
}
