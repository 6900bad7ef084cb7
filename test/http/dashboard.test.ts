/**
 * The web dashboard's files as the HTTP interface serves them, over real sockets: the page with its security
 * headers, the hashed assets with their types and cache headers (the bytes of the build in dist/web, which the
 * global setup makes), an unknown asset and a traversal refused in the envelope's shape, no token needed for any
 * of them while the API still wants one, and a clear 503 where the dashboard was never built.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HttpRouter } from "effect/http"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { tokenSha256 } from "../../src/security/tokens.ts"
import * as Dashboard from "../../src/server/http/Dashboard.ts"
import { tempDir } from "../support/files.ts"
import { quietLogs } from "../support/harness.ts"
import { fetchText, startStack } from "../support/http.ts"
import { freePort } from "../support/net.ts"

const CSP = "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'none'; frame-ancestors 'none'"
const built = Path.join(packageRoot(), "dist", "web")

/** The asset names the built page refers to. */
const referenced = (html: string) => {
  const names = [...html.matchAll(/(?:src|href)="assets\/([^"]+)"/g)].map((match) => match[1] ?? "")
  return {
    script: names.find((name) => /^app-[A-Z0-9]+\.js$/.test(name)),
    style: names.find((name) => /^style-[A-Z0-9]+\.css$/.test(name)),
    icon: names.find((name) => /^favicon-[0-9a-f]+\.svg$/.test(name)),
    all: names
  }
}

/** A GET with exactly this path, not normalised as fetch would (`/assets/../x` stays as it is). */
const rawGet = (url: string, path: string) =>
  Effect.callback<{ status: number; headers: Http.IncomingHttpHeaders; body: string }>((resume) => {
    const request = Http.request(`${url}${path}`, { method: "GET" }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, headers: response.headers, body })))
    })
    request.path = path
    request.on("error", (error) => resume(Effect.die(error)))
    request.end()
  })

describe("the dashboard at /", () => {
  it.live("serves the page with a strict Content-Security-Policy, nosniff and no-cache, revalidated by its ETag", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      const page = yield* fetchText(`${url}/`)
      expect(page.status).toBe(200)
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
      expect(page.headers.get("content-security-policy")).toBe(CSP)
      expect(page.headers.get("x-content-type-options")).toBe("nosniff")
      expect(page.headers.get("cache-control")).toBe("no-cache")
      expect(page.text).toBe(Fs.readFileSync(Path.join(built, "index.html"), "utf8"))
      // One module script from this server, no inline script, nothing from another origin.
      expect(page.text.match(/<script[^>]*>/g)).toEqual([expect.stringMatching(/^<script type="module" src="assets\/app-[A-Z0-9]+\.js">$/)])
      expect(page.text).not.toMatch(/<script>|https?:\/\//)
      const names = referenced(page.text)
      expect(names.script).toBeDefined()
      expect(names.style).toBeDefined()

      const etag = page.headers.get("etag")
      expect(etag).toMatch(/^"[0-9a-f]{16}"$/)
      const again = yield* fetchText(`${url}/`, { headers: { "if-none-match": etag ?? "" } })
      expect(again.status).toBe(304)
      expect(again.text).toBe("")
      expect((yield* fetchText(`${url}/index.html`)).text).toBe(page.text)
    }))

  it.live("serves each asset the page names with its type, cached for a year, byte for byte the build's", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      const names = referenced((yield* fetchText(`${url}/`)).text)
      const types = [
        [names.script, "text/javascript; charset=utf-8"],
        [names.style, "text/css; charset=utf-8"],
        [names.icon, "image/svg+xml"]
      ] as const
      for (const [name, type] of types) {
        const asset = yield* fetchText(`${url}/assets/${name ?? "missing"}`)
        expect(asset.status, `${name}`).toBe(200)
        expect(asset.headers.get("content-type")).toBe(type)
        expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
        expect(asset.headers.get("x-content-type-options")).toBe("nosniff")
        expect(asset.text).toBe(Fs.readFileSync(Path.join(built, "assets", name ?? "missing"), "utf8"))
      }
      // Nothing fetched from elsewhere: no CDN, no web font.
      const style = (yield* fetchText(`${url}/assets/${names.style ?? ""}`)).text
      expect(style).not.toMatch(/url\(|@import|@font-face/)
    }))

  it.live("refuses an unknown asset, a traversal and a write in the envelope's error shape", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack()
      expect(yield* fetchText(`${url}/assets/app-NOSUCHFILE.js`)).toMatchObject({
        status: 404,
        json: { status: "error", code: 404, reason: "NotFound", error: "No dashboard asset 'app-NOSUCHFILE.js'" }
      })
      const traversal = yield* rawGet(url, "/assets/../../package.json")
      expect(traversal.status).toBe(404)
      expect(JSON.parse(traversal.body)).toEqual({
        status: "error",
        code: 404,
        reason: "NotFound",
        error: "No route for GET /assets/../../package.json; the routes are described at /api/v1/openapi.json and /api/docs"
      })
      const encoded = yield* rawGet(url, "/assets/..%2F..%2Fpackage.json")
      expect(encoded.status).toBe(404)
      expect(JSON.parse(encoded.body)).toEqual({ status: "error", code: 404, reason: "NotFound", error: "No dashboard asset '../../package.json'" })
      expect(encoded.body).not.toContain("effect-orchestrate")

      const post = yield* fetchText(`${url}/`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
      expect(post.status).toBe(405)
      expect(post.headers.get("allow")).toBe("GET, HEAD")
      expect(post.json).toEqual({
        status: "error",
        code: 405,
        reason: "MethodNotAllowed",
        error: "POST / is not allowed: the dashboard's files are read with GET"
      })
      const head = yield* fetchText(`${url}/`, { method: "HEAD" })
      expect(head.status).toBe(200)
      expect(head.headers.get("content-security-policy")).toBe(CSP)
    }))

  it.live("needs no token for the page and its assets, while the API it calls does", () =>
    Effect.gen(function*() {
      const { url } = yield* startStack({ http: { tokens: [{ name: "ops", tokenSha256: tokenSha256("orch_ops-token"), role: "all" }] } })
      const page = yield* fetchText(`${url}/`)
      expect(page.status).toBe(200)
      expect((yield* fetchText(`${url}/assets/${referenced(page.text).script ?? ""}`)).status).toBe(200)
      expect((yield* fetchText(`${url}/api/v1/status`)).status).toBe(401)
    }))
})

