/**
 * CURVE fixtures: a server key file and client key pairs in a temporary directory, and signed requests.
 */
import { Effect } from "effect"
import * as Path from "node:path"
import { generateKeyPair, type KeyPair, writeKeyPair } from "../../src/security/keys.ts"
import { type ClientCredentials, makeSigner } from "../../src/security/RequestSignature.ts"
import { tempDir } from "./files.ts"

export interface CurveFixture {
  readonly dir: string
  readonly serverKeyFile: string
  readonly server: KeyPair
  /** A key pair for each name asked for, written to `<dir>/<name>.key`. */
  readonly clients: Readonly<Record<string, KeyPair>>
  readonly credentials: (name: string) => ClientCredentials
  readonly keyFile: (name: string) => string
}

/** A server key pair and client key pairs, written to a directory that is removed with the scope. */
export const curveFixture = (names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("orchestrate-curve-")
    const server = generateKeyPair()
    const serverKeyFile = Path.join(dir, "server.key")
    yield* writeKeyPair(serverKeyFile, server, { force: false })
    const clients: Record<string, KeyPair> = {}
    for (const name of names) {
      const pair = generateKeyPair()
      clients[name] = pair
      yield* writeKeyPair(Path.join(dir, `${name}.key`), pair, { force: false })
    }
    const pairOf = (name: string): KeyPair => {
      const pair = clients[name]
      if (pair === undefined) throw new Error(`no client key pair '${name}' in the fixture`)
      return pair
    }
    return {
      dir,
      serverKeyFile,
      server,
      clients,
      credentials: (name) => ({ ...pairOf(name), serverPublicKey: server.publicKey }),
      keyFile: (name) => Path.join(dir, `${name}.key`)
    } satisfies CurveFixture
  }).pipe(Effect.orDie)

/** The frames of a signed request: its JSON, then its authentication frame. */
export const signedFrames = (credentials: ClientCredentials, body: unknown, now = Date.now()): [string, string] => {
  const text = typeof body === "string" ? body : JSON.stringify(body)
  return [text, makeSigner(credentials)(text, now)]
}
