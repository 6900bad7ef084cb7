/**
 * What an operator's action does to an agent in a given state: the one set of rules both orchestrators follow
 * (the real one, and InMemoryOrchestrator for tests of the command interface), so that the interface's tests
 * see the same answers as production.
 *
 * An agent is *supervised* from the moment it is queued until it ends: a supervisor is waiting for, running or
 * stopping it. Starting a supervised agent, or stopping one that is not, asks for the state it is already in,
 * which succeeds and says so. Pausing and resuming need a running program.
 */
import type { AgentAction } from "../ports/OrchestratorControl.ts"
import type { AgentState } from "../protocol/Model.ts"

/** Whether a supervisor has the agent: queued, starting, running, paused or stopping. */
export const isSupervised = (state: AgentState): boolean =>
  state === "queued" || state === "starting" || state === "running" || state === "paused" || state === "stopping"

/** What to do: carry the action out, answer that the agent is already there, or refuse it for this state. */
export type Decision = "act" | "already" | "refuse"

export const decide = (action: AgentAction, state: AgentState): Decision => {
  switch (action) {
    case "start":
      return isSupervised(state) ? "already" : "act"
    case "stop":
      return isSupervised(state) ? "act" : "already"
    case "restart":
      return "act"
    case "pause":
      return state === "running" ? "act" : state === "paused" ? "already" : "refuse"
    case "resume":
      return state === "paused" ? "act" : state === "running" ? "already" : "refuse"
  }
}

/** The state an agent settles in once an action it was given has been carried out and nothing else happened. */
export const settledState = (action: AgentAction): AgentState => {
  switch (action) {
    case "start":
    case "restart":
    case "resume":
      return "running"
    case "stop":
      return "stopped"
    case "pause":
      return "paused"
  }
}

export const pastTense: Record<AgentAction, string> = {
  start: "started",
  stop: "stopped",
  restart: "restarted",
  pause: "paused",
  resume: "resumed"
}
