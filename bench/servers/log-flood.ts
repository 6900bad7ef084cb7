/**
 * The system under test for the logs benchmark: an orchestrator with its command interface on a random loopback
 * port and one process agent that writes LINES lines of 100 bytes as fast as its stdout takes them.
 *   --dir DIR   also append the agent's lines to DIR/writer.log (rotated at 10 MiB, 5 kept)
 * Prints `READY <endpoint>`, starts the agent half a second later (so the benchmark's `ps` client is connected),
 * and once it has completed prints `DONE {"ranMs", "cpuMs", "peakRssMiB", "lines"}` and exits.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Duration, Effect, Layer, Logger, Schema } from "effect"
import * as Fs from "node:fs"
import { EventStore } from "../../src/events/EventStore.ts"
import { LogFiles } from "../../src/logs/LogFiles.ts"
import { DEFAULT_KEEP_LINES, LogStore } from "../../src/logs/LogStore.ts"
import { processAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { ProcessAgentConfig } from "../../src/orchestrator/OrchestratorConfig.ts"
import { layerServer } from "../../src/server/CommandInterface.ts"
import { CommandInterfaceConfig } from "../../src/server/CommandInterfaceConfig.ts"
import { CommandServer } from "../../src/server/CommandServer.ts"

export const LINES = 1_000_000

/** 1,000 blocks of 1,000 lines of 99 characters and a newline, honouring backpressure like any well-behaved writer. */
export const WRITER = `const block = ('x'.repeat(99) + '\\n').repeat(1000); let i = 0;
const write = () => { while (i < ${LINES / 1000}) { i++; if (!process.stdout.write(block)) return process.stdout.once('drain', write) } };
write()`

const dirIndex = process.argv.indexOf("--dir")
const dir = dirIndex < 0 ? undefined : process.argv[dirIndex + 1]

const writer = processAgent(Schema.decodeUnknownSync(ProcessAgentConfig)({ name: "writer", command: process.execPath, args: ["-e", WRITER] }), process.cwd())

const logs = dir === undefined
  ? LogStore.layer()
  : Layer.effect(LogStore, Effect.gen(function*() {
    const files = yield* LogFiles.make({ dir, maxBytes: 10 * 1024 * 1024, keep: 5 })
    return yield* LogStore.make({ keepLines: DEFAULT_KEEP_LINES, sinks: [files.write] })
  }))

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
  console.log(`READY ${server.endpoint}`)
  yield* Effect.sleep("500 millis")
  const cpu = process.cpuUsage()
  const started = performance.now()
  yield* Orchestrator.run
  const used = process.cpuUsage(cpu)
  const stored = yield* LogStore.use((store) => store.query({ agents: ["writer"], limit: 1 }))
  console.log(`DONE ${JSON.stringify({
    ranMs: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
    peakRssMiB: peakRssMiB(),
    lines: stored.lastSeq
  })}`)
}).pipe(Effect.provide(app), NodeRuntime.runMain)
