/**
 * Signing a request (the scheme is described in RequestSignature.ts): the HMAC over the exact bytes sent, and the
 * client's signer that makes the authentication frame. Plain code on node:crypto, without Schema, so that the CLI's
 * fast path signs with the same functions as the client (CommandClient.ts) and the server checks against.
 */
import * as Crypto from "node:crypto"
import { signingKey } from "./curve.ts"

export const SIGNATURE_VERSION = "effect-orchestrate-auth-v1"

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
