/**
 * The API's routes, each turned into the request envelope it stands for and answered through the transport
 * (`HttpTransport.ts`), so through the one pipeline: `POST /api/v1/command` (a route of its own, below) hands over
 * its body as it is; a REST route builds the envelope from its path (the command, the agent), its query (the
 * command's argument, key for key) or its body (the envelope's `reason` and `id`, and `reload`'s argument). What
 * the envelope means, and whether it is right, is the pipeline's to say, exactly as for the same envelope from
 * ZeroMQ.
 */
import { Effect, Layer, Predicate, Redacted } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as OpenApi from "effect/http-api/OpenApi"
import { messageOf } from "../../messageOf.ts"
import { checkJsonLimits } from "../../protocol/jsonLimits.ts"
import { MAX_JSON_DEPTH } from "../pipeline/RequestEnvelope.ts"
import { BearerToken, OrchestrateApi, PresentedToken } from "./OrchestrateApi.ts"
import { HttpTransport, pathOf, Refused } from "./HttpTransport.ts"

const encoder = new TextEncoder()
const utf8 = new TextDecoder("utf-8", { fatal: true })

const envelope = (fields: Readonly<Record<string, unknown>>): Uint8Array => encoder.encode(JSON.stringify(fields))

const badRequest = (error: string) => new Refused({ status: 400, reason: "MalformedRequest", error })

/** An envelope for a route that takes nothing but its path. */
const plain = (command: string, args: ReadonlyArray<unknown> = []) =>
  Effect.flatMap(HttpServerRequest.ParsedSearchParams, (query) => {
    const keys = Object.keys(query)
    return keys.length === 0
      ? Effect.succeed(envelope({ command, args }))
      : Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        Effect.fail(badRequest(`${request.method} ${pathOf(request.url)} takes no query parameters, got ${keys.join(", ")}`)))
  })

/**
 * An envelope whose argument is the query: each parameter the argument's key of the same name; a whole number
 * where the argument takes one, a list where it takes a list. Anything else is passed as it came, for the
 * pipeline to refuse precisely (an unknown key, a number that is not one).
 */
const queried = (command: string, shape: { readonly numbers: ReadonlyArray<string>; readonly lists: ReadonlyArray<string> }) =>
  Effect.map(HttpServerRequest.ParsedSearchParams, (query) => {
    // Own members whatever their names: a `__proto__` parameter is an unknown key for the pipeline to refuse.
    const argument = Object.fromEntries(Object.entries(query).map(([key, value]) => [
      key,
      shape.lists.includes(key)
        ? typeof value === "string" ? [value] : value
        : shape.numbers.includes(key) && typeof value === "string" && /^\d{1,15}$/.test(value)
        ? Number(value)
        : value
    ]))
    return envelope({ command, args: Object.keys(argument).length === 0 ? [] : [argument] })
  })

/** A REST body: a JSON object, empty meaning `{}`, which must not try to say what the path says. */
const restBody = (transport: HttpTransport["Service"]) =>
  Effect.flatMap(transport.body, (bytes): Effect.Effect<Readonly<Record<string, unknown>>, Refused> => {
    if (bytes.length === 0) return Effect.succeed({})
    let value: unknown
    try {
      value = JSON.parse(utf8.decode(bytes))
    } catch (cause) {
      return Effect.fail(badRequest(`the body is not UTF-8 JSON (${messageOf(cause)})`))
    }
    if (!Predicate.isObject(value)) {
      return Effect.fail(badRequest(`the body must be a JSON object such as {"reason": "deploy 1.4.2"}`))
    }
    // Its values are put into an envelope again, which must not recurse past what the pipeline reads anyway.
    if (checkJsonLimits(value, { maxDepth: MAX_JSON_DEPTH }) !== undefined) {
      return Effect.fail(badRequest(`the body is nested deeper than ${MAX_JSON_DEPTH} levels`))
    }
    if ("command" in value || "args" in value) {
      return Effect.fail(badRequest("'command' and 'args' come from the path here; POST a whole envelope to /api/v1/command"))
    }
    return Effect.succeed({ ...value })
  })

/** An envelope for a command the path names, with `args`: a control action's agent (or pattern, or `all`). */
const withBody = (transport: HttpTransport["Service"], command: string, args: ReadonlyArray<unknown>) =>
  Effect.map(restBody(transport), (fields) => envelope({ command, args, ...fields }))

