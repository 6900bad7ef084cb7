/**
 * Embedding the orchestrator in an Effect application: Effect agents that use the application's own service,
 * a process agent, and the command interface, composed as layers. Run it with `node examples/embedded.ts`; it
 * ends by itself (run mode `until-done`), or answers `orchestrate ps --address ipc:///tmp/embedded.sock` (or the
 * address in $EMBEDDED_ADDRESS) while it runs.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Context, Duration, Effect, Layer, Queue, Schema } from "effect"
import {
  AgentContext,
  CommandInterface,
  CommandInterfaceConfig,
  effectAgent,
  EventStore,
  linesOf,
  LogStore,
  Orchestrator,
  processAgent,
  ProcessAgentConfig
} from "../src/index.ts"

/**
 * The agents' lines (a process's output, an Effect agent's own logs) are kept for `orchestrate logs`; here they are
 * also printed, each prefixed with its agent's name.
 */
const AgentOutput = Layer.effect(LogStore, LogStore.make({
  keepLines: 1000,
  sinks: [(batches) => Console.log(batches.flatMap(linesOf).map((line) => `${line.agent} | ${line.line}`).join("\n"))]
}))

/** The application's own service: a queue of jobs shared by a producer and a consumer agent. */
class Jobs extends Context.Service<Jobs, Queue.Queue<number>>()("example/Jobs") {
  static readonly layer = Layer.effect(Jobs, Queue.bounded<number>(16))
}

const producer = effectAgent({
  name: "producer",
  run: Effect.gen(function*() {
    const jobs = yield* Jobs
    const agent = yield* AgentContext
    for (let job = 1; job <= 5; job++) {
      yield* agent.checkpoint
      yield* Queue.offer(jobs, job)
      yield* agent.heartbeat
    }
  })
})

const consumer = effectAgent({
  name: "consumer",
  dependsOn: ["producer"],
  run: Effect.gen(function*() {
    const jobs = yield* Jobs
    for (let done = 0; done < 5; done++) {
      const job = yield* Queue.take(jobs)
      yield* Effect.logInfo(`consumed job ${job}`)
    }
  })
})

const greeter = processAgent(
  Schema.decodeUnknownSync(ProcessAgentConfig)({ name: "greeter", command: process.execPath, args: ["-e", "console.log('hello from a process agent')"] }),
  process.cwd()
)

const Orchestration = Orchestrator.layer({
  maxWorkers: 4,
  runMode: "until-done",
  agentStopTimeout: Duration.seconds(5),
  heartbeatInterval: Duration.seconds(5),
  agents: [producer, consumer, greeter]
})

const App = CommandInterface.layer.pipe(
  Layer.provide(CommandInterfaceConfig.layer({
    enableCommandInterface: true,
    commandAddress: process.env["EMBEDDED_ADDRESS"] ?? "ipc:///tmp/embedded.sock",
    allowedCommands: "monitoring"
  })),
  Layer.provideMerge(Orchestration),
  Layer.provideMerge(AgentOutput),
  Layer.provideMerge(EventStore.layer()),
  Layer.provide([Jobs.layer, NodeServices.layer])
)

Orchestrator.run.pipe(
  Effect.tap((result) => Effect.logInfo(`finished: ${result.failed.length === 0 ? "every agent completed" : `failed: ${result.failed.join(", ")}`}`)),
  Effect.provide(App),
  NodeRuntime.runMain
)
