/**
 * Who sent an HTTP request: the HTTP interface's way of identifying callers, the pipeline's second stage
 * (`pipeline/RequestPipeline.ts` takes it as its `IdentifyCaller`). The credentials frame the HTTP transport
 * hands over is the bearer token's bytes, when the request had one. Without `http.tokens` every request comes from
 * the anonymous caller, with the whitelist's permissions, as on ZeroMQ without CURVE. With tokens, a request needs
 * one of them; it then comes from that token's principal, whose role and agent patterns mean what a CURVE
 * principal's do (`Principals.ts`).
 */
import { Result } from "effect"
import { matchToken } from "../../security/tokens.ts"
import type { IdentifyCaller } from "../pipeline/RequestPipeline.ts"
import { AuthenticationFailed, MissingToken, UnknownToken } from "../pipeline/RequestError.ts"
import { type Caller, grantedCaller, makeCaller } from "../Principals.ts"
import type { Whitelist } from "../Whitelist.ts"
import type { HttpToken } from "./HttpSettings.ts"

export interface HttpAuthentication {
  /** Whether requests need a token: the config has tokens. */
  readonly tokensRequired: boolean
  /** The caller of a request, from its bearer token's bytes (undefined without one). */
  readonly identify: IdentifyCaller
  /**
   * Whether an `Authorization` header presents one of the configured tokens: for the routes that are not commands
   * (`/readyz`, `/metrics`), which read the header themselves.
   */
  readonly presentsToken: (authorization: string | undefined) => boolean
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i
const encoder = new TextEncoder()

const missing = Result.fail(new AuthenticationFailed({ reason: new MissingToken({}) }))

export const makeHttpAuthentication = (
  whitelist: Whitelist["Service"],
  tokens: ReadonlyArray<HttpToken> | undefined
): HttpAuthentication => {
  if (tokens === undefined) {
    const anonymous = Result.succeed(makeCaller(whitelist))
    const unexpected = Result.fail(new AuthenticationFailed({ reason: new UnknownToken({ tokensConfigured: false }) }))
    return {
      tokensRequired: false,
      identify: (token) => token === undefined ? anonymous : unexpected,
      presentsToken: () => false
    }
  }
  const hashes = tokens.map((token) => Buffer.from(token.tokenSha256, "hex"))
  // A token is not a key: its principal has no key fingerprint.
  const callers: ReadonlyArray<Caller> = tokens.map((token) => grantedCaller(whitelist, token, null))
  const unknown = Result.fail(new AuthenticationFailed({ reason: new UnknownToken({ tokensConfigured: true }) }))
  return {
    tokensRequired: true,
    identify: (token) => {
      if (token === undefined) return missing
      const caller = callers[matchToken(token, hashes)]
      return caller === undefined ? unknown : Result.succeed(caller)
    },
    presentsToken: (authorization) => {
      const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1]
      return token !== undefined && matchToken(encoder.encode(token), hashes) !== -1
    }
  }
}
