/**
 * The HTTP interface's settings, the config file's `http` section: whether it listens, where, with which TLS
 * certificate, the bearer tokens that identify its callers, and how many event streams it serves at once. What
 * callers may run, how large a request may be and how long a request id is remembered are the command interface's
 * settings (`commandInterface.*`), shared by both transports.
 */
import { Context, Layer, Schema } from "effect"
import { intBetween, withDefault } from "../../settings.ts"
import { firstDuplicate, PrincipalSettings } from "../Principals.ts"
import { AllowedCommands } from "../Whitelist.ts"
import { DEFAULT_HTTP_ADDRESS, HttpAddress } from "./HttpAddress.ts"

/** A SHA-256 as `orchestrate token create` prints it. */
const Sha256Hex = Schema.String.check(
  Schema.isPattern(/^[0-9a-f]{64}$/, {
    message: "expected the token's SHA-256 as 64 lowercase hex digits (orchestrate token create prints it)"
  })
)

/** The most tokens: each request's token is compared with every one of them. */
const MAX_TOKENS = 1000

/**
 * The highest `maxEventStreams`: each open stream reads the stores four times a second, so 4096 of them are
 * 16,000 reads a second and a connection each, already more than one orchestrator should serve.
 */
const MAX_EVENT_STREAMS = 4096

/** A bearer token's config entry: who it is, what it may do (as a CURVE principal's role and agents mean), its hash. */
export const HttpToken = Schema.Struct({
  name: PrincipalSettings.fields.name,
  tokenSha256: Sha256Hex,
  role: AllowedCommands,
  agents: PrincipalSettings.fields.agents
})
export type HttpToken = typeof HttpToken.Type

const HttpTokens = Schema.Array(HttpToken).check(
  Schema.makeFilter((tokens: ReadonlyArray<HttpToken>) => {
    // Said without ", got": what is under a secret-named key ("tokens") has its value cut from the message.
    if (tokens.length < 1 || tokens.length > MAX_TOKENS) return `expected 1 to ${MAX_TOKENS} tokens; there are ${tokens.length}`
    const name = firstDuplicate(tokens.map((token) => token.name))
    if (name !== undefined) return `token names must be unique: '${name}' appears twice`
    const hash = firstDuplicate(tokens.map((token) => token.tokenSha256))
    return hash === undefined || `token hashes must be unique: ${hash.slice(0, 16)}… appears twice`
  })
)

/** A certificate and its private key, PEM files (relative to the config file). */
export const TlsSettings = Schema.Struct({
  certFile: Schema.String.check(Schema.isNonEmpty()),
  keyFile: Schema.String.check(Schema.isNonEmpty())
})
export type TlsSettings = typeof TlsSettings.Type

export const HttpSettings = Schema.Struct({
  /** Off unless asked for, like the ZeroMQ interface: it can stop the orchestrator. */
  enabled: withDefault(Schema.Boolean, false),
  address: withDefault(HttpAddress, DEFAULT_HTTP_ADDRESS),
  /** HTTPS instead of HTTP. */
  tls: Schema.optionalKey(TlsSettings),
  /** With tokens, every API request needs `Authorization: Bearer <token>`; without, callers are anonymous. */
  tokens: Schema.optionalKey(HttpTokens),
  /** Binding a non-loopback address without both TLS and tokens is refused unless this says the risk is accepted. */
  allowInsecureNetwork: withDefault(Schema.Boolean, false),
  /** Event streams open at once (`EventStream.ts`); one more is refused with 503 until one ends. */
  maxEventStreams: withDefault(intBetween(1, MAX_EVENT_STREAMS), 64)
})
export type HttpSettings = typeof HttpSettings.Type

const decodeDefaults = Schema.decodeUnknownSync(HttpSettings)
const validate = Schema.decodeUnknownEffect(Schema.toType(HttpSettings))

export class HttpConfig extends Context.Service<HttpConfig, HttpSettings>()("effect-orchestrate/HttpConfig") {
  static readonly defaults: HttpSettings = decodeDefaults({})

  /** The defaults overridden by `options`, each value checked as a config file's would be. */
  static readonly layer = (options: Partial<HttpSettings> = {}): Layer.Layer<HttpConfig, Schema.SchemaError> =>
    Layer.effect(HttpConfig, validate({ ...HttpConfig.defaults, ...options }))
}
