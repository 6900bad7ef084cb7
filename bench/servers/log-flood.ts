/**
 * The system under test for the logs benchmark: an orchestrator with its command interface on a random loopback
 * port and one process agent, the writer of bench/lib/logWriter.ts (1,000,000 lines of 100 bytes). The agents'
 * lines are kept as `orchestrate up` keeps them (its own LogStore and sinks, runUp's `agentLogs`):
 *   --dir DIR       also append them to DIR/writer.log (rotated at 10 MiB, 5 kept), as `up --logs-dir DIR`
 *   --foreground    also show them on this process's stdout, as `up` does without `--quiet`
 * Reports on file descriptor 3 (stdout may be the agents' lines): `READY <endpoint>`; then, once the agent has
 * completed, `DONE {"startMs", "ranMs", "cpuMs", "peakRssMiB", "lines"}`, and exits. The agent starts half a second
 * after READY, so that the benchmark's `ps` client is connected. `ranMs` and `cpuMs` cover the agent's run, from
 * the orchestrator's start (once the guardian, started once per orchestrator, is up) to the agent's completion,
 * which waits for its last line to be kept; `startMs` is the orchestrator's start before it.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Duration, Effect, Layer, Logger, Schema } from "effect"
import * as Fs from "node:fs"
import { agentLogs } from "../../src/cli/commands/runUp.ts"
import { EventStore } from "../../src/events/EventStore.ts"
import { DEFAULT_KEEP_LINES, LogStore } from "../../src/logs/LogStore.ts"
import { processAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { ProcessAgentConfig } from "../../src/orchestrator/OrchestratorConfig.ts"
import { layerServer } from "../../src/server/CommandInterface.ts"
import { CommandInterfaceConfig } from "../../src/server/CommandInterfaceConfig.ts"
import { CommandServer } from "../../src/server/CommandServer.ts"
import { WRITER } from "../lib/logWriter.ts"

/** Where the benchmark reads this process's reports: fd 3, a pipe it opened. */
const REPORTS = 3

const option = (name: string) => {
  const index = process.argv.indexOf(name)
  return index < 0 ? undefined : process.argv[index + 1]
}
const dir = option("--dir")
const foreground = process.argv.includes("--foreground")

const writer = processAgent(Schema.decodeUnknownSync(ProcessAgentConfig)({ name: "writer", command: process.execPath, args: ["-e", WRITER] }), process.cwd())

const logs = Layer.effect(
  LogStore,
  agentLogs({
    keepLines: DEFAULT_KEEP_LINES,
    files: dir === undefined ? undefined : { dir, maxBytes: 10 * 1024 * 1024, keep: 5 },
    foreground: foreground ? [writer.name] : undefined
  })
)

const peakRssMiB = () => Number(/VmHWM:\s+(\d+) kB/.exec(Fs.readFileSync("/proc/self/status", "utf8"))?.[1] ?? Number.NaN) / 1024

const app = layerServer.pipe(
  Layer.provideMerge(Orchestrator.layer({
    maxWorkers: 4,
    runMode: "until-done",
    agentStopTimeout: Duration.seconds(5),
    heartbeatInterval: Duration.seconds(5),
    agents: [writer]
  })),
  Layer.provideMerge(logs),
  Layer.provideMerge(EventStore.layer()),
  Layer.provideMerge(Layer.orDie(CommandInterfaceConfig.layer({
    enableCommandInterface: true,
    commandAddress: "tcp://127.0.0.1:*",
    allowedCommands: "all"
  }))),
  Layer.provide(NodeServices.layer),
  Layer.provide(Logger.layer([]))
)

Effect.gen(function*() {
  const server = yield* CommandServer
  Fs.writeSync(REPORTS, `READY ${server.endpoint}\n`)
  yield* Effect.sleep("500 millis")
  const orchestrator = yield* Orchestrator
  const starting = performance.now()
  yield* orchestrator.start
  const cpu = process.cpuUsage()
  const started = performance.now()
  yield* orchestrator.awaitCompletion
  const used = process.cpuUsage(cpu)
  const ranMs = performance.now() - started
  yield* orchestrator.shutdown
  const stored = yield* LogStore.use((store) => store.query({ agents: ["writer"], limit: 1 }))
  Fs.writeSync(REPORTS, `DONE ${JSON.stringify({
    startMs: started - starting,
    ranMs,
    cpuMs: (used.user + used.system) / 1000,
    peakRssMiB: peakRssMiB(),
    lines: stored.lastSeq
  })}\n`)
}).pipe(Effect.provide(app), Effect.scoped, NodeRuntime.runMain)
