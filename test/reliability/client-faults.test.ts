import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Zmq from "zeromq"
import { packageRoot } from "../../src/packageRoot.ts"
import { startUp } from "../support/cli.ts"
import { ask, reqClient } from "../support/zmq.ts"

const CONFIG = Path.join(packageRoot(), "test", "fixtures", "steady.json")
const PS = JSON.stringify({ command: "ps" })

const openFiles = (pid: number) => Fs.readdirSync(`/proc/${pid}/fd`).length
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024

/** Each kind of client misbehaviour, once. */
const abuse = (endpoint: string) =>
  Effect.promise(async () => {
    // Clients that send a request and disconnect before the reply.
    for (let i = 0; i < 300; i++) {
      const dealer = new Zmq.Dealer({ linger: 0 })
      dealer.connect(endpoint)
      await dealer.send(["", PS])
      dealer.close()
    }
    // A client that sends many requests and never reads a reply.
    const greedy = new Zmq.Dealer({ linger: 0, sendHighWaterMark: 5000 })
    greedy.connect(endpoint)
    for (let i = 0; i < 2000; i++) await greedy.send(["", PS])
    await new Promise((resolve) => setTimeout(resolve, 500))
    greedy.close()
    // A thousand clients that connect and vanish, half of them after sending. ZeroMQ frees a closed socket's slot
    // (1,023 per context) asynchronously, so the burst pauses now and then to stay under the cap on this side.
    for (let i = 0; i < 1000; i++) {
      const socket = new Zmq.Request({ linger: 0 })
      socket.connect(endpoint)
      if (i % 2 === 0) await socket.send(PS)
      socket.close()
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

/** Polls until `measure` is at most `limit`, for up to 5 seconds, and returns its last value. */
const settle = (measure: () => number, limit: number) =>
  Effect.sync(measure).pipe(
    Effect.tap(() => Effect.sleep("100 millis")),
    Effect.repeat({ until: (value) => value <= limit, times: 50 })
  )

describe("misbehaving clients", () => {
  it.live("leave the server serving, with its file descriptors back to their baseline and no memory growing per client", () =>
    Effect.gen(function*() {
      const { address, up } = yield* startUp([CONFIG])
      const client = yield* reqClient(address)
      for (let i = 0; i < 200; i++) yield* ask(client, { command: "ps" })
      const filesBefore = openFiles(up.pid)

      yield* abuse(address)
      expect(yield* ask(client, { command: "ps" })).toMatchObject({ status: "success" })
      expect(yield* settle(() => openFiles(up.pid), filesBefore)).toBeLessThanOrEqual(filesBefore)
      const rssAfterFirst = rssMiB(up.pid)

      yield* abuse(address)
      yield* abuse(address)
      expect(yield* ask(client, { command: "ps" })).toMatchObject({ status: "success" })
      expect(yield* settle(() => openFiles(up.pid), filesBefore)).toBeLessThanOrEqual(filesBefore)
      // Twice the abuse again (2,600 more clients) may not grow memory by more than a few MiB.
      expect(rssMiB(up.pid) - rssAfterFirst).toBeLessThan(24)
    }).pipe(Effect.provide(NodeServices.layer)), 120_000)
})
