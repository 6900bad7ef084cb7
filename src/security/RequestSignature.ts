/**
 * How a request proves who sent it. ZeroMQ authenticates each CURVE connection but does not say which connection
 * a message came from, so a request carries its own proof: a second frame after the request JSON,
 *
 *     {"key": "<the sender's public key, Z85>", "ts": <Unix time in ms>, "nonce": "<16-64 characters>", "sig": "<hex>"}
 *
 * where `sig` is HMAC-SHA256, keyed with the pair's signing key (`keys.ts`), of
 *
 *     "effect-orchestrate-auth-v1\n" + key + "\n" + ts + "\n" + nonce + "\n" + <the request frame's exact bytes>
 *
 * Signing the bytes as sent, rather than a re-serialised request, leaves nothing to canonicalise: any client in
 * any language signs exactly what it sends.
 */
import { Schema } from "effect"
import * as Crypto from "node:crypto"
import { CurveKey } from "./keys.ts"
import { signature } from "./signing.ts"

export { type ClientCredentials, hmacKey, makeSigner } from "./signing.ts"

/** The longest authentication frame the server reads. */
export const MAX_AUTH_FRAME_BYTES = 512

export const AuthFrame = Schema.Struct({
  key: CurveKey,
  ts: Schema.Int,
  nonce: Schema.String.check(Schema.isBetweenLength(16, 64)),
  sig: Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))
})
export type AuthFrame = typeof AuthFrame.Type

/** Whether `auth.sig` signs `body`, compared in constant time. */
export const signatureMatches = (key: Crypto.KeyObject, auth: AuthFrame, body: Uint8Array): boolean =>
  Crypto.timingSafeEqual(Buffer.from(signature(key, auth, body), "hex"), Buffer.from(auth.sig, "hex"))
