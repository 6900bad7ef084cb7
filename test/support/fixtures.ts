/**
 * Shared test doubles for the orchestrator's ports.
 */
import { Deferred, Effect, Layer, Ref } from "effect"
import { OrchestratorControl } from "../../src/ports/OrchestratorControl.ts"
import type { AgentStatus } from "../../src/protocol/Model.ts"

export const agentStatus = (overrides: Partial<AgentStatus> & Pick<AgentStatus, "agentName">): AgentStatus => ({
  kind: "process",
  state: "running",
  pid: 1,
  uptimeSeconds: 1,
  startedAt: null,
  lastHeartbeat: null,
  restarts: 0,
  restartPolicy: "never",
  waitingFor: null,
  dependencies: [],
  exitCode: null,
  lastError: null,
  ...overrides
})

/** A control port whose agent actions wait for `gate`; its shutdown request is appended to `log` when given. */
export const gatedControl = (gate: Deferred.Deferred<void>, log?: Ref.Ref<ReadonlyArray<string>>) =>
  Layer.succeed(OrchestratorControl, {
    control: (action, agent) =>
      Effect.as(Deferred.await(gate), {
        message: `Agent '${agent}' ${action} done`,
        agent: agentStatus({ agentName: agent, state: "stopped", pid: null, uptimeSeconds: null })
      }),
    requestShutdown: log === undefined ? Effect.void : Ref.update(log, (entries) => [...entries, "shutdown requested"])
  })
