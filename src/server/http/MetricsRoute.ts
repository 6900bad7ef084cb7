/**
 * `GET /metrics`: the process's Effect metrics in Prometheus' text format, rendered by effect's
 * `PrometheusMetrics`, with the agents' metrics set from the orchestrator's snapshot first (`AgentMetrics.ts`).
 *
 * Like the probes it is not a command: no audit record (a scrape every 15 s would fill the audit trail's share of
 * the history within hours) and no whitelist. Without tokens it is open, as every read is on loopback. With
 * `http.tokens` it needs one of them, whatever its role, as Prometheus sends it (`authorization: {credentials}` in
 * a scrape config): metrics name every agent, which says what runs here.
 */
import { Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"
import { OrchestratorQuery } from "../../ports/OrchestratorQuery.ts"
import { makeAgentMetrics } from "../metrics/AgentMetrics.ts"
import type { HttpAuthentication } from "./HttpAuthentication.ts"
import { Refused, refusedResponse } from "./HttpTransport.ts"

const unauthorized = HttpServerResponse.setHeader(
  refusedResponse(new Refused({
    status: 401,
    reason: "AuthenticationFailed",
    error: "Authentication failed: /metrics needs one of the server's tokens (http.tokens) as Authorization: Bearer <token>"
  })),
  "www-authenticate",
  `Bearer realm="orchestrate"`
)

/** The route, registered on the interface's router. */
export const layer = (authentication: HttpAuthentication) =>
  HttpRouter.use((router) =>
    Effect.gen(function*() {
      const query = yield* OrchestratorQuery
      const setAgentMetrics = makeAgentMetrics()
      yield* router.add("GET", "/metrics", (request: HttpServerRequest.HttpServerRequest) =>
        Effect.gen(function*() {
          if (authentication.tokensRequired && !authentication.presentsToken(request.headers["authorization"])) {
            return unauthorized
          }
          setAgentMetrics(yield* query.snapshot)
          return HttpServerResponse.text(yield* PrometheusMetrics.format(), {
            contentType: "text/plain; version=0.0.4; charset=utf-8",
            headers: { "cache-control": "no-store" }
          })
        }))
    }))
