/**
 * What is derived from CURVE keys: a key's fingerprint, the public key of a secret key, the signing key a client
 * and a server share. Plain code on node:crypto, without Schema, so that the CLI's fast path signs requests and
 * checks key files with the same functions as keys.ts, which builds its schemas and key files on these.
 */
import * as Crypto from "node:crypto"
import { z85Decode, z85Encode } from "./z85.ts"

export { isCurveKey, z85Decode, z85Encode } from "./z85.ts"

/** A short, stable name for a public key, for logs and the audit trail: the first 16 hex digits of its SHA-256. */
export const fingerprint = (publicKey: string | Uint8Array): string =>
  Crypto.createHash("sha256").update(typeof publicKey === "string" ? z85Decode(publicKey) ?? publicKey : publicKey)
    .digest("hex").slice(0, 16)

// An X25519 private key in PKCS#8 DER is this fixed prefix followed by the 32 raw bytes.
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex")

const privateKeyOf = (secretKey: string): Crypto.KeyObject =>
  Crypto.createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, z85Decode(secretKey) ?? new Uint8Array(0)]),
    format: "der",
    type: "pkcs8"
  })

const rawPublicKey = (key: Crypto.KeyObject): Uint8Array => {
  const { x } = key.export({ format: "jwk" })
  return Buffer.from(x ?? "", "base64url")
}

/** The public key that belongs to a secret key. */
export const publicKeyOf = (secretKey: string): string => z85Encode(rawPublicKey(Crypto.createPublicKey(privateKeyOf(secretKey))))

/**
 * The key that signs requests between a client and a server: HKDF-SHA256 of their X25519 shared secret. The
 * client calls it with its secret key and the server's public key, the server with its secret key and the
 * client's; both get the same key.
 */
export const signingKey = (ownSecretKey: string, peerPublicKey: string): Buffer => {
  const publicKey = Crypto.createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: Buffer.from(z85Decode(peerPublicKey) ?? new Uint8Array(0)).toString("base64url") },
    format: "jwk"
  })
  const shared = Crypto.diffieHellman({ privateKey: privateKeyOf(ownSecretKey), publicKey })
  return Buffer.from(Crypto.hkdfSync("sha256", shared, new Uint8Array(0), "effect-orchestrate request signing v1", 32))
}
