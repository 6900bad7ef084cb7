/**
 * The agent actions as buttons: their labels, and whether one does anything in an agent's state. The rule mirrors
 * the orchestrator's (src/orchestrator/AgentLifecycle.ts, `decide`): starting an agent a supervisor already has, or
 * stopping one it has not, only says it is already so; pausing needs a running agent, resuming a paused one. A
 * button that would do nothing is disabled, not hidden, so that rows keep their shape as states change.
 */
import type { AgentAction, AgentState } from "./wire.ts"

export const ACTION_LABELS: Readonly<Record<AgentAction, string>> = {
  start: "Start",
  stop: "Stop",
  restart: "Restart",
  pause: "Pause",
  resume: "Resume"
}

const SUPERVISED: ReadonlySet<AgentState> = new Set(["queued", "starting", "running", "paused", "stopping"])

export const applies = (action: AgentAction, state: AgentState): boolean => {
  switch (action) {
    case "start":
      return !SUPERVISED.has(state)
    case "stop":
      return SUPERVISED.has(state)
    case "restart":
      return true
    case "pause":
      return state === "running"
    case "resume":
      return state === "paused"
  }
}
