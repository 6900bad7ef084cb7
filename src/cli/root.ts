/**
 * The `orchestrate` root command and its flags, shared by every subcommand (they may come before or after it).
 */
import { Config, Console, Duration, Effect, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { CommandClient } from "../client/CommandClient.ts"
import { DEFAULT_ADDRESS, ZmqAddress } from "../protocol/Address.ts"
import type { ArgsOf, CommandName, ResultOf } from "../protocol/Commands.ts"
import { readKeyPair, readPublicKey } from "../security/keys.ts"
import type { ClientCredentials } from "../security/RequestSignature.ts"
import { ContextName } from "./contexts/ContextsFile.ts"
import { targetOf } from "./contexts/ContextTarget.ts"
import { DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, WAIT_DEFAULT_SECONDS } from "./defaults.ts"
import { MissingKeyFlag, UsageError } from "./errors.ts"
import { currentStyle, type Style } from "./output.ts"

export { DEFAULT_TIMEOUT_SECONDS } from "./defaults.ts"

/** A CURVE key flag, falling back to its environment variable. */
const keyFlag = (name: string, variable: string, description: string, partner: string) =>
  Flag.String(name).pipe(
    Flag.withFallbackConfig(Config.String(variable)),
    Flag.optional,
    Flag.withDescription(`${description} (default $${variable}). Needs ${partner}`)
  )

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
  context: Flag.String("context").pipe(
    Flag.withSchema(ContextName),
    Flag.withFallbackConfig(Config.String("ORCHESTRATE_CONTEXT")),
    Flag.optional,
    Flag.withDescription(
      "A named context ('orchestrate context list'): the address and keys to use, each overridden by --address, " +
        "--server-key and --client-key (default $ORCHESTRATE_CONTEXT, else the one 'context use' chose, unless " +
        "--address is given)"
    )
  ),
  json: Flag.Boolean("json").pipe(
    Flag.withDefault(false),
    Flag.withDescription(
      "Print one JSON document on stdout: the orchestrator's response envelope exactly (for keygen, audit verify and " +
        "context, their result; with --all-contexts, each context's envelope, keyed by context)"
    )
  ),
  serverKey: keyFlag(
    "server-key",
    "ORCHESTRATE_SERVER_KEY",
    "For an orchestrator that uses CURVE: its public key, or a file holding it (server.key.pub)",
    "--client-key"
  ),
  clientKey: keyFlag(
    "client-key",
    "ORCHESTRATE_CLIENT_KEY",
    "For an orchestrator that uses CURVE: this client's key pair file, from 'orchestrate keygen'",
    "--server-key"
  ),
  timeout: Flag.Finite("timeout").pipe(
    Flag.withSchema(Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(MAX_TIMEOUT_SECONDS))),
    Flag.optional,
    Flag.withDescription(
      `Seconds to wait for an answer (default ${DEFAULT_TIMEOUT_SECONDS}, at most ${MAX_TIMEOUT_SECONDS}); with 'status --wait', for readiness (default ${WAIT_DEFAULT_SECONDS})`
    )
  )
}

/** `--interval`: seconds between refreshes of a command that keeps polling. */
export const intervalFlag = (defaultSeconds: number, description: string) =>
  Flag.Finite("interval").pipe(
    Flag.withSchema(Schema.Finite.check(Schema.isGreaterThan(0))),
    Flag.withDefault(defaultSeconds),
    Flag.withDescription(`${description} (default ${defaultSeconds})`)
  )

export type RootFlags = Command.Command.Config.Infer<typeof sharedFlags>

export const root = Command.make("orchestrate").pipe(
  Command.withSharedFlags(sharedFlags),
  Command.withDescription(
    "Run an orchestrator ('up') or query and control a running one over its ZeroMQ command interface.\n\n" +
      "Exit codes: 0 success; 1 the orchestrator answered with an error (or an audit file is broken); " +
      "2 usage or configuration error (for 'up': also an orchestrator that cannot start); " +
      "3 not reachable, or no answer within the timeout. With --all-contexts, 0 only if every context answered."
  )
)

export const addressOf = (flags: RootFlags): string => Option.getOrElse(flags.address, () => DEFAULT_ADDRESS)

/** CURVE credentials: the orchestrator's public key (the key itself, or a file holding it) and a key pair file, read. */
export const readCredentials = Effect.fnUntraced(function*(serverKey: string, clientKey: string) {
  const serverPublicKey = yield* readPublicKey(serverKey)
  const { publicKey, secretKey } = yield* readKeyPair(clientKey)
  return { serverPublicKey, publicKey, secretKey } satisfies ClientCredentials
})

/** The CURVE credentials the flags name, read from their files; none without the flags. */
const credentialsOf = Effect.fnUntraced(function*(flags: RootFlags) {
  if (Option.isNone(flags.serverKey) && Option.isNone(flags.clientKey)) return undefined
  if (Option.isNone(flags.serverKey) || Option.isNone(flags.clientKey)) {
    const flag = Option.isNone(flags.serverKey) ? "--server-key" : "--client-key"
    return yield* new UsageError({ reason: new MissingKeyFlag({ flag }) })
  }
  return yield* readCredentials(flags.serverKey.value, flags.clientKey.value)
})

export const clientFor = Effect.fnUntraced(function*(flags: RootFlags, defaultSeconds = DEFAULT_TIMEOUT_SECONDS) {
  const target = { ...flags, ...(yield* targetOf(flags)) }
  const credentials = yield* credentialsOf(target)
  return CommandClient.make({
    address: addressOf(target),
    timeout: Duration.seconds(Option.getOrElse(flags.timeout, () => defaultSeconds)),
    ...(credentials === undefined ? {} : { credentials })
  })
})

/**
 * Runs a command and prints its result: the response exactly with `--json`, `render`'s text otherwise (nothing
 * when it has none, as the fast path's plans have it). An error response is printed exactly with `--json` too,
 * before the failure ends the program.
 */
export const respond = <K extends CommandName>(
  command: K,
  args: ArgsOf<K>,
  render: (data: ResultOf<K>, style: Style) => string | undefined,
  options: {
    readonly reason?: Option.Option<string>
    /** Seconds to wait without `--timeout`, for a command that may take long (a reload stopping agents). */
    readonly defaultTimeout?: number
  } = {}
) =>
  Effect.gen(function*() {
    const flags = yield* root
    const client = yield* clientFor(flags, options.defaultTimeout)
    const reason = options.reason === undefined ? undefined : Option.getOrUndefined(options.reason)
    const reply = yield* client.call(command, args, reason === undefined ? {} : { reason }).pipe(
      Effect.tapError((error) => flags.json && error._tag === "CommandRefused" ? Console.log(error.raw) : Effect.void)
    )
    const text = flags.json ? reply.raw : render(reply.data, yield* currentStyle)
    if (text !== undefined) yield* Console.log(text)
  })
