import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Schema } from "effect"
import * as Net from "node:net"
import * as Zmq from "zeromq"
import { CommandClient } from "../../src/client/CommandClient.ts"
import { EventStore } from "../../src/events/EventStore.ts"
import { parseAddress, ZmqAddress } from "../../src/protocol/Address.ts"
import { fingerprint } from "../../src/security/keys.ts"
import { isLocalAddress } from "../../src/server/exposure.ts"
import { cli, spawn } from "../support/cli.ts"
import { curveFixture } from "../support/curve.ts"
import { ask, startServer } from "../support/zmq.ts"

const V6_ANY_PORT = "tcp://[::1]:*"
const TIMEOUT = Duration.seconds(5)

/** A free port on ::1 (what `up` needs, as it binds the port it is given), or undefined without IPv6 loopback. */
const freeIpv6Port = (): Promise<number | undefined> =>
  new Promise((resolve) => {
    const server = Net.createServer()
    server.once("error", () => resolve(undefined))
    server.listen(0, "::1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : undefined))
    })
  })

const ipv6Loopback = (await freeIpv6Port()) !== undefined

/** A REQ client with ZeroMQ's ipv6 option, which an IPv6 literal needs. */
const ipv6Req = (endpoint: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const socket = new Zmq.Request({ linger: 0, ipv6: true })
      socket.connect(endpoint)
      return socket
    }),
    (socket) => Effect.sync(() => socket.close())
  )

describe("IPv6 addresses", () => {
  it("are parsed with their brackets, and ::1 in any spelling is loopback", () => {
    expect(parseAddress("tcp://[::1]:5570")).toEqual({ transport: "tcp", host: "::1", port: 5570, ipv6: true })
    expect(parseAddress("tcp://127.0.0.1:*")).toEqual({ transport: "tcp", host: "127.0.0.1", port: "*", ipv6: false })
    expect(parseAddress("tcp://[::g]:5570")).toBeUndefined()
    expect(parseAddress("tcp://[::1]:70000")).toBeUndefined()
    const decode = Schema.decodeUnknownResult(ZmqAddress)
    expect(decode("tcp://[::1]:5570")._tag).toBe("Success")
    const bare = decode("tcp://::1:5570")
    expect(bare._tag === "Failure" ? bare.failure.message : "").toContain(
      "got 'tcp://::1:5570' (an IPv6 address goes in brackets: tcp://[::1]:5570)"
    )
    expect(["tcp://[::1]:1", "tcp://[0:0:0:0:0:0:0:1]:1", "tcp://[::ffff:127.0.0.1]:1", "tcp://127.0.0.5:1"].map(isLocalAddress))
      .toEqual([true, true, true, true])
    expect(["tcp://[::]:1", "tcp://[2001:db8::1]:1", "tcp://0.0.0.0:1", "tcp://*:1"].map(isLocalAddress))
      .toEqual([false, false, false, false])
  })
})

// Skipped only where ::1 cannot be bound at all (checked with node:net above): IPv6 disabled on this machine.
describe.skipIf(!ipv6Loopback)(`the command interface on IPv6 loopback${ipv6Loopback ? "" : " (skipped: this machine cannot bind ::1)"}`, () => {
  it.live("binds tcp://[::1] without CURVE, as loopback, and answers a raw client and the typed client", () =>
    Effect.gen(function*() {
      const { endpoint } = yield* startServer(yield* Effect.scope, { config: { commandAddress: V6_ANY_PORT } })
      expect(endpoint).toMatch(/^tcp:\/\/\[::1\]:\d+$/)
      expect(yield* ask(yield* ipv6Req(endpoint), { command: "ps" })).toMatchObject({ status: "success", data: { agents: expect.any(Array) } })
      const ps = yield* CommandClient.make({ address: endpoint, timeout: TIMEOUT }).call("ps", [])
      expect(ps.data.agents.map((agent) => agent.name)).toEqual(["db", "api", "worker", "migrate"])
    }))

  it.live("refuses the IPv6 wildcard without CURVE: it is reachable from the network", () =>
    Effect.gen(function*() {
      const refused = yield* Effect.exit(startServer(yield* Effect.scope, { config: { commandAddress: "tcp://[::]:*" } }))
      expect(refused).toEqual(Exit.fail(expect.objectContaining({
        _tag: "BindError",
        message: expect.stringContaining("cannot bind the command interface to tcp://[::]:*: it is reachable from the network and CURVE is off")
      })))
    }))

  it.live("with CURVE, admits a principal and records an unknown key's refusal with the IPv6 peer", () =>
    Effect.gen(function*() {
      const keys = yield* curveFixture(["ops", "stranger"])
      const { endpoint, context } = yield* startServer(yield* Effect.scope, {
        config: {
          commandAddress: V6_ANY_PORT,
          curve: { keyFile: keys.serverKeyFile, principals: [{ name: "ops", publicKey: keys.credentials("ops").publicKey, role: "all" }] }
        }
      })
      const ops = CommandClient.make({ address: endpoint, timeout: TIMEOUT, credentials: keys.credentials("ops") })
      expect((yield* ops.call("whoami", [])).data.principal).toBe("ops")
      const stranger = CommandClient.make({ address: endpoint, timeout: TIMEOUT, credentials: keys.credentials("stranger") })
      const strangerKey = fingerprint(keys.credentials("stranger").publicKey)
      expect(yield* Effect.flip(stranger.call("ps", []))).toMatchObject({
        _tag: "Unreachable",
        reason: { _tag: "HandshakeRefused", keyFingerprint: strangerKey },
        message: `the orchestrator refused this client's key (${strangerKey}): it is not one of its principals (${endpoint})`
      })
      const page = yield* Context.get(context, EventStore).query({ category: "command", event: "AUTH_REJECTED", limit: 10 })
      expect(page.events.map((event) => event.data)).toEqual([
        { key_fingerprint: strangerKey, peer_address: "::1", mechanism: "CURVE", address: endpoint, count: 1 }
      ])
    }))

  it.live("orchestrate up --address tcp://[::1]:PORT binds it, and the CLI's --address reaches it", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freeIpv6Port)
      const address = `tcp://[::1]:${port}`
      const up = yield* spawn(["up", "--address", address])
      const ready = yield* cli(["status", "--wait", "--timeout", "20", "--address", address], { timeout: "25 seconds" })
      expect(ready.code, yield* up.stderr).toBe(0)
      const ps = yield* cli(["ps", "--json", "--address", address])
      expect(ps.code).toBe(0)
      expect(JSON.parse(ps.stdout)).toMatchObject({ status: "success", data: { agents: expect.any(Array) } })
      expect(yield* cli(["shutdown", "--address", address])).toEqual({ code: 0, stdout: "Shutdown initiated\n", stderr: "" })
      expect((yield* up.exit()).code).toBe(0)
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)
})
