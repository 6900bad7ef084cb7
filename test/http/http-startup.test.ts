/**
 * What the HTTP interface refuses to start with, and says why: a network address without TLS and tokens, an address
 * in use, TLS files it cannot use; HTTPS when they are right; and the config file's `http` section, checked with
 * messages by path like the rest of the file.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Https from "node:https"
import * as Net from "node:net"
import * as Path from "node:path"
import { parseConfigText } from "../../src/app/ConfigFile.ts"
import { packageRoot } from "../../src/packageRoot.ts"
import { tokenSha256 } from "../../src/security/tokens.ts"
import { tempDir } from "../support/files.ts"
import { fetchText, startStack } from "../support/http.ts"
import { freePort } from "../support/net.ts"

const FIXTURES = Path.join(packageRoot(), "test", "fixtures", "tls")

/** The test certificate (CN 127.0.0.1, valid for a century) and its key, copied where their modes can be set. */
const tlsFiles = (keyMode = 0o600) =>
  Effect.gen(function*() {
    const dir = yield* tempDir()
    const certFile = Path.join(dir, "cert.pem")
    const keyFile = Path.join(dir, "key.pem")
    Fs.copyFileSync(Path.join(FIXTURES, "cert.pem"), certFile)
    Fs.copyFileSync(Path.join(FIXTURES, "key.pem"), keyFile)
    Fs.chmodSync(keyFile, keyMode)
    return { certFile, keyFile }
  })

/** A GET over HTTPS trusting only the test certificate. */
const httpsGet = (url: string, headers: Record<string, string> = {}) =>
  Effect.callback<{ status: number; body: string }>((resume) => {
    const request = Https.get(url, { ca: Fs.readFileSync(Path.join(FIXTURES, "cert.pem")), headers }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
    })
    request.on("error", (error) => resume(Effect.die(error)))
  })

const token = { name: "ops", tokenSha256: tokenSha256("orch_ops"), role: "all" } as const

