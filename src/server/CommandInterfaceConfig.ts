/**
 * The command interface's settings. In TypeScript they carry the names the API documents
 * (`enableCommandInterface`, `commandAddress`, ...); in a JSON config file they sit under `commandInterface` as
 * `enabled`, `address`, .... One schema describes both.
 */
import { Context, Duration, Layer, LogLevel, Schema } from "effect"
import { DEFAULT_ADDRESS, ZmqAddress } from "../protocol/Address.ts"
import { DurationSetting, withDefault } from "../settings.ts"
import { CurveSettings } from "./Principals.ts"
import { AllowedCommands } from "./Whitelist.ts"

const bounded = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))

const PositiveDuration = DurationSetting.check(
  Schema.makeFilter((duration: Duration.Duration) => Duration.toMillis(duration) > 0 || "expected a positive duration")
)

export const CommandInterfaceSettings = Schema.Struct({
  /** Off unless asked for: the interface can stop the orchestrator. */
  enableCommandInterface: withDefault(Schema.Boolean, false),
  commandAddress: withDefault(ZmqAddress, DEFAULT_ADDRESS),
  allowedCommands: withDefault(AllowedCommands, "basic"),
  /** How long in-flight requests may take to finish once the interface is stopping. */
  shutdownTimeout: withDefault(DurationSetting, 2000),
  /** Larger requests get 400 `Request too large` without being parsed. */
  maxRequestBytes: withDefault(bounded(256, 16 * 1024 * 1024), 64 * 1024),
  /** Requests executing at once; beyond it the server stops reading and ZeroMQ queues push back. */
  maxInFlight: withDefault(bounded(1, 65_536), 256),
  /** CURVE encryption and authentication: the server's key file and the principals allowed in. */
  curve: Schema.optionalKey(CurveSettings),
  /** Binding a non-loopback TCP address without CURVE is refused unless this says the risk is accepted. */
  allowInsecureNetwork: withDefault(Schema.Boolean, false),
  /**
   * For an `ipc://` address: the group (name or id) whose members may connect too. The socket file is created
   * with mode 0600, or 0660 owned by this group.
   */
  ipcGroup: Schema.optionalKey(Schema.Union([Schema.String.check(Schema.isNonEmpty()), Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))])),
  /** How far a signed request's timestamp may be from the server's clock (CURVE only). */
  authWindow: withDefault(PositiveDuration, 60_000),
  /** How long a mutating request's id is remembered, so that a resent request gets the first reply. */
  idempotencyTtl: withDefault(DurationSetting, 300_000),
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
}
