/**
 * The HTTP interface's contract, as an `HttpApi`: every route, its parameters and the schemas of what it answers,
 * from which `/api/v1/openapi.json` and the `/api/docs` page are generated. Results are the command catalogue's own
 * schemas (`protocol/Commands.ts`) inside the response envelope (`protocol/Envelope.ts`), so the document says
 * what the wire carries. The handlers (`HttpRoutes.ts`, `Probes.ts`) answer with the pipeline's bytes as they are;
 * nothing here decodes or encodes a result.
 *
 * Query parameters are declared as text: they are the command's argument keys, handed to the pipeline, which
 * checks them as it checks the same arguments from ZeroMQ.
 */
import { Context, Predicate, Schema } from "effect"
import * as HttpApi from "effect/http-api/HttpApi"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as HttpApiSecurity from "effect/http-api/HttpApiSecurity"
import * as OpenApi from "effect/http-api/OpenApi"
import packageJson from "../../../package.json" with { type: "json" }
import { type CommandName, Commands } from "../../protocol/Commands.ts"
import { ErrorResponse, MAX_REASON_LENGTH, Request, RequestId } from "../../protocol/Envelope.ts"
import { AgentState, Health } from "../../protocol/Model.ts"

/** The bearer token an API request presented, if any: what the pipeline identifies its caller by. */
export class PresentedToken extends Context.Service<PresentedToken, {
  readonly token: string | undefined
}>()("effect-orchestrate/http/PresentedToken") {}

/**
 * Reads `Authorization: Bearer <token>` for the API's routes and hands it on as `PresentedToken`; whether the token
 * is worth anything is the pipeline's identification stage to say (`HttpAuthentication.ts`).
 */
export class BearerToken extends HttpApiMiddleware.Service<BearerToken, { provides: PresentedToken }>()(
  "effect-orchestrate/http/BearerToken",
  {
    security: {
      bearer: HttpApiSecurity.bearer.pipe(HttpApiSecurity.annotate(
        OpenApi.Description,
        "A token from `orchestrate token create`, needed when the server has `http.tokens`; without tokens, on " +
          "loopback, callers are anonymous"
      ))
    }
  }
) {}

/**
 * The token an `Authorization` header presents, read as the API's bearer security reads it (effect's
 * `HttpApiBuilder.securityDecode`: the scheme in any case, one space or more, the rest as it is), for the route
 * served beside the API (`POST /api/v1/command`); no token for no header, another scheme or nothing after it.
 */
export const presentedToken = (authorization: string | undefined): string | undefined => {
  if (authorization === undefined || authorization.length <= 6 || authorization.charCodeAt(6) !== 32) return undefined
  if (authorization.slice(0, 6).toLowerCase() !== "bearer") return undefined
  let start = 7
  while (authorization.charCodeAt(start) === 32) start++
  return start === authorization.length ? undefined : authorization.slice(start)
}

/** The success envelope around a command's result. */
const succeeded = <S extends Schema.Top>(data: S) =>
  Schema.Struct({ status: Schema.Literal("success"), data, id: Schema.optionalKey(Schema.String) })

const answer = (command: CommandName) => succeeded(Commands[command].result)

const failure = (status: number, description: string) => ErrorResponse.annotate({ description }).pipe(HttpApiSchema.status(status))

/** An answer the HTTP layer gives itself, before the pipeline: `code` is the HTTP status. */
export const EdgeError = Schema.Struct({
  status: Schema.Literal("error"),
  code: Schema.Int,
  reason: Schema.String,
  error: Schema.String
})

const edge = (status: number, description: string) => EdgeError.annotate({ description }).pipe(HttpApiSchema.status(status))

/** What any command route may answer besides its result: the pipeline's errors, as on ZeroMQ. */
const commandErrors = [
  failure(400, "Malformed request, request too large, unknown command, invalid arguments"),
  failure(401, "No bearer token, or not one of the server's (`reason` AuthenticationFailed; `code` is 403, as on ZeroMQ)"),
  failure(403, "The command, or the agent it names, is not allowed for this caller; or a cross-site request"),
  failure(404, "No agent of that name (`reason` AgentNotFound; `code` is 500, as on ZeroMQ)"),
  failure(500, "The command failed: execution failed, reload failed, shutting down, internal error")
]
const postErrors = [
  ...commandErrors,
  edge(413, "The body is over four times commandInterface.maxRequestBytes (at least 1 MiB), and was not read"),
  edge(415, "A POST without Content-Type: application/json (a browser form cannot send it cross-site)")
]

const Text = (description: string) => Schema.optional(Schema.String.annotate({ description }))
const Texts = (description: string) => Schema.optional(Schema.Array(Schema.String).annotate({ description }))

