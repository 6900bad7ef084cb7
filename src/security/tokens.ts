/**
 * Bearer tokens for the HTTP interface: a random token for a client, the SHA-256 the config keeps of it, and the
 * comparison of a presented token against those hashes. The config never holds a token itself, so a leaked
 * config file grants nothing; a token is 32 random bytes, so its hash needs no salt or slow key derivation to
 * resist guessing.
 */
import * as Crypto from "node:crypto"

/** What every token starts with, so that one found in a log or a repository is recognisable for what it is. */
const TOKEN_PREFIX = "orch_"

/** A new token: the prefix and 32 random bytes, base64url (43 characters). */
export const generateToken = (): string => `${TOKEN_PREFIX}${Crypto.randomBytes(32).toString("base64url")}`

/** The SHA-256 of a token's UTF-8 bytes, as 64 lowercase hex digits: what `http.tokens[].tokenSha256` holds. */
export const tokenSha256 = (token: string | Uint8Array): string => Crypto.createHash("sha256").update(token).digest("hex")

/**
 * Finds which of `hashes` (raw SHA-256 digests) is the hash of `token`, in time that does not depend on where
 * or whether one matches: every hash is compared, each in constant time, so the time taken says nothing about
 * the configured hashes. The index of the match, or -1.
 */
export const matchToken = (token: Uint8Array, hashes: ReadonlyArray<Uint8Array>): number => {
  const digest = Crypto.createHash("sha256").update(token).digest()
  let found = -1
  for (let index = 0; index < hashes.length; index++) {
    const hash = hashes[index]
    if (hash !== undefined && Crypto.timingSafeEqual(digest, hash) && found === -1) found = index
  }
  return found
}
