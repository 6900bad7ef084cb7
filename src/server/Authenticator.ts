/**
 * Who sent a request: the ZeroMQ command interface's way of identifying the caller, the pipeline's second stage
 * (`pipeline/RequestPipeline.ts` takes it as its `IdentifyCaller`). Without CURVE every request comes from the
 * anonymous caller, with the whitelist's permissions. With CURVE every request must carry an authentication frame
 * (`security/RequestSignature.ts`) from a configured principal, signed within the authentication window, with a
 * nonce not seen before.
 */
import { Clock, Context, Duration, Effect, Layer, Result, Schema } from "effect"
import type { KeyObject } from "node:crypto"
import { fingerprint, type KeyFileError, type KeyPair, readKeyPair } from "../security/keys.ts"
import { AuthFrame, hmacKey, MAX_AUTH_FRAME_BYTES, signatureMatches } from "../security/RequestSignature.ts"
import { CommandInterfaceConfig } from "./CommandInterfaceConfig.ts"
import type { IdentifyCaller } from "./pipeline/RequestPipeline.ts"
import {
  AuthenticationFailed,
  type AuthenticationFailedReason,
  BadSignature,
  FrameNotJson,
  FrameTooLarge,
  InvalidFrame,
  MalformedRequest,
  NotSigned,
  Replayed,
  StaleTimestamp,
  TooManyNonces,
  UnexpectedCredentials,
  UnknownKey
} from "./pipeline/RequestError.ts"
import { type Caller, makeCaller, type PrincipalSettings } from "./Principals.ts"
import { Whitelist } from "./Whitelist.ts"

/**
 * The most nonces remembered at once. Each is kept for two authentication windows; this allows a sustained
 * 2,000 signed requests a second with the default 60 s window, and bounds memory if a principal floods.
 */
const MAX_REMEMBERED_NONCES = 250_000

const utf8 = new TextDecoder("utf-8", { fatal: true })
// Parsed with JSON.parse, then decoded: Schema.fromJsonString costs 4 µs more per request. Unknown keys are
// refused, as in the request envelope: a member the signature does not cover must not ride along unnoticed.
const decodeAuthFrame = Schema.decodeUnknownResult(AuthFrame, { errors: "all", onExcessProperty: "error" })

interface Known {
  readonly principal: PrincipalSettings
  readonly caller: Caller
  readonly signingKey: KeyObject
}

export interface CurveServer {
  readonly keyPair: KeyPair
  /** The principal a public key (Z85) belongs to, if any: the ZAP handler admits connections with it. */
  readonly principalOf: (publicKey: string) => PrincipalSettings | undefined
}

export class Authenticator extends Context.Service<Authenticator, {
  /** The server's CURVE key pair and principals; undefined when CURVE is off. */
  readonly curve: CurveServer | undefined
  /** The caller of a request, from its authentication frame (if any) and its body's exact bytes. */
  readonly authenticate: IdentifyCaller
}>()("effect-orchestrate/Authenticator") {
  static readonly layer: Layer.Layer<Authenticator, KeyFileError, CommandInterfaceConfig | Whitelist> = Layer.effect(
    Authenticator,
    Effect.gen(function*() {
      const config = yield* CommandInterfaceConfig
      const whitelist = yield* Whitelist
      const anonymous = makeCaller(whitelist)
      if (config.curve === undefined) {
        return Authenticator.of({
          curve: undefined,
          authenticate: (auth) =>
            auth === undefined
              ? Result.succeed(anonymous)
              : Result.fail(new MalformedRequest({ reason: new UnexpectedCredentials({}) }))
        })
      }

      const keyPair = yield* readKeyPair(config.curve.keyFile)
      const known = new Map<string, Known>(config.curve.principals.map((principal) => [principal.publicKey, {
        principal,
        caller: makeCaller(whitelist, principal),
        signingKey: hmacKey(keyPair.secretKey, principal.publicKey)
      }]))
      const windowMillis = Duration.toMillis(config.authWindow)
      const clock = yield* Clock.Clock
      // Nonces seen, each with when it may be forgotten: once its timestamp is outside the window, a replay is
      // refused for that reason instead. Entries go in in time order, so the oldest are always in front.
      const nonces = new Map<string, number>()
      const forgetExpired = (now: number) => {
        for (const [nonce, expiresAt] of nonces) {
          if (expiresAt > now) return
          nonces.delete(nonce)
        }
      }

      const refuse = (reason: AuthenticationFailedReason, key?: string) =>
        Result.fail(new AuthenticationFailed({ reason, ...(key === undefined ? {} : { keyFingerprint: fingerprint(key) }) }))

      const authenticate: IdentifyCaller = (frame, body) => {
        if (frame === undefined) return refuse(new NotSigned({}))
        if (frame.length > MAX_AUTH_FRAME_BYTES) return refuse(new FrameTooLarge({ limit: MAX_AUTH_FRAME_BYTES }))
        let json: unknown
        try {
          json = JSON.parse(utf8.decode(frame))
        } catch {
          return refuse(new FrameNotJson({}))
        }
        const decoded = decodeAuthFrame(json)
        if (Result.isFailure(decoded)) return refuse(new InvalidFrame({ cause: decoded.failure }))
        const auth = decoded.success
        const entry = known.get(auth.key)
        if (entry === undefined) return refuse(new UnknownKey({}), auth.key)
        const now = clock.currentTimeMillisUnsafe()
        const skew = Math.abs(now - auth.ts)
        if (skew > windowMillis) return refuse(new StaleTimestamp({ skew: Duration.millis(skew), window: config.authWindow }), auth.key)
        if (!signatureMatches(entry.signingKey, auth, body)) return refuse(new BadSignature({}), auth.key)
        const nonce = `${auth.key}/${auth.nonce}`
        forgetExpired(now)
        if (nonces.has(nonce)) return refuse(new Replayed({}), auth.key)
        if (nonces.size >= MAX_REMEMBERED_NONCES) return refuse(new TooManyNonces({}), auth.key)
        nonces.set(nonce, now + 2 * windowMillis)
        return Result.succeed(entry.caller)
      }

      return Authenticator.of({
        curve: { keyPair, principalOf: (publicKey) => known.get(publicKey)?.principal },
        authenticate
      })
    })
  )
}
