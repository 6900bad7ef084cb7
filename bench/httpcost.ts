/**
 * 14. What the HTTP interface costs the ZeroMQ path (issue 16): benchmark 1's `ps` (10 agents) over ZeroMQ against
 * a server with the HTTP interface off, and against the same server with it on (`command-interface.ts --http`)
 * while a Prometheus-style scraper GETs its `/metrics` once a second of that server's rounds (`lib/scraper.ts`, a
 * process of its own). Both servers run side by side; interleaved rounds, medians of the rounds' ratios. Target:
 * p50 and p99 on within 5% of off.
 */
import { connect, sequential } from "./lib/clients.ts"
import { compareLatency } from "./lib/compare.ts"
import { startScraper, startServer } from "./lib/processes.ts"
import { loadAverage, verdict } from "./lib/stats.ts"

const PS = JSON.stringify({ command: "ps" })
const TARGET = 1.05

export const httpCost = async (options: { readonly rounds: number; readonly perRound: number; readonly scrapeMillis: number }) => {
  const loadBefore = loadAverage()
  const off = await startServer("command-interface.ts", ["--agents", "10"])
  const on = await startServer("command-interface.ts", ["--agents", "10", "--http"])
  if (on.http === undefined) throw new Error("command-interface.ts --http gave no HTTP URL")
  const scraper = await startScraper(`${on.http}/metrics`, options.scrapeMillis)
  const offClient = connect(off.endpoint)
  const onClient = connect(on.endpoint)
  await sequential(offClient, PS, 1000)
  await sequential(onClient, PS, 1000)
  const { rounds, p50Ratio, p99Ratio } = await compareLatency(
    `ZeroMQ ps (10 agents) with the HTTP interface off vs on, /metrics scraped every ${options.scrapeMillis} ms while on, ` +
      `${options.rounds} x ${options.perRound} requests (load ${loadBefore})`,
    options.rounds,
    { label: "off", run: async () => (await sequential(offClient, PS, options.perRound)).times },
    {
      label: "on",
      run: async () => {
        await scraper.on()
        try {
          return (await sequential(onClient, PS, options.perRound)).times
        } finally {
          await scraper.off()
        }
      }
    }
  )
  const scrapes = await scraper.stop()
  offClient.close()
  onClient.close()
  await Promise.all([off.stop(), on.stop()])
  const loadAfter = loadAverage()
  console.log(`scrapes while on: ${scrapes.scrapes}, median ${(scrapes.medianMicros / 1000).toFixed(2)} ms, ${scrapes.bytes} bytes`)
  console.log(`load before ${loadBefore}, after ${loadAfter}`)
  console.log(`target on p50 <= ${TARGET}x off: ${verdict(p50Ratio <= TARGET)}`)
  console.log(`target on p99 <= ${TARGET}x off: ${verdict(p99Ratio <= TARGET)}`)
  return {
    rounds,
    p50Ratio,
    p99Ratio,
    target: TARGET,
    met: p50Ratio <= TARGET,
    p99Met: p99Ratio <= TARGET,
    scrapes,
    load: { before: loadBefore, after: loadAfter }
  }
}
