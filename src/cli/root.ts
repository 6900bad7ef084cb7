/**
 * The `orchestrate` root command and its flags, shared by every subcommand (they may come before or after it).
 */
import { Config, Console, Duration, Effect, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { CommandClient } from "../client/CommandClient.ts"
import { DEFAULT_ADDRESS, ZmqAddress } from "../protocol/Address.ts"
import type { ArgsOf, CommandName, ResultOf } from "../protocol/Commands.ts"

export const DEFAULT_TIMEOUT_SECONDS = 5

const sharedFlags = {
  address: Flag.String("address").pipe(
    Flag.withSchema(ZmqAddress),
    Flag.withFallbackConfig(Config.String("ORCHESTRATE_ADDRESS")),
    Flag.optional,
    Flag.withDescription(
      `The command interface's ZeroMQ address: where to connect, or for 'up' where to bind ` +
        `(default ${DEFAULT_ADDRESS}, or $ORCHESTRATE_ADDRESS)`
    )
  ),
  json: Flag.Boolean("json").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Print the orchestrator's response envelope exactly, as one JSON document on stdout")
  ),
  timeout: Flag.Finite("timeout").pipe(
    Flag.withSchema(Schema.Finite.check(Schema.isGreaterThan(0))),
    Flag.optional,
    Flag.withDescription(
      `Seconds to wait for an answer (default ${DEFAULT_TIMEOUT_SECONDS}); with 'status --wait', for readiness (default 60)`
    )
  )
}

export type RootFlags = Command.Command.Config.Infer<typeof sharedFlags>

export const root = Command.make("orchestrate").pipe(
  Command.withSharedFlags(sharedFlags),
  Command.withDescription(
    "Run an orchestrator ('up') or query and control a running one over its ZeroMQ command interface.\n\n" +
      "Exit codes: 0 success; 1 the orchestrator answered with an error; 2 usage error; " +
      "3 not reachable, or no answer within the timeout."
  )
)

export const addressOf = (flags: RootFlags): string => Option.getOrElse(flags.address, () => DEFAULT_ADDRESS)

export const clientFor = (flags: RootFlags, defaultSeconds = DEFAULT_TIMEOUT_SECONDS): CommandClient["Service"] =>
  CommandClient.make({
    address: addressOf(flags),
    timeout: Duration.seconds(Option.getOrElse(flags.timeout, () => defaultSeconds))
  })

/**
 * Runs a command and prints its result: the response exactly with `--json`, `render`'s text otherwise. An error
 * response is printed exactly with `--json` too, before the failure ends the program.
 */
export const respond = <K extends CommandName>(command: K, args: ArgsOf<K>, render: (data: ResultOf<K>) => string) =>
  Effect.gen(function*() {
    const flags = yield* root
    const reply = yield* clientFor(flags).call(command, args).pipe(
      Effect.tapError((error) => flags.json && error._tag === "CommandRefused" ? Console.log(error.raw) : Effect.void)
    )
    yield* Console.log(flags.json ? reply.raw : render(reply.data))
  })
