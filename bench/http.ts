/**
 * 15. Round-trip latency of `POST /api/v1/command` `{"command":"ps","args":[]}` (10 agents) on the orchestrator's
 * HTTP interface (`command-interface.ts --http`), against a bare node:http server (`servers/http-bare.ts`)
 * answering every request with the bytes and headers of a real answer captured first. The same client for both: one
 * keep-alive connection each (`lib/httpClients.ts`), requests one after another; interleaved rounds, medians of the
 * rounds' ratios. Target (issue 16): p50 <= 1.5x the bare server's.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { compareLatency } from "./lib/compare.ts"
import { keepAliveAgent, sequentialPosts } from "./lib/httpClients.ts"
import { startServer } from "./lib/processes.ts"
import { loadAverage, verdict } from "./lib/stats.ts"

const PS = JSON.stringify({ command: "ps", args: [] })
const TARGET = 1.5

export const http = async (options: { readonly rounds: number; readonly perRound: number }) => {
  const loadBefore = loadAverage()
  const orchestrator = await startServer("command-interface.ts", ["--agents", "10", "--http"])
  if (orchestrator.http === undefined) throw new Error("command-interface.ts --http gave no HTTP URL")
  const orchestratorUrl = `${orchestrator.http}/api/v1/command`
  const orchestratorAgent = keepAliveAgent()
  const { last: captured } = await sequentialPosts(orchestratorAgent, orchestratorUrl, PS, 1)
  if (captured === undefined || !captured.body.toString().startsWith("{\"status\":\"success\"")) {
    throw new Error(`POST ${orchestratorUrl} did not answer ps: ${captured?.body.toString()}`)
  }
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "bench-http-"))
  const bodyFile = Path.join(dir, "ps.json")
  Fs.writeFileSync(bodyFile, captured.body)
  const header = (name: "content-type" | "cache-control"): string => {
    const value = captured.headers[name]
    if (value === undefined) throw new Error(`POST ${orchestratorUrl} answered without ${name}`)
    return value
  }
  const bare = await startServer("http-bare.ts", [
    "--body-file", bodyFile,
    "--content-type", header("content-type"),
    "--cache-control", header("cache-control")
  ])
  const bareAgent = keepAliveAgent()
  await sequentialPosts(bareAgent, bare.endpoint, PS, 1000)
  await sequentialPosts(orchestratorAgent, orchestratorUrl, PS, 1000)
  const { rounds, p50Ratio, p99Ratio } = await compareLatency(
    `HTTP round trip: POST /api/v1/command ps (10 agents, ${captured.body.length}-byte answer) vs bare node:http, ` +
      `${options.rounds} x ${options.perRound} requests (load ${loadBefore})`,
    options.rounds,
    { label: "bare", run: async () => (await sequentialPosts(bareAgent, bare.endpoint, PS, options.perRound)).times },
    { label: "ps", run: async () => (await sequentialPosts(orchestratorAgent, orchestratorUrl, PS, options.perRound)).times }
  )
  bareAgent.destroy()
  orchestratorAgent.destroy()
  await Promise.all([orchestrator.stop(), bare.stop()])
  Fs.rmSync(dir, { recursive: true, force: true })
  const loadAfter = loadAverage()
  console.log(`load before ${loadBefore}, after ${loadAfter}`)
  console.log(`target ps p50 <= ${TARGET}x bare p50: ${verdict(p50Ratio <= TARGET)}`)
  return {
    replyBytes: captured.body.length,
    rounds,
    p50Ratio,
    p99Ratio,
    target: TARGET,
    met: p50Ratio <= TARGET,
    load: { before: loadBefore, after: loadAfter }
  }
}
