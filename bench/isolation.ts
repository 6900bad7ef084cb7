/**
 * 3. Head-of-line isolation: `ps` latency while 16 clients keep issuing a command that does 1 ms of asynchronous
 * work, against `ps` on the idle server, interleaved. Target: loaded p99 <= 2x idle p99. The 16 clients run in a
 * process of their own (`lib/loadClients.ts`): in the measuring process, the `ps` answers waited behind theirs.
 */
import { connect, sequential } from "./lib/clients.ts"
import { startLoad, startServer } from "./lib/processes.ts"
import { median, micros, percentile, printTable, ratio, sortedCopy, verdict } from "./lib/stats.ts"

const PS = JSON.stringify({ command: "ps" })
const SLOW = JSON.stringify({ command: "status", args: ["agent-0"] })

export const isolation = async (options: { readonly rounds: number; readonly perRound: number }) => {
  const server = await startServer("command-interface.ts", ["--agents", "10", "--slow-ms", "1"])
  const measurer = connect(server.endpoint)
  await sequential(measurer, PS, 500)
  const rounds: Array<{ idleP99: number; loadedP99: number; loadedP50: number; idleP50: number; slowDone: number }> = []
  for (let round = 0; round < options.rounds; round++) {
    const idle = sortedCopy((await sequential(measurer, PS, options.perRound)).times)
    const load = await startLoad(server.endpoint, 16, SLOW)
    const loaded = sortedCopy((await sequential(measurer, PS, options.perRound)).times)
    const slowDone = await load.stop()
    rounds.push({
      idleP50: percentile(idle, 50),
      idleP99: percentile(idle, 99),
      loadedP50: percentile(loaded, 50),
      loadedP99: percentile(loaded, 99),
      slowDone
    })
  }
  measurer.close()
  await server.stop()
  const p99Ratio = median(rounds.map((r) => r.loadedP99 / r.idleP99))
  printTable(
    `Head-of-line isolation: ps while 16 clients run a 1 ms async command, ${options.rounds} x ${options.perRound} ps requests`,
    ["round", "idle p50", "idle p99", "loaded p50", "loaded p99", "p99 ratio", "slow commands done"],
    rounds.map((r, i) => [String(i + 1), micros(r.idleP50), micros(r.idleP99), micros(r.loadedP50), micros(r.loadedP99), ratio(r.loadedP99 / r.idleP99), String(r.slowDone)])
  )
  console.log(`target loaded ps p99 <= 2x idle p99: ${verdict(p99Ratio <= 2)} (median ratio ${ratio(p99Ratio)})`)
  return { rounds, p99Ratio, target: 2, met: p99Ratio <= 2 }
}
