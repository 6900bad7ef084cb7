/**
 * The system under test: a real orchestrator with its command interface on a random loopback port.
 *   --agents N           Effect agents that run until stopped (default 10)
 *   --process-agents N   real process agents (`sleep`), in addition
 *   --slow-ms N          every `status <agent>` first does N ms of asynchronous work (for the isolation benchmark)
 *   --capacity N         event store capacity
 *   --events N           N agents' lifecycle events recorded before it answers (give a capacity that holds them)
 *   --curve DIR          CURVE on, with DIR/server.key and one principal, DIR/client.key.pub (role all)
 *   --no-resource-usage  the resource sampler reads nothing (the baseline of the resources benchmark)
 *   --http               the HTTP interface on too, on a free loopback port, as `up --http` runs it beside the
 *                        ZeroMQ socket (one whitelist and audit trail); it prints `READY <endpoint> <http url>`
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Duration, Effect, Layer, Logger, Option, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { EventStore } from "../../src/events/EventStore.ts"
import { type AgentDefinition, effectAgent, processAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { OrchestratorQuery } from "../../src/ports/OrchestratorQuery.ts"
import { layerServer, layerServerSharing, whitelistAndAuditTrail } from "../../src/server/CommandInterface.ts"
import { CommandInterfaceConfig } from "../../src/server/CommandInterfaceConfig.ts"
import { CommandServer } from "../../src/server/CommandServer.ts"
import { HttpInterface } from "../../src/server/http/HttpInterface.ts"
import { HttpConfig } from "../../src/server/http/HttpSettings.ts"
import { ProcessAgentConfig } from "../../src/orchestrator/OrchestratorConfig.ts"
import { ProcessStats } from "../../src/orchestrator/ProcessStats.ts"
import { recordLifecycleEvents } from "../lib/events.ts"

const option = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(name)
  return index < 0 ? fallback : Number(process.argv[index + 1])
}
const effectAgents = option("--agents", 10)
const processAgents = option("--process-agents", 0)
const slowMillis = option("--slow-ms", 0)
const capacity = option("--capacity", 5000)
const prefilledEvents = option("--events", 0)
const curveDir = process.argv.includes("--curve") ? process.argv[process.argv.indexOf("--curve") + 1] : undefined
const resourceUsage = !process.argv.includes("--no-resource-usage")
const http = process.argv.includes("--http")
const curve = curveDir === undefined ? {} : {
  curve: {
    keyFile: Path.join(curveDir, "server.key"),
    principals: [{
      name: "bench",
      publicKey: String(JSON.parse(Fs.readFileSync(Path.join(curveDir, "client.key.pub"), "utf8")).publicKey),
      role: "all" as const
    }]
  }
}

const sleeper = (name: string) =>
  processAgent(Schema.decodeUnknownSync(ProcessAgentConfig)({ name, command: "sleep", args: ["3600"] }), process.cwd())
const agents: Array<AgentDefinition> = [
  ...Array.from({ length: effectAgents }, (_, i) => effectAgent({ name: `agent-${i}`, run: Effect.never })),
  ...Array.from({ length: processAgents }, (_, i) => sleeper(`process-${i}`))
]

/** Delays `status <agent>` by `slowMillis`: a command with asynchronous work, next to which `ps` must stay fast. */
const slowAgentQueries = Layer.effect(
  OrchestratorQuery,
  Orchestrator.useSync((orchestrator) =>
    OrchestratorQuery.of({
      snapshot: orchestrator.query.snapshot,
      view: orchestrator.query.view,
      dependencies: orchestrator.query.dependencies,
      logs: orchestrator.query.logs,
      agent: (name) => Effect.andThen(Effect.sleep(Duration.millis(slowMillis)), orchestrator.query.agent(name))
    }))
)

/** Every run has no process as far as the sampler can tell: no /proc read, the rest of `ps` as it is. */
const readsNothing = Layer.succeed(ProcessStats, ProcessStats.of({
  read: (runs) => Effect.succeed({ now: 0, runs: runs.map(() => []) })
}))

const orchestrator = Orchestrator.layer({
  maxWorkers: effectAgents + processAgents,
  runMode: "daemon",
  agentStopTimeout: Duration.seconds(2),
  heartbeatInterval: Duration.seconds(5),
  agents
}).pipe(Layer.provide(resourceUsage ? Layer.empty : readsNothing))

/** The ZeroMQ server alone, or beside the HTTP interface as `Transports.ts` composes them for `up --http`. */
const transports = http
  ? Layer.merge(layerServerSharing, HttpInterface.layer).pipe(
    Layer.provide(whitelistAndAuditTrail),
    Layer.provide(Layer.orDie(HttpConfig.layer({ enabled: true, address: "127.0.0.1:0" })))
  )
  : layerServer

const app = transports.pipe(
  Layer.provide(slowMillis > 0 ? slowAgentQueries : Layer.empty),
  Layer.provideMerge(orchestrator),
  Layer.provideMerge(EventStore.layer({ capacity, maxValueBytes: 1024, retention: [{ eventName: "AGENT_HEARTBEAT", keepLast: 3, per: "agent" }] })),
  Layer.provideMerge(Layer.orDie(CommandInterfaceConfig.layer({
    enableCommandInterface: true,
    commandAddress: "tcp://127.0.0.1:*",
    allowedCommands: "all",
    maxInFlight: 1024,
    ...curve
  }))),
  Layer.provide(NodeServices.layer),
  Layer.provide(Logger.layer([]))
)

Effect.gen(function*() {
  const server = yield* CommandServer
  yield* recordLifecycleEvents(yield* EventStore, prefilledEvents, Math.max(1, effectAgents))
  // The layer starts no agent (Orchestrator.run does, in `up`): without this, every agent stayed `registered`.
  yield* (yield* Orchestrator).start
  const httpInterface = yield* Effect.serviceOption(HttpInterface)
  console.log(`READY ${server.endpoint}${Option.match(httpInterface, { onNone: () => "", onSome: ({ url }) => ` ${url}` })}`)
  return yield* Effect.never
}).pipe(Effect.provide(app), NodeRuntime.runMain)
