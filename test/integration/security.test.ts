import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Logger, Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Zmq from "zeromq"
import { CommandClient } from "../../src/client/CommandClient.ts"
import { EventStore } from "../../src/events/EventStore.ts"
import { fingerprint } from "../../src/security/keys.ts"
import type { ClientCredentials } from "../../src/security/RequestSignature.ts"
import type { CommandInterfaceOptions } from "../../src/server/CommandInterfaceConfig.ts"
import { type CurveFixture, curveFixture, signedFrames } from "../support/curve.ts"
import { tempDir } from "../support/files.ts"
import { eventually } from "../support/orchestrator.ts"
import { ask, reqClient, startServer } from "../support/zmq.ts"

const TIMEOUT = Duration.seconds(5)

/** A REQ socket that speaks CURVE with `credentials`, for sending hand-made frames. */
const curveReq = (endpoint: string, credentials: ClientCredentials) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const socket = new Zmq.Request({
        linger: 0,
        curveServerKey: credentials.serverPublicKey,
        curvePublicKey: credentials.publicKey,
        curveSecretKey: credentials.secretKey
      })
      socket.connect(endpoint)
      return socket
    }),
    (socket) => Effect.sync(() => socket.close())
  )

/**
 * Whether nothing handles ZAP in this process now: a Router binds the ZAP endpoint, then closes and waits for its
 * own teardown, so that the endpoint is free again for the server that comes next.
 */
const zapEndpointFree = Effect.promise(async () => {
  const probe = new Zmq.Router({ linger: 0 })
  const ended = new Promise<void>((resolve) => probe.events.on("end", () => resolve()))
  const bound = await probe.bind("inproc://zeromq.zap.01").then(() => true, () => false)
  probe.close()
  await ended
  return bound
})

/** A CURVE server whose principals are `ops` (every command) and `viewer` (monitoring); `stranger` is not one. */
const curveServer = (config: CommandInterfaceOptions = {}) =>
  Effect.gen(function*() {
    const keys = yield* curveFixture(["ops", "viewer", "stranger"])
    const { context, endpoint } = yield* startServer(yield* Effect.scope, {
      config: {
        curve: {
          keyFile: keys.serverKeyFile,
          principals: [
            { name: "ops", publicKey: keys.credentials("ops").publicKey, role: "all" },
            { name: "viewer", publicKey: keys.credentials("viewer").publicKey, role: "monitoring" }
          ]
        },
        ...config
      }
    })
    const client = (name: string) => CommandClient.make({ address: endpoint, timeout: TIMEOUT, credentials: keys.credentials(name) })
    const events = Effect.map(
      Context.get(context, EventStore).query({ category: "command", limit: 100 }),
      (page) => page.events
    )
    return { keys, endpoint, client, events } as const
  })

const authFailed = (detail: string) => ({
  status: "error",
  code: 403,
  reason: "AuthenticationFailed",
  error: `Authentication failed: ${detail}`
})

