import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Zmq from "zeromq"
import { EventStore } from "../../src/events/EventStore.ts"
import { makeChainVerifier } from "../../src/security/auditChain.ts"
import { curveFixture } from "../support/curve.ts"
import { startServer } from "../support/zmq.ts"

const HANDSHAKES = 5000
/** Handshakes under way at once: enough for about 750 a second here, far below ZeroMQ's 1,023 sockets. */
const CONCURRENCY = 100

/** One CURVE handshake with a fresh key that is no principal's; done once the server's refusal has arrived. */
const refusedHandshake = (endpoint: string, serverPublicKey: string) =>
  Effect.scoped(Effect.gen(function*() {
    const key = Zmq.curveKeyPair()
    const socket = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Zmq.Dealer({ linger: 0, curveServerKey: serverPublicKey, curvePublicKey: key.publicKey, curveSecretKey: key.secretKey })
      ),
      (socket) => Effect.sync(() => socket.close())
    )
    yield* Effect.callback<void>((resume) => {
      socket.events.on("handshake:error:auth", () => resume(Effect.void))
      socket.connect(endpoint)
    })
  })).pipe(Effect.timeout("5 seconds"))

const countOf = (data: Readonly<Record<string, unknown>>) => Number(data["count"])

describe("a flood of refused CURVE handshakes", () => {
  it.live(`${HANDSHAKES} handshakes with unknown keys from one peer leave a handful of AUTH_REJECTED records that count every one`, () =>
    Effect.gen(function*() {
      const keys = yield* curveFixture(["ops"])
      const auditFile = Path.join(keys.dir, "audit.ndjson")
      const scope = yield* Scope.make()
      const { context, endpoint } = yield* startServer(scope, {
        config: {
          auditFile,
          curve: { keyFile: keys.serverKeyFile, principals: [{ name: "ops", publicKey: keys.credentials("ops").publicKey, role: "all" }] }
        }
      })
      const store = Context.get(context, EventStore)
      const rejected = Effect.map(store.query({ category: "command", event: "AUTH_REJECTED", limit: 1000 }), (page) => page.events.map((event) => event.data))

      const started = Date.now()
      yield* Effect.forEach(
        Array.from({ length: HANDSHAKES }, (_, n) => n),
        () => refusedHandshake(endpoint, keys.server.publicKey),
        { concurrency: CONCURRENCY, discard: true }
      )
      const seconds = (Date.now() - started) / 1000
      // Every refusal has been decided (each client saw it); the first few keys and the peer's other keys are on record.
      const whileRunning = yield* rejected
      expect(whileRunning.length).toBeLessThanOrEqual(5)

      yield* Scope.close(scope, Exit.void)
      const inMemory = yield* rejected
      const peer = { peer_address: "127.0.0.1", mechanism: "CURVE", address: endpoint }
      expect(inMemory.slice(0, 4)).toEqual([
        { ...peer, key_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), count: 1 },
        { ...peer, key_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), count: 1 },
        { ...peer, key_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), count: 1 },
        { ...peer, key_fingerprint: null, other_keys: true, count: 1 }
      ])
      // The rest: the peer's other keys, one count per 10 s window begun, the last flushed when the interface stopped.
      const counts = inMemory.slice(4)
      expect(counts.length).toBeGreaterThanOrEqual(1)
      expect(counts.length).toBeLessThanOrEqual(Math.ceil(seconds / 10))
      for (const data of counts) expect(data).toMatchObject({ ...peer, key_fingerprint: null, other_keys: true })
      expect(inMemory.reduce((sum, data) => sum + countOf(data), 0)).toBe(HANDSHAKES)
      expect((yield* store.info).recorded).toBe(inMemory.length)

      const text = Fs.readFileSync(auditFile, "utf8")
      const lines = text.split("\n").filter((line) => line !== "")
      expect(lines.map((line): unknown => JSON.parse(line)).map((record) =>
        typeof record === "object" && record !== null && "data" in record ? record.data : undefined
      )).toEqual(inMemory)
      const verifier = makeChainVerifier()
      for (const line of lines) verifier.push(line)
      expect(verifier.verdict()).toMatchObject({ intact: true, records: inMemory.length })

      console.log(
        `handshake flood: ${HANDSHAKES} refused handshakes from 127.0.0.1 in ${seconds.toFixed(1)} s left ` +
          `${inMemory.length} AUTH_REJECTED records in memory and ${lines.length} in the audit file (${text.length} bytes)`
      )
    }), 60_000)
})
