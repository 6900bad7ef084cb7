/**
 * 1. Round-trip latency of `ps` (10 agents) against a bare zeromq.js Reply echo server answering with a reply of
 * the same size, in interleaved rounds. Target: `ps` p50 <= 1.3x the echo p50.
 */
import { connect, sequential } from "./lib/clients.ts"
import { startServer } from "./lib/processes.ts"
import { median, micros, percentile, printTable, ratio, sortedCopy, verdict } from "./lib/stats.ts"

const PS = JSON.stringify({ command: "ps" })

export const latency = async (options: { readonly rounds: number; readonly perRound: number }) => {
  const orchestrator = await startServer("command-interface.ts", ["--agents", "10"])
  const psClient = connect(orchestrator.endpoint)
  const replyBytes = (await sequential(psClient, PS, 1)).last?.length ?? 0
  const echo = await startServer("echo.ts", ["--reply-bytes", String(replyBytes)])
  const echoClient = connect(echo.endpoint)
  await sequential(echoClient, PS, 1000)
  await sequential(psClient, PS, 1000)
  const rounds: Array<{ echoP50: number; echoP99: number; psP50: number; psP99: number }> = []
  for (let round = 0; round < options.rounds; round++) {
    // Alternate which goes first, so that neither always gets the warmer machine.
    const order = round % 2 === 0 ? ["echo", "ps"] as const : ["ps", "echo"] as const
    const times: Record<"echo" | "ps", Array<number>> = { echo: [], ps: [] }
    for (const which of order) {
      times[which] = sortedCopy((await sequential(which === "echo" ? echoClient : psClient, PS, options.perRound)).times)
    }
    rounds.push({
      echoP50: percentile(times.echo, 50),
      echoP99: percentile(times.echo, 99),
      psP50: percentile(times.ps, 50),
      psP99: percentile(times.ps, 99)
    })
  }
  echoClient.close()
  psClient.close()
  await Promise.all([orchestrator.stop(), echo.stop()])
  const p50Ratio = median(rounds.map((r) => r.psP50 / r.echoP50))
  printTable(
    `Round-trip latency: ps (10 agents, ${replyBytes}-byte reply) vs bare Reply echo, ${options.rounds} x ${options.perRound} requests`,
    ["round", "echo p50", "echo p99", "ps p50", "ps p99", "p50 ratio"],
    [
      ...rounds.map((r, i) => [String(i + 1), micros(r.echoP50), micros(r.echoP99), micros(r.psP50), micros(r.psP99), ratio(r.psP50 / r.echoP50)]),
      ["median", micros(median(rounds.map((r) => r.echoP50))), micros(median(rounds.map((r) => r.echoP99))), micros(median(rounds.map((r) => r.psP50))), micros(median(rounds.map((r) => r.psP99))), ratio(p50Ratio)]
    ]
  )
  console.log(`target ps p50 <= 1.3x echo p50: ${verdict(p50Ratio <= 1.3)}`)
  return { replyBytes, rounds, p50Ratio, target: 1.3, met: p50Ratio <= 1.3 }
}
