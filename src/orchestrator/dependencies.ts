/**
 * Dependency conditions, as in Docker Compose's `depends_on` and process-compose: what a dependency must have done
 * before its dependent may start, and when it never will.
 */
import { HashMap, Option } from "effect"
import type { DependencyCondition } from "../protocol/Model.ts"
import type { AgentRecord } from "./AgentRecord.ts"
import type { Records } from "./AgentTable.ts"

/** One edge of the graph: the dependency, what it must have done, and whether its restarts restart the dependent. */
export interface Dependency {
  readonly agent: string
  readonly condition: DependencyCondition
  readonly restart: boolean
}

/** A `dependsOn` entry as written: a name (condition `ready`), or an edge with some of its fields. */
export type DependencyInput = string | {
  readonly agent: string
  readonly condition?: DependencyCondition | undefined
  readonly restart?: boolean | undefined
}

export const toDependency = (input: DependencyInput): Dependency =>
  typeof input === "string"
    ? { agent: input, condition: "ready", restart: false }
    : { agent: input.agent, condition: input.condition ?? "ready", restart: input.restart ?? false }

export const dependencyName = (input: DependencyInput): string => typeof input === "string" ? input : input.agent

/** What a dependency's record says about one edge: met, not yet, or never (which dependency, in what state, and why). */
export type Verdict =
  | { readonly _tag: "Met" }
  | { readonly _tag: "Waiting" }
  | { readonly _tag: "Never"; readonly dependency: string; readonly state: "failed" | "stopped"; readonly reason: string }

const met: Verdict = { _tag: "Met" }
const waiting: Verdict = { _tag: "Waiting" }

/** Ended by itself: completed, or failed with an exit code (not killed, not refused a start). */
const endedByItself = (record: AgentRecord) => record.state === "completed" || (record.state === "failed" && record.exitCode !== null)

const needs: Record<DependencyCondition, string> = {
  started: "needs it to start",
  ready: "needs it to be ready",
  completed: "needs it to complete",
  completed_successfully: "needs it to complete successfully"
}

/**
 * Whether `dependency` meets the edge's condition for `dependent`. A dependency on its way to a restart (requested,
 * or queued for a restart after its backoff) is waited for, never taken as failed.
 */
export const verdictOf = (dependent: string, edge: Dependency, dependency: AgentRecord): Verdict => {
  const { state } = dependency
  if (dependency.restarting || state === "queued" || state === "registered" || state === "stopping") return waiting
  if (state === "completed") return met
  if (state === "stopped") return { _tag: "Never", dependency: edge.agent, state: "stopped", reason: `dependency '${edge.agent}' stopped` }
  if (state === "failed") {
    if (edge.condition === "completed" && endedByItself(dependency)) return met
    const reason = edge.condition === "completed_successfully" && dependency.exitCode !== null
      ? `dependency '${edge.agent}' completed with exit code ${dependency.exitCode}, but '${dependent}' ${needs[edge.condition]}`
      : edge.condition === "ready"
      ? `dependency '${edge.agent}' failed`
      : `dependency '${edge.agent}' failed, but '${dependent}' ${needs[edge.condition]}`
    return { _tag: "Never", dependency: edge.agent, state: "failed", reason }
  }
  // starting, running or paused: alive.
  switch (edge.condition) {
    case "started":
      return met
    case "ready":
      return state === "starting" ? waiting : met
    case "completed":
    case "completed_successfully":
      return waiting
  }
}

/** The verdict on every edge of `dependent`: the first that can never be met, else waiting, else met. */
export const dependenciesVerdict = (dependent: string, edges: ReadonlyArray<Dependency>, records: Records): Verdict => {
  let result: Verdict = met
  for (const edge of edges) {
    const record = Option.getOrUndefined(HashMap.get(records, edge.agent))
    const verdict = record === undefined ? waiting : verdictOf(dependent, edge, record)
    if (verdict._tag === "Never") return verdict
    if (verdict._tag === "Waiting") result = waiting
  }
  return result
}
