/**
 * CURVE key pairs and what is derived from them.
 *
 * Keys are the Curve25519 keys ZeroMQ's CURVE uses, written in Z85 (ZeroMQ RFC 32) as ZeroMQ expects them. A key
 * file is JSON, `{"publicKey": "...", "secretKey": "..."}`, readable by its owner only; its `.pub` companion holds
 * the public key alone, to hand out.
 *
 * Requests are signed with a key both sides can compute and no one else can: X25519 of one side's secret key and
 * the other side's public key (the same shared secret either way), through HKDF-SHA256. So the signature proves
 * that the sender holds the secret key of the public key it names, and binds the request to this server, without
 * a second secret to distribute.
 */
import { Effect, Schema } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import { isCurveKey, publicKeyOf, z85Encode } from "./curve.ts"
import { FileAccessFailed } from "./files.ts"

export { fingerprint, isCurveKey, publicKeyOf, signingKey, z85Decode, z85Encode } from "./curve.ts"

/** A CURVE key in Z85: 40 characters for 32 bytes. */
export const CurveKey = Schema.String.check(
  Schema.makeFilter((key: string) => isCurveKey(key) || "expected a CURVE key: 40 Z85 characters")
)

export const KeyPair = Schema.Struct({ publicKey: CurveKey, secretKey: CurveKey })
export type KeyPair = typeof KeyPair.Type

export const PublicKeyFile = Schema.Struct({ publicKey: CurveKey })

/** A fresh key pair, as `orchestrate keygen` writes it. */
export const generateKeyPair = (): KeyPair => {
  const { privateKey } = Crypto.generateKeyPairSync("x25519")
  const { d } = privateKey.export({ format: "jwk" })
  const secretKey = z85Encode(Buffer.from(d ?? "", "base64url"))
  return { publicKey: publicKeyOf(secretKey), secretKey }
}

/** Group or others may read a file that holds a secret key. */
export class ReadableByOthers extends Schema.TaggedError<ReadableByOthers>()("ReadableByOthers", { mode: Schema.Int }) {
  override get message(): string {
    return `holds a secret key but is readable by others (mode ${this.mode.toString(8)}); chmod 600 it`
  }
}

export class NotAKeyPair extends Schema.TaggedError<NotAKeyPair>()("NotAKeyPair", {
  cause: Schema.instanceOf(Schema.SchemaError)
}) {
  override get message(): string {
    // The first line names the first problem; the rest would be the whole schema.
    return `not a key pair file: ${this.cause.message.split("\n")[0]}`
  }
}

/** The file's public key is not the one its secret key gives. */
export class KeysDoNotMatch extends Schema.TaggedError<KeysDoNotMatch>()("KeysDoNotMatch", {}) {
  override get message(): string {
    return "its public key does not belong to its secret key"
  }
}

export class NoPublicKey extends Schema.TaggedError<NoPublicKey>()("NoPublicKey", { cause: Schema.instanceOf(Schema.SchemaError) }) {
  override get message(): string {
    return "holds no public key"
  }
}

/** Writing would replace a key file, and the caller did not ask for that. */
export class AlreadyExists extends Schema.TaggedError<AlreadyExists>()("AlreadyExists", {}) {
  override get message(): string {
    return "already exists (use --force to replace it)"
  }
}

export const KeyFileErrorReason = Schema.Union([FileAccessFailed, ReadableByOthers, NotAKeyPair, KeysDoNotMatch, NoPublicKey, AlreadyExists])
export type KeyFileErrorReason = typeof KeyFileErrorReason.Type

export class KeyFileError extends Schema.TaggedError<KeyFileError>()("KeyFileError", {
  path: Schema.String,
  reason: KeyFileErrorReason
}) {
  override get message(): string {
    return `key file ${this.path}: ${this.reason.message}`
  }
}

const decodeKeyPair = Schema.decodeUnknownResult(Schema.fromJsonString(KeyPair))
const decodePublic = Schema.decodeUnknownResult(Schema.fromJsonString(PublicKeyFile))

const read = (path: string) =>
  Effect.try({
    try: () => ({ text: Fs.readFileSync(path, "utf8"), mode: Fs.statSync(path).mode & 0o777 }),
    catch: (cause) => new KeyFileError({ path, reason: new FileAccessFailed({ cause }) })
  })

/** Reads a key pair file, refusing one that others can read. */
export const readKeyPair = Effect.fnUntraced(function*(path: string) {
  const { text, mode } = yield* read(path)
  if ((mode & 0o077) !== 0) {
    return yield* new KeyFileError({ path, reason: new ReadableByOthers({ mode }) })
  }
  const decoded = decodeKeyPair(text)
  if (decoded._tag === "Failure") return yield* new KeyFileError({ path, reason: new NotAKeyPair({ cause: decoded.failure }) })
  if (publicKeyOf(decoded.success.secretKey) !== decoded.success.publicKey) {
    return yield* new KeyFileError({ path, reason: new KeysDoNotMatch({}) })
  }
  return decoded.success
})

/** Reads a public key from a `.pub` file, a key pair file, or the key itself given as text. */
export const readPublicKey = Effect.fnUntraced(function*(pathOrKey: string) {
  if (Schema.is(CurveKey)(pathOrKey) && !Fs.existsSync(pathOrKey)) return pathOrKey
  const decoded = decodePublic((yield* read(pathOrKey)).text)
  if (decoded._tag === "Failure") return yield* new KeyFileError({ path: pathOrKey, reason: new NoPublicKey({ cause: decoded.failure }) })
  return decoded.success.publicKey
})

/**
 * Writes a new key pair to `path` (mode 0600) and its public key to `path.pub`; never overwrites unless asked.
 * Each file is written whole under a temporary name and then renamed over, so the secret is never in a file that
 * others may read, not even when it replaces one with looser permissions.
 */
export const writeKeyPair = Effect.fnUntraced(function*(path: string, pair: KeyPair, options: { readonly force: boolean }) {
  const files = [
    { path, text: JSON.stringify(pair, null, 2), mode: 0o600 },
    { path: `${path}.pub`, text: JSON.stringify({ publicKey: pair.publicKey }, null, 2), mode: 0o644 }
  ]
  for (const file of files) {
    if (!options.force && Fs.existsSync(file.path)) {
      return yield* new KeyFileError({ path: file.path, reason: new AlreadyExists({}) })
    }
  }
  for (const file of files) {
    const temporary = `${file.path}.${process.pid}.tmp`
    yield* Effect.try({
      try: () => {
        Fs.writeFileSync(temporary, `${file.text}\n`, { mode: file.mode, flag: "wx" })
        Fs.renameSync(temporary, file.path)
      },
      catch: (cause) => {
        Fs.rmSync(temporary, { force: true })
        return new KeyFileError({ path: file.path, reason: new FileAccessFailed({ cause }) })
      }
    })
  }
})
