/**
 * The command interface's settings. In TypeScript they carry the names the API documents
 * (`enableCommandInterface`, `commandAddress`, ...); in a JSON config file they sit under `commandInterface` as
 * `enabled`, `address`, .... One schema describes both.
 */
import { Context, Duration, Effect, Layer, LogLevel, References, Schema } from "effect"
import { DEFAULT_ADDRESS, ZmqAddress } from "../protocol/Address.ts"
import { durationBetween, intBetween, withDefault } from "../settings.ts"
import { CurveSettings } from "./Principals.ts"
import { AllowedCommands } from "./Whitelist.ts"

/** The largest group id: 2^32 - 1 is `(gid_t) -1`, which chown takes to mean "leave the group alone". */
const MAX_GID = 4_294_967_294

export const CommandInterfaceSettings = Schema.Struct({
  /** Off unless asked for: the interface can stop the orchestrator. */
  enableCommandInterface: withDefault(Schema.Boolean, false),
  commandAddress: withDefault(ZmqAddress, DEFAULT_ADDRESS),
  allowedCommands: withDefault(AllowedCommands, "basic"),
  /**
   * How long in-flight requests may take to finish once the interface is stopping. It is closed last, after
   * every agent has stopped, so a long wait here only holds up the orchestrator's exit.
   */
  shutdownTimeout: withDefault(durationBetween(0, "10 minutes"), 2000),
  /** Larger requests get 400 `Request too large` without being parsed. */
  maxRequestBytes: withDefault(intBetween(256, 16 * 1024 * 1024), 64 * 1024),
  /** Requests executing at once; beyond it the server stops reading and ZeroMQ queues push back. */
  maxInFlight: withDefault(intBetween(1, 65_536), 256),
  /** CURVE encryption and authentication: the server's key file and the principals allowed in. */
  curve: Schema.optionalKey(CurveSettings),
  /** Binding a non-loopback TCP address without CURVE is refused unless this says the risk is accepted. */
  allowInsecureNetwork: withDefault(Schema.Boolean, false),
  /**
   * For an `ipc://` address: the group (name or id) whose members may connect too. The socket file is created
   * with mode 0600, or 0660 owned by this group.
   */
  ipcGroup: Schema.optionalKey(Schema.Union([Schema.String.check(Schema.isNonEmpty()), intBetween(0, MAX_GID)])),
  /**
   * How far a signed request's timestamp may be from the server's clock (CURVE only). Nonces are remembered for
   * twice the window, at most 250,000 of them, so a wider window lowers the signed request rate the server can
   * take: about 2,000 a second at the default minute, 200 at ten minutes. Clocks kept by NTP agree within a second.
   */
  authWindow: withDefault(durationBetween("1 second", "10 minutes"), 60_000),
  /**
   * How long a mutating request's id is remembered, so that a resent request gets the first reply. At least a
   * second, because a client resends within its own timeout; the cache holds at most 10,000 replies either way.
   */
  idempotencyTtl: withDefault(durationBetween("1 second", "1 day"), 300_000),
  /** A file to append the audit trail to, hash-chained (see `orchestrate audit verify`). */
  auditFile: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty())),
  /** Sets the minimum log level of the interface alone, e.g. `Debug` to log every request. */
  logLevel: Schema.optionalKey(Schema.Literals(LogLevel.values))
}).pipe(Schema.encodeKeys({ enableCommandInterface: "enabled", commandAddress: "address" }))
export type CommandInterfaceSettings = typeof CommandInterfaceSettings.Type

export type CommandInterfaceOptions = Partial<CommandInterfaceSettings>

const decodeDefaults = Schema.decodeUnknownSync(CommandInterfaceSettings)
const validate = Schema.decodeUnknownEffect(Schema.toType(CommandInterfaceSettings))

export class CommandInterfaceConfig extends Context.Service<CommandInterfaceConfig, CommandInterfaceSettings>()(
  "effect-orchestrate/CommandInterfaceConfig"
) {
  static readonly defaults: CommandInterfaceSettings = decodeDefaults({})

  /** The defaults overridden by `options`, each value checked as a config file's would be. */
  static readonly layer = (
    options: CommandInterfaceOptions = {}
  ): Layer.Layer<CommandInterfaceConfig, Schema.SchemaError> =>
    Layer.effect(CommandInterfaceConfig, validate({ ...CommandInterfaceConfig.defaults, ...options }))

  /** The ZeroMQ-level frame limit: far above `maxRequestBytes`, so that only absurd frames are cut off there. */
  static readonly frameLimit = (settings: CommandInterfaceSettings): number =>
    Math.max(4 * settings.maxRequestBytes, 1024 * 1024)

  static readonly shutdownTimeoutMillis = (settings: CommandInterfaceSettings): number =>
    Duration.toMillis(settings.shutdownTimeout)

  /** Logs of an interface's `component` (either transport's), at the interface's own level when `logLevel` sets one. */
  static readonly logsOf = (settings: CommandInterfaceSettings, component: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const annotated = Effect.annotateLogs(effect, { component })
    return settings.logLevel === undefined ? annotated : Effect.provideService(annotated, References.MinimumLogLevel, settings.logLevel)
  }
}
