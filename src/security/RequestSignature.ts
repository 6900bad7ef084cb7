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
import { CurveKey, signingKey } from "./keys.ts"

export const SIGNATURE_VERSION = "effect-orchestrate-auth-v1"

/** The longest authentication frame the server reads. */
export const MAX_AUTH_FRAME_BYTES = 512

export const AuthFrame = Schema.Struct({
  key: CurveKey,
  ts: Schema.Int,
  nonce: Schema.String.check(Schema.isBetweenLength(16, 64)),
  sig: Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))
})
export type AuthFrame = typeof AuthFrame.Type

/** A signing key ready for HMAC: importing raw key bytes anew costs about 25 µs per request, a KeyObject none. */
export const hmacKey = (ownSecretKey: string, peerPublicKey: string): Crypto.KeyObject =>
  Crypto.createSecretKey(signingKey(ownSecretKey, peerPublicKey))

export const signature = (
  key: Crypto.KeyObject,
  auth: { readonly key: string; readonly ts: number; readonly nonce: string },
  body: Uint8Array
): string =>
  Crypto.createHmac("sha256", key)
    .update(`${SIGNATURE_VERSION}\n${auth.key}\n${auth.ts}\n${auth.nonce}\n`)
    .update(body)
    .digest("hex")

/** Whether `auth.sig` signs `body`, compared in constant time. */
export const signatureMatches = (key: Crypto.KeyObject, auth: AuthFrame, body: Uint8Array): boolean =>
  Crypto.timingSafeEqual(Buffer.from(signature(key, auth, body), "hex"), Buffer.from(auth.sig, "hex"))

/** What a client needs to sign its requests to one server. */
export interface ClientCredentials {
  readonly publicKey: string
  readonly secretKey: string
  readonly serverPublicKey: string
}

/** A signer for requests from `credentials`' key pair to its server. */
export const makeSigner = (credentials: ClientCredentials) => {
  const key = hmacKey(credentials.secretKey, credentials.serverPublicKey)
  return (body: string, now: number): string => {
    const auth = { key: credentials.publicKey, ts: now, nonce: Crypto.randomUUID() }
    return JSON.stringify({ ...auth, sig: signature(key, auth, Buffer.from(body, "utf8")) })
  }
}
