/**
 * The web dashboard's files (src/web, bundled into dist/web by scripts/build.ts), served at `/` and under
 * `/assets/`: the page and its hashed scripts and styles. They hold no data, so they need no token; the page gets
 * everything through the API with the token its user gives it.
 *
 * The files are read once, when the interface starts, into a table by name: a request can only name a file of
 * that table, never a path on disk, so no traversal reaches anything else. Without a build, `/` says how to make
 * one (503) rather than showing nothing.
 *
 * Every answer carries a Content-Security-Policy allowing only this server's own scripts, styles and connections
 * (no inline script, no other origin, no framing) and `nosniff`. The page is `no-cache` (revalidated by its
 * ETag), so a new build shows at the next load; the assets' names hold their content's hash, so they are cached
 * for a year.
 */
import { Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { packageRoot } from "../../packageRoot.ts"
import { pathOf, Refused, refusedResponse } from "./HttpTransport.ts"

/** Where scripts/build.ts writes the dashboard. */
const defaultDirectory = (): string => Path.join(packageRoot(), "dist", "web")

const CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'none'; frame-ancestors 'none'"

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer"
} as const

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".map": "application/json"
}

interface Asset {
  readonly body: Uint8Array
  readonly contentType: string
}

export interface DashboardFiles {
  /** The page, undefined when the dashboard was not built. */
  readonly index: { readonly body: Uint8Array; readonly etag: string } | undefined
  /** `assets/`'s files by name. */
  readonly assets: ReadonlyMap<string, Asset>
}

const readOrUndefined = (path: string): Buffer | undefined => {
  try {
    return Fs.readFileSync(path)
  } catch {
    return undefined
  }
}

/**
 * The built dashboard in `directory`, read whole. Synchronous, as the TLS files are: it runs once, at start-up, and
 * the files are small (about 60 KiB). A file a concurrent build removes between the listing and the read is left out.
 */
export const readDashboard = (directory: string): DashboardFiles => {
  const html = readOrUndefined(Path.join(directory, "index.html"))
  const assetsDirectory = Path.join(directory, "assets")
  const assets = new Map<string, Asset>()
  const names = Fs.existsSync(assetsDirectory) ? Fs.readdirSync(assetsDirectory) : []
  for (const name of names) {
    const contentType = CONTENT_TYPES[Path.extname(name)]
    const body = contentType === undefined ? undefined : readOrUndefined(Path.join(assetsDirectory, name))
    if (contentType !== undefined && body !== undefined) assets.set(name, { body, contentType })
  }
  return {
    index: html === undefined ? undefined : { body: html, etag: `"${createHash("sha256").update(html).digest("hex").slice(0, 16)}"` },
    assets
  }
}

const NOT_BUILT = "The dashboard is not built: run `npm run build` in the effect-orchestrate package (it writes " +
  "dist/web/), then start `orchestrate up --http` again. The API works without it: /api/v1/openapi.json, /api/docs.\n"

const page = (files: DashboardFiles) => (request: HttpServerRequest.HttpServerRequest) => {
  const index = files.index
  if (index === undefined) {
    return Effect.succeed(HttpServerResponse.text(NOT_BUILT, {
      status: 503,
      contentType: "text/plain; charset=utf-8",
      headers: { ...SECURITY_HEADERS, "cache-control": "no-store" }
    }))
  }
  const headers = { ...SECURITY_HEADERS, "cache-control": "no-cache", etag: index.etag }
  return Effect.succeed(
    request.headers["if-none-match"] === index.etag
      ? HttpServerResponse.empty({ status: 304, headers })
      : HttpServerResponse.uint8Array(index.body, { contentType: "text/html; charset=utf-8", headers })
  )
}

const asset = (files: DashboardFiles) =>
  Effect.map(HttpRouter.params, (params) => {
    const name = params["file"] ?? ""
    const found = files.assets.get(name)
    if (found === undefined) {
      return refusedResponse(new Refused({
        status: 404,
        reason: "NotFound",
        error: `No dashboard asset '${name}'${files.index === undefined ? " (the dashboard is not built: run `npm run build`)" : ""}`
      }))
    }
    return HttpServerResponse.uint8Array(found.body, {
      contentType: found.contentType,
      // Each name holds its content's hash (scripts/build.ts): a name never stands for other bytes.
      headers: { ...SECURITY_HEADERS, "cache-control": "public, max-age=31536000, immutable" }
    })
  })

/**
 * Only GET and HEAD. Registered for every method, since the router has no HEAD of its own and would otherwise
 * give a HEAD the `*` route's 404 rather than the GET route's answer (Node leaves a HEAD answer's body out).
 */
const readOnly = <E, R>(handler: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  (request: HttpServerRequest.HttpServerRequest) =>
    request.method === "GET" || request.method === "HEAD"
      ? handler(request)
      : Effect.succeed(HttpServerResponse.setHeader(
        refusedResponse(new Refused({
          status: 405,
          reason: "MethodNotAllowed",
          error: `${request.method} ${pathOf(request.url)} is not allowed: the dashboard's files are read with GET`
        })),
        "allow",
        "GET, HEAD"
      ))

/** The dashboard's routes, registered on the interface's router, serving the build in `directory`. */
export const layer = (directory: string = defaultDirectory()) =>
  HttpRouter.use((router) =>
    Effect.gen(function*() {
      const files = yield* Effect.sync(() => readDashboard(directory))
      yield* router.add("*", "/", readOnly(page(files)))
      yield* router.add("*", "/index.html", readOnly(page(files)))
      yield* router.add("*", "/assets/:file", readOnly(() => asset(files)))
    }))
