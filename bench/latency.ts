/**
 * 1. Round-trip latency of `ps` (10 agents) against a bare zeromq.js Reply echo server answering with a reply of
 * the same size, in interleaved rounds. Targets: `ps` p50 <= 1.3x the echo p50, p99 <= 3x the echo p99 (medians
 * of the rounds' ratios).
 */
import { connect, sequential } from "./lib/clients.ts"
import { startServer } from "./lib/processes.ts"
import { compareLatency } from "./lib/compare.ts"
import { ratio, verdict } from "./lib/stats.ts"

const PS = JSON.stringify({ command: "ps" })

export const latency = async (options: { readonly rounds: number; readonly perRound: number }) => {
  const orchestrator = await startServer("command-interface.ts", ["--agents", "10"])
  const psClient = connect(orchestrator.endpoint)
  const replyBytes = (await sequential(psClient, PS, 1)).last?.length ?? 0
  const echo = await startServer("echo.ts", ["--reply-bytes", String(replyBytes)])
  const echoClient = connect(echo.endpoint)
  await sequential(echoClient, PS, 1000)
  await sequential(psClient, PS, 1000)
  const { rounds, p50Ratio, p99Ratio } = await compareLatency(
    `Round-trip latency: ps (10 agents, ${replyBytes}-byte reply) vs bare Reply echo, ${options.rounds} x ${options.perRound} requests`,
    options.rounds,
    { label: "echo", run: async () => (await sequential(echoClient, PS, options.perRound)).times },
    { label: "ps", run: async () => (await sequential(psClient, PS, options.perRound)).times }
  )
  echoClient.close()
  psClient.close()
  await Promise.all([orchestrator.stop(), echo.stop()])
  console.log(`target ps p50 <= 1.3x echo p50: ${verdict(p50Ratio <= 1.3)} (median ratio ${ratio(p50Ratio)})`)
  console.log(`target ps p99 <= 3x echo p99: ${verdict(p99Ratio <= 3)} (median ratio ${ratio(p99Ratio)})`)
  return {
    replyBytes,
    rounds,
    p50Ratio,
    target: 1.3,
    met: p50Ratio <= 1.3,
    p99Ratio,
    p99Target: 3,
    p99Met: p99Ratio <= 3
  }
}
