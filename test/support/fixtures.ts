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
  health: null,
  probes: [],
  cpuPercent: null,
  memoryBytes: null,
  cpuSeconds: null,
  ...overrides
})

/**
 * A control port whose agent actions wait for `gate`. When `log` is given, each action is appended to it as it
 * starts (`stop db`), and the shutdown request as `shutdown requested`.
 */
export const gatedControl = (gate: Deferred.Deferred<void>, log?: Ref.Ref<ReadonlyArray<string>>) => {
  const note = (entry: string) => log === undefined ? Effect.void : Ref.update(log, (entries) => [...entries, entry])
  return Layer.succeed(OrchestratorControl, {
    control: (action, agent) =>
      note(`${action} ${agent}`).pipe(
        Effect.andThen(Deferred.await(gate)),
        Effect.as({
          message: `Agent '${agent}' ${action} done`,
          agent: agentStatus({ agentName: agent, state: "stopped", pid: null, uptimeSeconds: null }),
          already: false
        })
      ),
    requestShutdown: note("shutdown requested")
  })
}
