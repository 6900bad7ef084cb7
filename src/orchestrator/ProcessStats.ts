/**
 * What resource usage reads from the system: the processes of agent runs with the CPU time they have used and
 * their resident memory, and the time now, as seconds since boot (the clock Linux dates processes by). A service,
 * so that tests can hand the sampler (ResourceUsage.ts) processes of their own making; the real one reads /proc
 * through the orchestrator's ProcessTable, which already knows which processes belong to a run.
 */
import { Context, Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import { type ProcessTable, type Run, TICKS_PER_SECOND, ticksNow } from "./ProcessTable.ts"

/** One process of a run, as counted when it was read. */
export interface ProcessCounters {
  readonly pid: number
  /** When it started, in seconds since boot: with the pid, it names one process for good. */
  readonly startedAt: number
  /** User and system CPU time it has used since it started. */
  readonly cpuSeconds: number
  readonly rssBytes: number
}

export interface ProcessReading {
  /** When it was read, in seconds since boot. */
  readonly now: number
  /** The live processes of each run, in the order the runs were asked for. */
  readonly runs: ReadonlyArray<ReadonlyArray<ProcessCounters>>
}

const AT_PAGESZ = 6n
const FALLBACK_PAGE_SIZE = 4096

/**
 * The system's page size, which /proc counts resident memory in: `AT_PAGESZ` in this process's auxiliary vector
 * (pairs of 64-bit words, on the 64-bit systems Node runs on). Not a constant: arm64 kernels may use 16 or 64 KiB.
 */
const pageSize = (): number => {
  try {
    const auxv = Fs.readFileSync("/proc/self/auxv")
    const little = Os.endianness() === "LE"
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      const key = little ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at)
      if (key === 0n) break
      if (key === AT_PAGESZ) return Number(little ? auxv.readBigUInt64LE(at + 8) : auxv.readBigUInt64BE(at + 8))
    }
  } catch {
    // Not Linux, or /proc is not mounted: the runs will have no processes to count anyway.
  }
  return FALLBACK_PAGE_SIZE
}

export class ProcessStats extends Context.Service<ProcessStats, {
  readonly read: (runs: ReadonlyArray<Run>) => Effect.Effect<ProcessReading>
}>()("effect-orchestrate/ProcessStats") {
  /** Over a process table: the orchestrator passes its own, so that both share what they know of each process. */
  static readonly make = (table: ProcessTable): ProcessStats["Service"] => {
    const bytesPerPage = pageSize()
    return ProcessStats.of({
      read: (runs) =>
        Effect.sync(() => ({
          now: ticksNow() / TICKS_PER_SECOND,
          runs: table.usageOf(runs).map((members) =>
            members.map((member) => ({
              pid: member.pid,
              startedAt: member.startTicks / TICKS_PER_SECOND,
              cpuSeconds: member.cpuTicks / TICKS_PER_SECOND,
              rssBytes: member.rssPages * bytesPerPage
            })))
        }))
    })
  }
}