/** The envelope's own members, in a REST body: the operator's reason for the audit trail, and a request id for retries. */
const RequestFields = {
  reason: Schema.optionalKey(Schema.String.check(Schema.isBetweenLength(1, MAX_REASON_LENGTH))),
  id: Schema.optionalKey(RequestId)
}
const ActionBody = Schema.Struct(RequestFields)

const agentAction = <const Name extends "start" | "stop" | "restart" | "pause" | "resume">(name: Name) =>
  HttpApiEndpoint.post(name, `/agents/:name/${name}`, {
    params: { name: Schema.String.annotate({ description: "An agent's name, a glob pattern (`web-*`) or `all`" }) },
    payload: ActionBody,
    success: answer(name),
    error: postErrors
  }).annotate(OpenApi.Description, `${Commands[name].summary}: the \`${name}\` command on one name, pattern or \`all\``)

export class CommandApi extends HttpApiGroup.make("command").add(
  HttpApiEndpoint.post("command", "/command", {
    payload: Request,
    success: succeeded(Schema.Unknown.annotate({ description: "The command's result, as its own route documents it" })),
    error: postErrors
  }).annotate(
    OpenApi.Description,
    "Any command, as the ZeroMQ request envelope; answered with the same response envelope as on ZeroMQ"
  )
).middleware(BearerToken).prefix("/api/v1") {}

export class AgentsApi extends HttpApiGroup.make("agents").add(
  HttpApiEndpoint.get("list", "/agents", { success: answer("ps"), error: commandErrors })
    .annotate(OpenApi.Description, "The agents with their state: the `ps` command"),
  HttpApiEndpoint.get("detail", "/agents/:name", {
    params: { name: Schema.String },
    success: answer("status"),
    error: commandErrors
  }).annotate(OpenApi.Description, "One agent in detail: the `status <agent>` command"),
  agentAction("start"),
  agentAction("stop"),
  agentAction("restart"),
  agentAction("pause"),
  agentAction("resume")
).middleware(BearerToken).prefix("/api/v1") {}

export class OrchestratorApi extends HttpApiGroup.make("orchestrator").add(
  HttpApiEndpoint.get("status", "/status", { success: answer("status"), error: commandErrors })
    .annotate(OpenApi.Description, "The orchestrator and every agent: the `status` command"),
  HttpApiEndpoint.get("stats", "/stats", { success: answer("stats"), error: commandErrors }),
  HttpApiEndpoint.get("history", "/history", {
    query: {
      limit: Text("Most events, an integer from 1 (default 50, at most 1000)"),
      category: Text("agent, orchestrator or command"),
      categories: Texts("Events of any of these categories (repeat the parameter)"),
      agent: Text("One agent's events"),
      event: Text("One event name, e.g. AGENT_STARTED"),
      after_seq: Text("Only events after this seq, oldest first: for following")
    },
    success: answer("history"),
    error: commandErrors
  }).annotate(OpenApi.Description, "Recorded events, oldest first: the `history` command; parameters are its argument's keys"),
  HttpApiEndpoint.get("logs", "/logs", {
    query: {
      agents: Texts("These agents' lines (repeat the parameter); every agent's without it"),
      limit: Text("Most lines, an integer from 1 (default 100, at most 1000)"),
      since: Text("Only lines written at or after this ISO-8601 instant"),
      after_seq: Text("Only lines after this seq, oldest first: for following"),
      stream: Text("stdout or stderr")
    },
    success: answer("logs"),
    error: commandErrors
  }).annotate(OpenApi.Description, "Agents' output lines, oldest first: the `logs` command; parameters are its argument's keys"),
  HttpApiEndpoint.get("dependencies", "/dependencies", { success: answer("dependencies"), error: commandErrors }),
  HttpApiEndpoint.get("commands", "/commands", { success: answer("commands"), error: commandErrors }),
  HttpApiEndpoint.get("whoami", "/whoami", { success: answer("whoami"), error: commandErrors }),
  HttpApiEndpoint.post("reload", "/reload", {
    payload: Schema.Struct({
      config: Schema.optionalKey(Schema.String.annotate({ description: "Another config file than the one up started from" })),
      dry_run: Schema.optionalKey(Schema.Boolean.annotate({ description: "Only say what would change" })),
      ...RequestFields
    }),
    success: answer("reload"),
    error: postErrors
  }).annotate(OpenApi.Description, Commands.reload.summary),
  HttpApiEndpoint.post("shutdown", "/shutdown", { payload: ActionBody, success: answer("shutdown"), error: postErrors })
    .annotate(OpenApi.Description, `${Commands.shutdown.summary}; answered before the shutdown begins`)
).middleware(BearerToken).prefix("/api/v1") {}

