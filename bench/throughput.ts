/**
 * 2. Throughput with 1, 4 and 16 concurrent clients against a bare zeromq.js Router echo server answering with a
 * reply of the same size, interleaved. Target: >= 0.7x the echo's throughput at 16 clients.
 */
import { connect, sequential, throughput as measure } from "./lib/clients.ts"
import { startServer } from "./lib/processes.ts"
import { median, printTable, ratio, verdict } from "./lib/stats.ts"

const PS = JSON.stringify({ command: "ps" })

export const throughput = async (options: { readonly rounds: number; readonly millis: number }) => {
  const orchestrator = await startServer("command-interface.ts", ["--agents", "10"])
  const probe = connect(orchestrator.endpoint)
  const replyBytes = (await sequential(probe, PS, 1)).last?.length ?? 0
  probe.close()
  const echo = await startServer("echo.ts", ["--router", "--reply-bytes", String(replyBytes)])
  const rows: Array<{ clients: number; echo: number; ps: number; ratio: number }> = []
  for (const clients of [1, 4, 16]) {
    const echoRates: Array<number> = []
    const psRates: Array<number> = []
    for (let round = 0; round < options.rounds; round++) {
      if (round % 2 === 0) {
        echoRates.push(await measure(echo.endpoint, PS, clients, options.millis))
        psRates.push(await measure(orchestrator.endpoint, PS, clients, options.millis))
      } else {
        psRates.push(await measure(orchestrator.endpoint, PS, clients, options.millis))
        echoRates.push(await measure(echo.endpoint, PS, clients, options.millis))
      }
    }
    rows.push({ clients, echo: median(echoRates), ps: median(psRates), ratio: median(psRates.map((rate, i) => rate / (echoRates[i] ?? rate))) })
  }
  await Promise.all([orchestrator.stop(), echo.stop()])
  printTable(
    `Throughput: ps requests/s vs bare Router echo (${replyBytes}-byte reply), median of ${options.rounds} rounds of ${options.millis} ms`,
    ["clients", "echo req/s", "ps req/s", "ratio"],
    rows.map((row) => [String(row.clients), row.echo.toFixed(0), row.ps.toFixed(0), ratio(row.ratio)])
  )
  const at16 = rows.find((row) => row.clients === 16)?.ratio ?? 0
  console.log(`target >= 0.7x echo at 16 clients: ${verdict(at16 >= 0.7)} (median ratio ${ratio(at16)})`)
  return { replyBytes, rows, ratioAt16: at16, target: 0.7, met: at16 >= 0.7 }
}