/** `reload`'s envelope: its argument's keys from the body, the envelope's own members beside them. */
const reload = (transport: HttpTransport["Service"]) =>
  Effect.map(restBody(transport), ({ config, dry_run, ...fields }) => {
    const argument = { ...(config === undefined ? {} : { config }), ...(dry_run === undefined ? {} : { dry_run }) }
    return envelope({ command: "reload", args: Object.keys(argument).length === 0 ? [] : [argument], ...fields })
  })

/** Hands the bearer token on as it came; `Redacted`, so that it is never logged by accident on the way. */
export const BearerTokenLive = Layer.succeed(
  BearerToken,
  BearerToken.of({
    bearer: (httpEffect, { credential }) => {
      const token = Redacted.value(credential)
      return Effect.provideService(httpEffect, PresentedToken, { token: token === "" ? undefined : token })
    }
  })
)

const agentsGroup = HttpApiBuilder.group(OrchestrateApi, "agents", (handlers) =>
  HttpTransport.useSync((transport) =>
    handlers
      .handle("list", () => transport.answer(plain("ps")))
      .handle("detail", ({ params }) => transport.answer(plain("status", [params.name])))
      .handleRaw("start", ({ params }) => transport.answer(withBody(transport, "start", [params.name])))
      .handleRaw("stop", ({ params }) => transport.answer(withBody(transport, "stop", [params.name])))
      .handleRaw("restart", ({ params }) => transport.answer(withBody(transport, "restart", [params.name])))
      .handleRaw("pause", ({ params }) => transport.answer(withBody(transport, "pause", [params.name])))
      .handleRaw("resume", ({ params }) => transport.answer(withBody(transport, "resume", [params.name])))))

const orchestratorGroup = HttpApiBuilder.group(OrchestrateApi, "orchestrator", (handlers) =>
  HttpTransport.useSync((transport) =>
    handlers
      .handle("status", () => transport.answer(plain("status")))
      .handle("stats", () => transport.answer(plain("stats")))
      .handle("history", () => transport.answer(queried("history", { numbers: ["limit", "after_seq"], lists: ["categories"] })))
      .handle("logs", () => transport.answer(queried("logs", { numbers: ["limit", "after_seq"], lists: ["agents"] })))
      .handle("dependencies", () => transport.answer(plain("dependencies")))
      .handle("commands", () => transport.answer(plain("commands")))
      .handle("whoami", () => transport.answer(plain("whoami")))
      .handleRaw("reload", () => transport.answer(reload(transport)))
      .handleRaw("shutdown", () => transport.answer(withBody(transport, "shutdown", [])))))

/** The API's REST routes, over `HttpTransport`: served by `HttpApiBuilder` with the rest of `ServedApi`. */
export const layer = Layer.mergeAll(agentsGroup, orchestratorGroup).pipe(Layer.provide(BearerTokenLive))

/**
 * `POST /api/v1/command`, as `OrchestrateApi` declares it, served by a route of its own rather than by
 * `HttpApiBuilder`: the API's handler wraps each request in its middleware, its security's decoding and its
 * handler's steps, none of which a raw handler needs (with the transport's old dispatch, 46 µs of the 225 µs of
 * CPU a `ps` cost the server: bench/README.md, benchmark 15). The answer is the same: the body as the envelope,
 * the bearer token read as the API reads it, the one pipeline.
 */
export const commandRoute = HttpRouter.use((router) =>
  Effect.flatMap(HttpTransport, (transport) => router.add("POST", "/api/v1/command", transport.command)))

/** The OpenAPI document of the whole `OrchestrateApi`, as `HttpApiBuilder.layer`'s `openapiPath` serves one. */
export const openApiRoute = (path: `/${string}`) =>
  HttpRouter.use((router) => {
    // Made at the first request, as HttpApiBuilder makes it: a few milliseconds of work no `up` needs otherwise.
    let document: HttpServerResponse.HttpServerResponse | undefined
    return router.add("GET", path, Effect.sync(() => document ??= HttpServerResponse.jsonUnsafe(OpenApi.fromApi(OrchestrateApi))))
  })