describe("HTTP interface start-up", () => {
  it.live("refuses a network address without TLS and tokens, saying how to secure it", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const refused = yield* Effect.flip(startStack({ http: { address: `0.0.0.0:${port}` } }))
      expect(refused).toMatchObject({ _tag: "HttpStartupError", reason: { _tag: "HttpNetworkExposed", missing: ["tls", "tokens"] } })
      expect(refused.message).toBe(
        `cannot start the HTTP interface on http://0.0.0.0:${port}: it is reachable from the network without tls and tokens, ` +
          "so anyone who can connect could run commands, or read a token on the wire. Set http.tls to " +
          `{"certFile": "cert.pem", "keyFile": "key.pem"} and http.tokens to entries 'orchestrate token create NAME' prints ` +
          "(see the README's HTTP interface section). Or bind a loopback address such as 127.0.0.1:5580, or set " +
          "http.allowInsecureNetwork to true to accept the risk"
      )
      // Tokens alone would travel in clear text.
      expect(yield* Effect.flip(startStack({ http: { address: `0.0.0.0:${port}`, tokens: [token] } }))).toMatchObject({
        reason: { _tag: "HttpNetworkExposed", missing: ["tls"] }
      })
      // Nothing was left listening.
      expect(yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/livez`).then(() => "answered", () => "refused"))).toBe("refused")
    }))

  it.live("binds a network address when allowInsecureNetwork accepts the risk", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      yield* startStack({ http: { address: `0.0.0.0:${port}`, allowInsecureNetwork: true } })
      expect((yield* fetchText(`http://127.0.0.1:${port}/api/v1/agents`)).status).toBe(200)
    }))

  it.live("says when the address is in use", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const holder = Net.createServer()
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => {
          holder.listen({ host: "127.0.0.1", port }, () => resume(Effect.void))
        }),
        () =>
          Effect.callback<void>((resume) => {
            holder.close(() => resume(Effect.void))
          })
      )
      const refused = yield* Effect.flip(startStack({ http: { address: `127.0.0.1:${port}` } }))
      expect(refused.message).toBe(
        `cannot start the HTTP interface on http://127.0.0.1:${port}: the address is already in use (is another orchestrator running?)`
      )
    }))

  it.live("serves HTTPS with the configured certificate, and checks Origin against https", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const tls = yield* tlsFiles()
      yield* startStack({ http: { address: `127.0.0.1:${port}`, tls } })
      const answer = yield* httpsGet(`https://127.0.0.1:${port}/api/v1/agents`)
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toMatchObject({ status: "success", data: { agents: [{ name: "db" }, {}, {}, {}] } })
      // A page it serves has an https origin; the same host over http is another origin.
      expect((yield* httpsGet(`https://127.0.0.1:${port}/api/v1/agents`, { origin: `https://127.0.0.1:${port}` })).status).toBe(200)
      expect((yield* httpsGet(`https://127.0.0.1:${port}/api/v1/agents`, { origin: `http://127.0.0.1:${port}` })).status).toBe(403)
      // Plain HTTP on the same port is not answered as HTTP.
      const plain = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/livez`).then((response) => response.status, () => "refused"))
      expect(plain).not.toBe(200)
    }))

  it.live("refuses TLS files it cannot read or use", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const address = `127.0.0.1:${port}`
      const open = yield* tlsFiles(0o644)
      expect((yield* Effect.flip(startStack({ http: { address, tls: open } }))).message).toBe(
        `cannot start the HTTP interface on https://${address}: the TLS key ${open.keyFile} can be read by other users (mode 644); chmod 600 (or 640) it`
      )
      const good = yield* tlsFiles()
      const missing = `${good.certFile}.missing`
      expect((yield* Effect.flip(startStack({ http: { address, tls: { ...good, certFile: missing } } }))).message).toBe(
        `cannot start the HTTP interface on https://${address}: cannot read http.tls.certFile ${missing}: no such file`
      )
      const otherKey = Path.join(Path.dirname(good.keyFile), "other.pem")
      const { privateKey } = Crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
      Fs.writeFileSync(otherKey, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 })
      const mismatched = yield* Effect.flip(startStack({ http: { address, tls: { ...good, keyFile: otherKey } } }))
      expect(mismatched.reason._tag).toBe("TlsUnusable")
      expect(mismatched.message).toMatch(
        new RegExp(`^cannot start the HTTP interface on https://${address.replace(/\./g, "\\.")}: http\\.tls: not a PEM certificate and its private key, or they do not belong together \\(.+\\)$`)
      )
    }))

  it.live("is off unless enabled", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      yield* startStack({ http: { enabled: false, address: `127.0.0.1:${port}` } })
      const answered = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/api/v1/command`, { method: "POST", body: "{}" }).then(() => "answered", () => "refused"))
      expect(answered).toBe("refused")
    }))
})

describe("the config file's http section", () => {
  const problems = (http: unknown) => {
    const parsed = parseConfigText(JSON.stringify({ http, agents: [] }), "test.json")
    return Result.isFailure(parsed) ? parsed.failure.problems : []
  }

  it("defaults to off, on 127.0.0.1:5580, with no TLS and no tokens, serving 64 event streams at once", () => {
    const parsed = parseConfigText(JSON.stringify({ agents: [] }), "test.json")
    expect(Result.isSuccess(parsed) ? parsed.success.http : undefined).toEqual({
      enabled: false,
      address: "127.0.0.1:5580",
      allowInsecureNetwork: false,
      maxEventStreams: 64
    })
  })

  it("reports each problem by its path", () => {
    expect(problems({ address: "localhost" })).toEqual([
      `http.address: expected HOST:PORT such as 127.0.0.1:5580, [::1]:5580 or 0.0.0.0:5580 (port 0 picks a free one), got "localhost"`
    ])
    expect(problems({ address: "[nope]:80" })).toHaveLength(1)
    expect(problems({ tokens: [{ name: "ci", tokenSha256: "ABC", role: "all" }] })).toEqual([
      "http.tokens[0].tokenSha256: expected the token's SHA-256 as 64 lowercase hex digits (orchestrate token create prints it)"
    ])
    expect(problems({ tokens: [token, { ...token, tokenSha256: tokenSha256("other") }] })).toEqual([
      "http.tokens: token names must be unique: 'ops' appears twice"
    ])
    expect(problems({ tokens: [] })).toEqual(["http.tokens: expected 1 to 1000 tokens; there are 0"])
    expect(problems({ tokens: [{ ...token, role: ["frobnicate"] }] })[0]).toMatch(/^http\.tokens\[0\]\.role/)
    // Under a secret-named key ("tokens"), what was given is never quoted.
    expect(problems({ tokens: [{ ...token, agents: [] }] })).toEqual(["http.tokens[0].agents: expected 1 to 64 patterns, got [redacted]"])
    expect(problems({ tls: { certFile: "cert.pem" } })).toEqual(["http.tls.keyFile: missing"])
    expect(problems({ enabled: true, port: 80 })).toEqual(["http.port: unexpected key"])
  })
})