/** `GET /api/v1/events`: a Server-Sent Events stream (`EventStream.ts`), refused as a `history` request would be. */
export class EventsApi extends HttpApiGroup.make("events").add(
  HttpApiEndpoint.get("events", "/events", {
    query: {
      agent: Text("Only this agent's events (and lines)"),
      category: Text("Only events of this category: agent, orchestrator or command"),
      logs: Text("1: agents' output lines too (needs the logs command)"),
      status: Text(
        "1: `status` messages too (needs the status command): the `status` command's result (with agent=, that " +
          "agent's) at once, on every change of an agent's state, health, pid or restarts, and every 2 s for CPU, memory and uptime"
      )
    },
    // Messages `event` (a history event), `log` (a line, with logs=1), `status` (with status=1; no id) and `dropped`
    // (evicted before they could be sent); each `id` is `<event seq>:<log seq>`, which Last-Event-ID resumes from
    // with no gap (README).
    success: HttpApiSchema.StreamUint8Array({ contentType: "text/event-stream" }),
    error: [
      ...commandErrors,
      edge(503, "http.maxEventStreams streams are open already (`reason` TooManyStreams), with Retry-After: retry later")
    ]
  }).annotate(
    OpenApi.Description,
    "Live events, agent state changes, (logs=1) output lines and (status=1) the `status` result as Server-Sent Events. " +
      "Messages: `event` (a history event), `log` (a line), `status` (the status result; no id) and `dropped` (what was " +
      "evicted before it could be sent). Each id is `<event seq>:<log seq>`: send the last one as Last-Event-ID to resume " +
      "with nothing missed and nothing repeated"
  )
).middleware(BearerToken).prefix("/api/v1") {}

/** A readiness probe's answer. */
export const NotReady = Schema.Struct({
  status: Schema.Literal("not ready"),
  /** Why, when it is not the agents: the orchestrator is stopping. */
  reason: Schema.optionalKey(Schema.String),
  /** The agents not ready; left out when tokens are set and the caller presented none of them. */
  agents: Schema.optionalKey(Schema.Array(Schema.Struct({ name: Schema.String, state: AgentState, health: Schema.NullOr(Health) })))
})

export class ProbesApi extends HttpApiGroup.make("probes").add(
  HttpApiEndpoint.get("livez", "/livez", {
    success: Schema.Struct({ status: Schema.Literal("live") }),
    error: EdgeError.pipe(HttpApiSchema.status(503))
  }).annotate(OpenApi.Description, "200 while the orchestrator runs and answers; needs no token"),
  HttpApiEndpoint.get("readyz", "/readyz", {
    success: Schema.Struct({ status: Schema.Literal("ready") }),
    error: NotReady.pipe(HttpApiSchema.status(503))
  }).annotate(
    OpenApi.Description,
    "200 when every agent is ready (running with its readiness probe passed, or completed), 503 otherwise, with the " +
      "names of those that are not (with tokens set, only for a caller presenting one); needs no token"
  )
) {}

/** Without tokens the API needs no credentials: each operation's security lists "none" as an alternative. */
const tokensOptional = <Spec extends Record<string, unknown>>(spec: Spec): Spec => {
  const paths: unknown = spec["paths"]
  if (!Predicate.isObject(paths)) return spec
  for (const path of Object.values(paths)) {
    if (!Predicate.isObject(path)) continue
    for (const operation of Object.values(path)) {
      if (!Predicate.hasProperty(operation, "security") || !Array.isArray(operation.security)) continue
      if (operation.security.length > 0) Reflect.set(operation, "security", [...operation.security, {}])
    }
  }
  return spec
}

export class OrchestrateApi extends HttpApi.make("orchestrate")
  .add(CommandApi)
  .add(AgentsApi)
  .add(OrchestratorApi)
  .add(EventsApi)
  .add(ProbesApi)
  .annotateMerge(OpenApi.annotations({
    title: "effect-orchestrate",
    version: packageJson.version,
    description: "The orchestrator's command interface over HTTP: the same commands, checks, audit trail and answers as " +
      "over ZeroMQ. Every response is the command interface's response envelope.",
    transform: tokensOptional
  }))
{}

/**
 * The API's groups that `HttpApiBuilder` serves: all but `command`, whose one route every client of the command
 * interface uses and which is served beside them, with fewer steps per request (`HttpRoutes.commandRoute`). The
 * OpenAPI document and its page describe the whole `OrchestrateApi`, that route as it is declared above.
 */
export class ServedApi extends HttpApi.make("orchestrate")
  .add(AgentsApi)
  .add(OrchestratorApi)
  .add(EventsApi)
  .add(ProbesApi)
{}
