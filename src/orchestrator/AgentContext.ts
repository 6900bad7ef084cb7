/**
 * What an Effect agent gets from the orchestrator while it runs.
 */
import { Context, type Effect } from "effect"

export class AgentContext extends Context.Service<AgentContext, {
  readonly name: string
  /** Marks the agent ready (running); agents defined with `signalsReady: true` must call it. Idempotent. */
  readonly ready: Effect.Effect<void>
  /** Records that the agent is alive; the status reports the last one. */
  readonly heartbeat: Effect.Effect<void>
  /**
   * Returns at once while the agent runs and waits while it is paused. Call it at points where pausing is safe
   * (between units of work): a pause takes effect at the next checkpoint.
   */
  readonly checkpoint: Effect.Effect<void>
}>()("effect-orchestrate/AgentContext") {}