describe("the dashboard not built", () => {
  it.live("answers / with a 503 that says to run npm run build, and its assets with 404", () =>
    Effect.gen(function*() {
      const empty = yield* tempDir("orch-web-")
      const port = yield* freePort
      yield* Layer.build(
        HttpRouter.serve(Dashboard.layer(empty), { disableLogger: true, disableListenLog: true }).pipe(
          Layer.provide(NodeHttpServer.layer(() => Http.createServer(), { host: "127.0.0.1", port })),
          quietLogs
        )
      )
      const url = `http://127.0.0.1:${port}`
      const page = yield* fetchText(`${url}/`)
      expect(page.status).toBe(503)
      expect(page.headers.get("content-type")).toBe("text/plain; charset=utf-8")
      expect(page.headers.get("content-security-policy")).toBe(CSP)
      expect(page.text).toBe(
        "The dashboard is not built: run `npm run build` in the effect-orchestrate package (it writes dist/web/), then " +
          "start `orchestrate up --http` again. The API works without it: /api/v1/openapi.json, /api/docs.\n"
      )
      expect(yield* fetchText(`${url}/assets/app-X.js`)).toMatchObject({
        status: 404,
        json: { reason: "NotFound", error: "No dashboard asset 'app-X.js' (the dashboard is not built: run `npm run build`)" }
      })
    }))

  it("reads only index.html and the assets it knows the type of, once", () => {
    const files = Dashboard.readDashboard(built)
    expect(files.index?.body.toString()).toBe(Fs.readFileSync(Path.join(built, "index.html"), "utf8"))
    expect([...files.assets.keys()].sort()).toEqual(
      Fs.readdirSync(Path.join(built, "assets")).filter((name) => /\.(js|css|svg)$/.test(name)).sort()
    )
    expect(Dashboard.readDashboard(Path.join(built, "no-such-dir"))).toEqual({ index: undefined, assets: new Map() })
  })
})
