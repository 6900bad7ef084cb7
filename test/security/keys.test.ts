import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Zmq from "zeromq"
import {
  fingerprint,
  generateKeyPair,
  publicKeyOf,
  readKeyPair,
  readPublicKey,
  signingKey,
  writeKeyPair,
  z85Decode,
  z85Encode
} from "../../src/security/keys.ts"
import { tempDir } from "../support/files.ts"

describe("CURVE keys", () => {
  it("encodes Z85 as ZeroMQ's RFC 32 specifies", () => {
    const bytes = new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])
    expect(z85Encode(bytes)).toBe("HelloWorld")
    expect(z85Decode("HelloWorld")).toEqual(bytes)
    expect(z85Decode("Hello")).toHaveLength(4)
    expect(z85Decode("Hell")).toBeUndefined()
    expect(z85Decode("Hello\"orld")).toBeUndefined()
  })

  it("derives the same public key as libzmq, and generates pairs libzmq accepts", () => {
    for (let i = 0; i < 20; i++) {
      const zmq = Zmq.curveKeyPair()
      expect(publicKeyOf(zmq.secretKey)).toBe(zmq.publicKey)
      const ours = generateKeyPair()
      expect(publicKeyOf(ours.secretKey)).toBe(ours.publicKey)
      expect(ours.publicKey).toHaveLength(40)
    }
  })

  it("derives one signing key from either side of a pair, and different keys for different pairs", () => {
    const client = generateKeyPair()
    const server = generateKeyPair()
    const other = generateKeyPair()
    const key = signingKey(client.secretKey, server.publicKey)
    expect(signingKey(server.secretKey, client.publicKey)).toEqual(key)
    expect(key).toHaveLength(32)
    expect(signingKey(other.secretKey, server.publicKey)).not.toEqual(key)
  })

  it("names a key by a short, stable fingerprint", () => {
    const { publicKey } = generateKeyPair()
    expect(fingerprint(publicKey)).toMatch(/^[0-9a-f]{16}$/)
    expect(fingerprint(publicKey)).toBe(fingerprint(z85Decode(publicKey) ?? new Uint8Array(0)))
    expect(fingerprint(generateKeyPair().publicKey)).not.toBe(fingerprint(publicKey))
  })

  it.effect("writes a pair owner-only and its public key beside it, and never overwrites unless forced", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const file = Path.join(dir, "server.key")
      const pair = generateKeyPair()
      yield* writeKeyPair(file, pair, { force: false })
      expect(Fs.statSync(file).mode & 0o777).toBe(0o600)
      expect(yield* readKeyPair(file)).toEqual(pair)
      expect(yield* readPublicKey(`${file}.pub`)).toBe(pair.publicKey)
      expect(yield* readPublicKey(file)).toBe(pair.publicKey)
      expect(yield* readPublicKey(pair.publicKey)).toBe(pair.publicKey)

      expect((yield* Effect.flip(writeKeyPair(file, generateKeyPair(), { force: false }))).message).toContain("already exists (use --force to replace it)")
      expect(yield* readKeyPair(file)).toEqual(pair)

      // Replacing a file others could read leaves the new secret owner-only all the same.
      Fs.chmodSync(file, 0o644)
      const next = generateKeyPair()
      yield* writeKeyPair(file, next, { force: true })
      expect(Fs.statSync(file).mode & 0o777).toBe(0o600)
      expect(yield* readKeyPair(file)).toEqual(next)
      expect(Fs.readdirSync(dir).sort()).toEqual(["server.key", "server.key.pub"])
    }))

  it.effect("refuses key files others can read, that do not hold a pair, or whose halves do not belong together", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const file = Path.join(dir, "k")
      yield* writeKeyPair(file, generateKeyPair(), { force: false })
      Fs.chmodSync(file, 0o640)
      expect((yield* Effect.flip(readKeyPair(file))).message).toContain("readable by others (mode 640); chmod 600 it")

      const mismatched = { publicKey: generateKeyPair().publicKey, secretKey: generateKeyPair().secretKey }
      Fs.writeFileSync(file, JSON.stringify(mismatched), { mode: 0o600 })
      Fs.chmodSync(file, 0o600)
      expect((yield* Effect.flip(readKeyPair(file))).message).toContain("its public key does not belong to its secret key")

      Fs.writeFileSync(file, "{\"publicKey\": \"short\"}")
      expect((yield* Effect.flip(readKeyPair(file))).message).toContain("not a key pair file")
      expect((yield* Effect.flip(readKeyPair(Path.join(dir, "missing")))).message).toContain("no such file")
      expect((yield* Effect.flip(readPublicKey(Path.join(dir, "missing")))).message).toContain("no such file")
    }))
})
