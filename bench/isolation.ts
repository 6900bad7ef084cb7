/**
 * 3. Head-of-line isolation: `ps` latency while 16 clients keep issuing a command that does 1 ms of asynchronous
 * work, against `ps` on the idle server, interleaved. Target: loaded p99 <= 2x idle p99. The 16 clients run in a
 * process of their own (`lib/loadClients.ts`): in the measuring process, the `ps` answers waited behind theirs.
 *
 * Diagnostics beside the target, which they do not change: the same load against a twin server (the same script,
 * another process) while `ps` goes to the idle one, so that the machine is as busy as when loaded but the server
 * serves none of it ("load elsewhere"); and where the loaded phase's CPU went, from the kernel's accounting
 * (`lib/cpu.ts`): the server's threads on a CPU and waiting for one, the load's and this process's, and everyone
 * else's on the machine. On 2 shared vCPUs the loaded p99 is mostly waiting for a CPU (bench/README.md), and the
 * ratio to "load elsewhere" is what the server's own handling of the load adds to it.
 */
import { connect, sequential } from "./lib/clients.ts"
import { machineBusyMillis, type ThreadTimes, threadTimes, threadTimesBetween, totalOf } from "./lib/cpu.ts"
import { startLoad, startServer } from "./lib/processes.ts"
import { median, micros, percentile, printTable, ratio, sortedCopy, verdict } from "./lib/stats.ts"

const PS = JSON.stringify({ command: "ps" })
const SLOW = JSON.stringify({ command: "status", args: ["agent-0"] })
const SERVER_ARGS = ["--agents", "10", "--slow-ms", "1"]

interface LoadedPhase {
  readonly p50: number
  readonly p99: number
  readonly slowDone: number
  readonly wallMillis: number
  readonly server: ThreadTimes
  readonly load: ThreadTimes
  readonly measurer: ThreadTimes
  /** CPU milliseconds of every other process on the machine (both CPUs together). */
  readonly othersMillis: number
}

export const isolation = async (options: { readonly rounds: number; readonly perRound: number }) => {
  const server = await startServer("command-interface.ts", SERVER_ARGS)
  const twin = await startServer("command-interface.ts", SERVER_ARGS)
  const measurer = connect(server.endpoint)
  await sequential(measurer, PS, 500)

  /** `ps` on the server while the 16 clients load `target` (the server itself, or its twin). */
  const underLoad = async (target: typeof server): Promise<LoadedPhase> => {
    const load = await startLoad(target.endpoint, 16, SLOW)
    const snapshot = () => ({ at: performance.now(), busy: machineBusyMillis(), server: threadTimes(target.pid), load: threadTimes(load.pid), measurer: threadTimes(process.pid) })
    const started = snapshot()
    const times = sortedCopy((await sequential(measurer, PS, options.perRound)).times)
    const ended = snapshot()
    const slowDone = await load.stop()
    const phase = {
      server: threadTimesBetween(started.server, ended.server),
      load: threadTimesBetween(started.load, ended.load),
      measurer: threadTimesBetween(started.measurer, ended.measurer)
    }
    const ours = totalOf(phase.server.cpu) + totalOf(phase.load.cpu) + totalOf(phase.measurer.cpu)
    return {
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      slowDone,
      wallMillis: ended.at - started.at,
      ...phase,
      othersMillis: Math.max(0, ended.busy - started.busy - ours)
    }
  }

  const rounds: Array<{ idleP50: number; idleP99: number; loaded: LoadedPhase; elsewhere: LoadedPhase }> = []
  for (let round = 0; round < options.rounds; round++) {
    const idle = sortedCopy((await sequential(measurer, PS, options.perRound)).times)
    // The diagnostic phase goes second every other round, so that neither loaded phase always follows the idle one.
    const elsewhereFirst = round % 2 === 1
    const early = elsewhereFirst ? await underLoad(twin) : await underLoad(server)
    const late = elsewhereFirst ? await underLoad(server) : await underLoad(twin)
    rounds.push({
      idleP50: percentile(idle, 50),
      idleP99: percentile(idle, 99),
      loaded: elsewhereFirst ? late : early,
      elsewhere: elsewhereFirst ? early : late
    })
  }
  measurer.close()
  await Promise.all([server.stop(), twin.stop()])

  const p99Ratio = median(rounds.map((r) => r.loaded.p99 / r.idleP99))
  const ownToElsewhere = median(rounds.map((r) => r.loaded.p99 / r.elsewhere.p99))
  printTable(
    `Head-of-line isolation: ps while 16 clients run a 1 ms async command, ${options.rounds} x ${options.perRound} ps requests`,
    ["round", "idle p50", "idle p99", "loaded p50", "loaded p99", "p99 ratio", "slow commands done"],
    rounds.map((r, i) => [String(i + 1), micros(r.idleP50), micros(r.idleP99), micros(r.loaded.p50), micros(r.loaded.p99), ratio(r.loaded.p99 / r.idleP99), String(r.loaded.slowDone)])
  )
  const millis = (value: number) => `${value.toFixed(0)} ms`
  const perRequest = (phase: LoadedPhase) => `${((1000 * totalOf(phase.server.cpu)) / (phase.slowDone + options.perRound)).toFixed(0)} µs`
  const share = (phase: LoadedPhase, value: number) => `${((100 * value) / (2 * phase.wallMillis)).toFixed(0)}%`
  printTable(
    "Diagnostics (not the target): ps with the same load on a twin server instead, and where the loaded phase's CPU went " +
      "(share of 2 CPUs over the phase; per request = the server's CPU over slow commands and ps; run queue = runnable, waiting for a CPU)",
    ["round", "load elsewhere p99", "loaded / elsewhere", "phase", "server CPU", "per request", "server run queue", "of it main thread", "load process", "measurer", "others"],
    rounds.map((r, i) => [
      String(i + 1),
      micros(r.elsewhere.p99),
      ratio(r.loaded.p99 / r.elsewhere.p99),
      millis(r.loaded.wallMillis),
      share(r.loaded, totalOf(r.loaded.server.cpu)),
      perRequest(r.loaded),
      millis(totalOf(r.loaded.server.waiting)),
      millis(r.loaded.server.waiting.main),
      share(r.loaded, totalOf(r.loaded.load.cpu)),
      share(r.loaded, totalOf(r.loaded.measurer.cpu)),
      share(r.loaded, r.loaded.othersMillis)
    ])
  )
  console.log(`target loaded ps p99 <= 2x idle p99: ${verdict(p99Ratio <= 2)} (median ratio ${ratio(p99Ratio)}; loaded / load elsewhere ${ratio(ownToElsewhere)})`)
  return {
    rounds: rounds.map((r) => ({
      idleP50: r.idleP50,
      idleP99: r.idleP99,
      loadedP50: r.loaded.p50,
      loadedP99: r.loaded.p99,
      slowDone: r.loaded.slowDone,
      elsewhereP99: r.elsewhere.p99,
      loaded: r.loaded,
      elsewhere: r.elsewhere
    })),
    p99Ratio,
    ownToElsewhere,
    target: 2,
    met: p99Ratio <= 2
  }
}
