/**
 * `/livez` and `/readyz`, for Kubernetes and load balancers: what they ask is not a command, so they read the
 * orchestrator's snapshot directly, need no token and leave no audit record (a probe every few seconds would
 * otherwise fill the audit trail's share of the history within hours).
 *
 * Live: the orchestrator answers for its state within a deadline, whatever that state is. Ready: it is running and
 * every agent is ready as `orchestrate status --wait` means it: running with its readiness probe passed (not
 * unhealthy), or completed (a one-shot job that succeeded). Otherwise 503, naming the agents that are not; with
 * tokens set, only to a caller presenting one of them, since agent names say what runs here.
 */
import { Effect } from "effect"
import { HttpServerRequest } from "effect/http"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import type { AgentStatus } from "../../protocol/Model.ts"
import { OrchestratorQuery } from "../../ports/OrchestratorQuery.ts"
import type { HttpAuthentication } from "./HttpAuthentication.ts"
import { jsonResponse as json } from "./HttpTransport.ts"
import { OrchestrateApi } from "./OrchestrateApi.ts"

/** How long the orchestrator may take to say how it is before a probe says it is not. */
const PROBE_DEADLINE = "2 seconds"

/** Ready as `status --wait` waits for it. */
const isReady = (agent: AgentStatus): boolean =>
  (agent.state === "running" && agent.health !== "unhealthy") || agent.state === "completed"

export const layer = (authentication: HttpAuthentication) =>
  HttpApiBuilder.group(OrchestrateApi, "probes", (handlers) =>
    OrchestratorQuery.useSync((query) => {
      const snapshot = query.snapshot.pipe(Effect.timeoutOption(PROBE_DEADLINE))
      const unanswered = `the orchestrator did not say how it is within ${PROBE_DEADLINE}`
      return handlers
        .handle("livez", () =>
          Effect.map(snapshot, (answered) =>
            answered._tag === "Some"
              ? json(200, { status: "live" })
              : json(503, { status: "error", code: 503, reason: "Unresponsive", error: unanswered })))
        .handle("readyz", () =>
          Effect.gen(function*() {
            const answered = yield* snapshot
            if (answered._tag === "None") return json(503, { status: "not ready", reason: unanswered })
            const { state, agents } = answered.value
            if (state !== "running") return json(503, { status: "not ready", reason: `the orchestrator is ${state}` })
            const unready = agents.filter((agent) => !isReady(agent))
            if (unready.length === 0) return json(200, { status: "ready" })
            const request = yield* HttpServerRequest.HttpServerRequest
            const named = !authentication.tokensRequired || authentication.presentsToken(request.headers["authorization"])
            return json(503, {
              status: "not ready",
              ...(named ? { agents: unready.map((agent) => ({ name: agent.agentName, state: agent.state, health: agent.health })) } : {})
            })
          }))
    }))
