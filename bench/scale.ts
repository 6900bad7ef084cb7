/**
 * 6. Scale: `ps` and `status` with 10,000 registered agents (server-side time, as the audit trail records it, and
 * response size); and an orchestrator running 200 real process agents (its RSS, and `ps` latency).
 */
import { connect, sequential } from "./lib/clients.ts"
import { rssMiB, startServer } from "./lib/processes.ts"
import { median, micros, percentile, printTable, sortedCopy } from "./lib/stats.ts"

export const ask = async (endpoint: string, request: unknown): Promise<{ text: string; json: unknown }> => {
  const socket = connect(endpoint)
  const { last } = await sequential(socket, JSON.stringify(request), 1)
  socket.close()
  const text = last?.toString() ?? ""
  return { text, json: JSON.parse(text) }
}

export const dataOf = (reply: unknown): Record<string, unknown> =>
  typeof reply === "object" && reply !== null && "data" in reply && typeof reply.data === "object" && reply.data !== null
    ? { ...reply.data }
    : {}

export const waitForRunning = async (endpoint: string, count: number): Promise<void> => {
  for (;;) {
    if (dataOf((await ask(endpoint, { command: "stats" })).json)["running"] === count) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** Server-side durations of the last `count` requests for `command`, from the audit trail. */
export const serverTimes = async (endpoint: string, command: string, count: number): Promise<Array<number>> => {
  const page = dataOf((await ask(endpoint, { command: "history", args: [{ category: "command", limit: 1000 }] })).json)
  const events = Array.isArray(page["events"]) ? page["events"] : []
  return events.flatMap((event: unknown) => {
    const data = dataOf({ data: typeof event === "object" && event !== null && "data" in event ? event.data : null })
    return data["command"] === command && typeof data["duration_ms"] === "number" ? [data["duration_ms"]] : []
  }).slice(-count)
}

export const scale = async () => {
  const many = await startServer("command-interface.ts", ["--agents", "10000", "--capacity", "100000"])
  await waitForRunning(many.endpoint, 10_000)
  const sizes = {
    ps: (await ask(many.endpoint, { command: "ps" })).text.length,
    status: (await ask(many.endpoint, { command: "status" })).text.length
  }
  const client = connect(many.endpoint)
  await sequential(client, JSON.stringify({ command: "ps" }), 20)
  await sequential(client, JSON.stringify({ command: "status" }), 20)
  client.close()
  const psMillis = median(await serverTimes(many.endpoint, "ps", 20))
  const statusMillis = median(await serverTimes(many.endpoint, "status", 20))
  const manyRss = rssMiB(many.pid)
  await many.stop()

  const processes = await startServer("command-interface.ts", ["--agents", "0", "--process-agents", "200"])
  await waitForRunning(processes.endpoint, 200)
  const processClient = connect(processes.endpoint)
  await sequential(processClient, JSON.stringify({ command: "ps" }), 100)
  const psLatency = sortedCopy((await sequential(processClient, JSON.stringify({ command: "ps" }), 1000)).times)
  processClient.close()
  const processRss = rssMiB(processes.pid)
  await processes.stop()

  printTable("Scale", ["measure", "value"], [
    ["10,000 agents: ps server-side (median of 20)", `${psMillis.toFixed(1)} ms, ${(sizes.ps / 1024).toFixed(0)} KiB response`],
    ["10,000 agents: status server-side (median of 20)", `${statusMillis.toFixed(1)} ms, ${(sizes.status / 1024).toFixed(0)} KiB response`],
    ["10,000 agents: orchestrator RSS", `${manyRss.toFixed(0)} MiB`],
    ["200 process agents: orchestrator RSS", `${processRss.toFixed(0)} MiB`],
    ["200 process agents: ps p50 / p99", `${micros(percentile(psLatency, 50))} / ${micros(percentile(psLatency, 99))}`]
  ])
  return {
    tenThousandAgents: { psServerMillis: psMillis, statusServerMillis: statusMillis, psBytes: sizes.ps, statusBytes: sizes.status, rssMiB: manyRss },
    twoHundredProcesses: { rssMiB: processRss, psP50Micros: percentile(psLatency, 50), psP99Micros: percentile(psLatency, 99) }
  }
}