describe("security over real sockets", () => {
  it.live("a principal's signed requests run within its role, over an encrypted connection", () =>
    Effect.gen(function*() {
      const { client, keys, events } = yield* curveServer()
      const whoami = yield* client("ops").call("whoami", [])
      expect(whoami.data).toEqual({ principal: "ops", keyFingerprint: fingerprint(keys.credentials("ops").publicKey), allowed: expect.arrayContaining(["shutdown"]), agents: null })
      expect((yield* client("viewer").call("ps", [])).data.agents).toHaveLength(4)
      const refused = yield* Effect.flip(client("viewer").call("stop", ["api"], { reason: "try" }))
      expect(refused).toMatchObject({ _tag: "CommandRefused", code: 403, reason: "NotAllowed", error: "Command 'stop' not allowed for 'viewer': not among the commands its role allows (see the 'whoami' command)" })
      const audited = (yield* events).map((event) => [event.eventName, event.data["command"], event.data["principal"], event.data["reason"]])
      expect(audited).toEqual([
        ["COMMAND_EXECUTED", "whoami", "ops", undefined],
        ["COMMAND_EXECUTED", "ps", "viewer", undefined],
        ["COMMAND_REJECTED", "stop", "viewer", "try"]
      ])
    }))

  it.live("a plain client, or one with the wrong server key, gets no answer from a CURVE server, and is told why", () =>
    Effect.gen(function*() {
      const { endpoint, events, keys } = yield* curveServer()
      const plain = CommandClient.make({ address: endpoint, timeout: TIMEOUT })
      const failure = yield* Effect.flip(plain.call("ps", []))
      expect(failure).toMatchObject({
        _tag: "Unreachable",
        reason: { _tag: "MechanismMismatch", clientCurve: false },
        message: expect.stringMatching(/^the orchestrator requires CURVE: give --server-key and --client-key /)
      })
      const wrongServerKey = CommandClient.make({
        address: endpoint,
        timeout: TIMEOUT,
        credentials: { ...keys.credentials("ops"), serverPublicKey: keys.credentials("stranger").publicKey }
      })
      // Told as such when the server's greeting explains the hang-up, else as a handshake failure naming the key.
      expect(yield* Effect.flip(wrongServerKey.call("ps", []))).toMatchObject({
        _tag: "Unreachable",
        reason: { _tag: expect.stringMatching(/^(WrongServerKey|HandshakeFailed)$/) },
        message: expect.stringContaining("is --server-key the orchestrator's public key")
      })
      expect(yield* events).toEqual([])
    }))

  it.live("a key that is no principal's is refused at the handshake and recorded as AUTH_REJECTED", () =>
    Effect.gen(function*() {
      const { client, keys, events, endpoint } = yield* curveServer()
      const failure = yield* Effect.flip(client("stranger").call("ps", []))
      const stranger = fingerprint(keys.credentials("stranger").publicKey)
      expect(failure).toMatchObject({
        _tag: "Unreachable",
        reason: { _tag: "HandshakeRefused", keyFingerprint: stranger },
        message: `the orchestrator refused this client's key (${stranger}): it is not one of its principals (${endpoint})`
      })
      const [rejected, ...rest] = yield* events
      expect(rest).toEqual([])
      expect(rejected).toMatchObject({
        eventName: "AUTH_REJECTED",
        severity: "warning",
        data: { key_fingerprint: stranger, peer_address: "127.0.0.1", mechanism: "CURVE", address: endpoint }
      })
    }))

  it.live("refuses a replayed request, a tampered signature and a stale timestamp with AuthenticationFailed", () =>
    Effect.gen(function*() {
      const { endpoint, keys, events } = yield* curveServer()
      const ops = keys.credentials("ops")
      const socket = yield* curveReq(endpoint, ops)
      const send = (frames: ReadonlyArray<string>) =>
        Effect.promise(async () => {
          await socket.send([...frames])
          const [reply] = await socket.receive()
          return JSON.parse(String(reply)) as unknown
        })
      const frames = signedFrames(ops, { command: "restart", args: ["api"] })
      expect(yield* send(frames)).toMatchObject({ status: "success", data: { message: "Agent 'api' restarted" } })
      expect(yield* send(frames)).toEqual(authFailed("replayed request: its nonce was already used"))

      const [body, auth] = signedFrames(ops, { command: "ps" })
      const tampered = JSON.stringify({ ...JSON.parse(auth), sig: "0".repeat(64) })
      expect(yield* send([body, tampered])).toEqual(authFailed("the signature does not match the request (altered, or signed for another server)"))
      expect(yield* send([JSON.stringify({ command: "shutdown" }), auth])).toEqual(
        authFailed("the signature does not match the request (altered, or signed for another server)")
      )
      expect(yield* send(signedFrames(ops, { command: "ps" }, Date.now() - 5 * 60_000))).toMatchObject({
        code: 403,
        reason: "AuthenticationFailed",
        error: expect.stringContaining("outside the 1m window")
      })
      expect(yield* send([JSON.stringify({ command: "ps" })])).toMatchObject({ code: 403, reason: "AuthenticationFailed" })
      // Still serving, and nothing ran twice.
      expect(yield* send(signedFrames(ops, { command: "status", args: ["api"] }))).toMatchObject({ data: { restarts: 1 } })
      const audited = (yield* events).map((event) => [event.data["code"], event.data["error_reason"], event.data["key_fingerprint"]])
      const key = fingerprint(ops.publicKey)
      expect(audited).toEqual([
        [200, undefined, key],
        [403, "AuthenticationFailed", key],
        [403, "AuthenticationFailed", key],
        [403, "AuthenticationFailed", key],
        [403, "AuthenticationFailed", key],
        [403, "AuthenticationFailed", undefined],
        [200, undefined, key]
      ])
    }))

  it.live("answers an oversized request with 400 Request too large, before authenticating it", () =>
    Effect.gen(function*() {
      const { endpoint, keys } = yield* curveServer({ maxRequestBytes: 1024 })
      const ops = keys.credentials("ops")
      const socket = yield* curveReq(endpoint, ops)
      const reply = yield* Effect.promise(async () => {
        await socket.send(signedFrames(ops, { command: "ps", args: ["x".repeat(2000)] }))
        const [frame] = await socket.receive()
        return JSON.parse(String(frame)) as unknown
      })
      expect(reply).toMatchObject({ status: "error", code: 400, reason: "RequestTooLarge", error: "Request too large: 2028 bytes exceeds the limit of 1024 bytes" })
    }))

  it.live("a resent mutating request with the same id runs once, and gets the first reply", () =>
    Effect.gen(function*() {
      const { endpoint } = yield* startServer(yield* Effect.scope)
      const first = yield* reqClient(endpoint)
      const second = yield* reqClient(endpoint)
      const body = { command: "restart", args: ["api"], id: "retry-1" }
      const replies = [yield* ask(first, body), yield* ask(second, body)]
      expect(replies[1]).toEqual(replies[0])
      expect(yield* ask(first, { command: "status", args: ["api"] })).toMatchObject({ data: { restarts: 1 } })
    }))

  it.live("refuses to bind a non-loopback address without CURVE, and binds it with CURVE or when told to accept the risk", () =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const refused = yield* Effect.exit(startServer(scope, { config: { commandAddress: "tcp://0.0.0.0:*" } }))
      expect(refused).toEqual(Exit.fail(expect.objectContaining({
        _tag: "BindError",
        message: expect.stringMatching(/^cannot bind the command interface to tcp:\/\/0\.0\.0\.0:\*: it is reachable from the network and CURVE is off.*Enable CURVE: create a server key with 'orchestrate keygen server\.key'/)
      })))

      const warnings: Array<string> = []
      const capture = Logger.make<unknown, void>(({ logLevel, message }) => {
        if (logLevel === "Warn") warnings.push(String(Array.isArray(message) ? message.join(" ") : message))
      })
      const insecure = yield* startServer(scope, { config: { commandAddress: "tcp://0.0.0.0:*", allowInsecureNetwork: true } }).pipe(
        Effect.provide(Logger.layer([capture]))
      )
      expect(warnings).toEqual([expect.stringContaining("reachable from the network without CURVE")])
      const plain = yield* reqClient(insecure.endpoint.replace("0.0.0.0", "127.0.0.1"))
      expect(yield* ask(plain, { command: "ps" })).toHaveProperty("status", "success")

      const { client } = yield* curveServer({ commandAddress: "tcp://0.0.0.0:*" })
      expect((yield* client("ops").call("ps", [])).data.agents).toHaveLength(4)
    }))

  it.live("creates an ipc socket file 0600, or 0660 for a configured group", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const scope = yield* Effect.scope
      const own = Path.join(dir, "own.sock")
      yield* startServer(scope, { config: { commandAddress: `ipc://${own}` } })
      expect(Fs.statSync(own).mode & 0o777).toBe(0o600)

      const shared = Path.join(dir, "shared.sock")
      const gid = process.getgid?.() ?? 0
      const { endpoint } = yield* startServer(scope, { config: { commandAddress: `ipc://${shared}`, ipcGroup: gid } })
      expect(Fs.statSync(shared).mode & 0o777).toBe(0o660)
      expect(Fs.statSync(shared).gid).toBe(gid)
      expect(yield* ask(yield* reqClient(endpoint), { command: "ps" })).toHaveProperty("status", "success")

      const unknown = yield* Effect.exit(startServer(scope, { config: { commandAddress: `ipc://${Path.join(dir, "x.sock")}`, ipcGroup: "no-such-group-here" } }))
      expect(unknown).toEqual(Exit.fail(expect.objectContaining({ message: expect.stringContaining("ipcGroup: no such group 'no-such-group-here'") })))
    }))

  it.live("runs two CURVE servers side by side and one after another in one process", () =>
    Effect.gen(function*() {
      const first = yield* curveServer()
      const second = yield* curveServer()
      expect((yield* first.client("ops").call("whoami", [])).data.principal).toBe("ops")
      expect((yield* second.client("viewer").call("whoami", [])).data.principal).toBe("viewer")
      // Each server admits only its own principals.
      const crossed = CommandClient.make({
        address: second.endpoint,
        timeout: TIMEOUT,
        credentials: { ...first.keys.credentials("ops"), serverPublicKey: second.keys.server.publicKey }
      })
      expect(yield* Effect.flip(crossed.call("ps", []))).toMatchObject({ _tag: "Unreachable" })
      for (let round = 0; round < 3; round++) {
        const fixture: CurveFixture = yield* curveFixture(["ops"])
        yield* Effect.scoped(Effect.gen(function*() {
          const { endpoint } = yield* startServer(yield* Effect.scope, {
            config: { curve: { keyFile: fixture.serverKeyFile, principals: [{ name: "ops", publicKey: fixture.clients["ops"]?.publicKey ?? "", role: "basic" }] } }
          })
          const client = CommandClient.make({ address: endpoint, timeout: TIMEOUT, credentials: fixture.credentials("ops") })
          expect((yield* client.call("whoami", [])).data.allowed).toEqual(["ps", "status", "whoami"])
        }))
      }
    }))

  it.live("the ZAP handler starts with the first CURVE server and stops with the last", () =>
    Effect.gen(function*() {
      const keys = yield* curveFixture(["ops"])
      const config = {
        curve: { keyFile: keys.serverKeyFile, principals: [{ name: "ops", publicKey: keys.credentials("ops").publicKey, role: "basic" as const }] }
      }
      const whoami = (endpoint: string) =>
        Effect.map(CommandClient.make({ address: endpoint, timeout: TIMEOUT, credentials: keys.credentials("ops") }).call("whoami", []), (reply) => reply.data.principal)
      // While something else in the process handles ZAP, a CURVE server cannot start, and says why.
      const foreign = new Zmq.Router({ linger: 0 })
      const foreignEnded = new Promise<void>((resolve) => foreign.events.on("end", () => resolve()))
      yield* Effect.promise(() => foreign.bind("inproc://zeromq.zap.01"))
      const refused = yield* Effect.flip(startServer(yield* Effect.scope, { config }))
      foreign.close()
      expect(refused).toMatchObject({
        _tag: "BindError",
        reason: { _tag: "ZapUnavailable" },
        message: expect.stringMatching(
          /^cannot bind the command interface to tcp:\/\/127\.0\.0\.1:\*: cannot start the CURVE authentication \(ZAP\) handler: .+ \(does something else in this process handle ZAP\?\)$/
        )
      })
      yield* Effect.promise(() => foreignEnded)

      expect(yield* zapEndpointFree).toBe(true)
      const first = yield* Scope.make()
      const second = yield* Scope.make()
      yield* startServer(first, { config })
      const { endpoint } = yield* startServer(second, { config })
      expect(yield* zapEndpointFree).toBe(false)
      yield* Scope.close(first, Exit.void)
      // Still there for the second server, which still admits its principal.
      expect(yield* zapEndpointFree).toBe(false)
      expect(yield* whoami(endpoint)).toBe("ops")
      yield* Scope.close(second, Exit.void)
      // Closed with the last: libzmq's reaper thread lets the endpoint go soon after, later on a busy machine.
      expect(yield* eventually(zapEndpointFree, (free) => free)).toBe(true)
      // And started again for the next one.
      const again = yield* startServer(yield* Effect.scope, { config })
      expect(yield* whoami(again.endpoint)).toBe("ops")
    }))

  it.live("fails startup with a precise error for an unreadable or loose server key file", () =>
    Effect.gen(function*() {
      const keys = yield* curveFixture(["ops"])
      const curve = (keyFile: string) => ({
        curve: { keyFile, principals: [{ name: "ops", publicKey: keys.credentials("ops").publicKey, role: "all" as const }] }
      })
      const scope = yield* Effect.scope
      Fs.chmodSync(keys.serverKeyFile, 0o644)
      expect(yield* Effect.exit(startServer(scope, { config: curve(keys.serverKeyFile) }))).toEqual(Exit.fail(expect.objectContaining({
        _tag: "KeyFileError",
        message: `key file ${keys.serverKeyFile}: holds a secret key but is readable by others (mode 644); chmod 600 it`
      })))
      expect(yield* Effect.exit(startServer(scope, { config: curve(Path.join(keys.dir, "nope.key")) }))).toEqual(Exit.fail(expect.objectContaining({
        _tag: "KeyFileError",
        message: `key file ${Path.join(keys.dir, "nope.key")}: no such file`
      })))
    }))
})

