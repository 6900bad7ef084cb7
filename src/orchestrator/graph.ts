/**
 * Dependency graph checks and ordering: the orchestrators validate their agents with it, start them in order, and
 * report the graph through the query port.
 */
import { Result } from "effect"
import type { DependencyGraph } from "../protocol/Commands.ts"
import type { AgentState } from "../protocol/Model.ts"
import type { Dependency } from "./dependencies.ts"

export interface GraphNode {
  readonly name: string
  readonly dependencies: ReadonlyArray<string>
}

export type GraphProblem =
  /** `index`: the node that names the unknown dependency. */
  | { readonly _tag: "UnknownDependency"; readonly agent: string; readonly dependency: string; readonly index: number }
  | { readonly _tag: "Cycle"; readonly path: ReadonlyArray<string> }
  /** `index`: a node that uses the name again, after its first. */
  | { readonly _tag: "DuplicateAgent"; readonly agent: string; readonly index: number }

export const describeGraphProblem = (problem: GraphProblem): string => {
  switch (problem._tag) {
    case "UnknownDependency":
      return `agent '${problem.agent}' depends on unknown agent '${problem.dependency}'`
    case "Cycle":
      return `dependency cycle: ${problem.path.join(" -> ")}`
    case "DuplicateAgent":
      return `agent name '${problem.agent}' is used more than once`
  }
}

/** The nodes by name (the first of a name), with every name used again and every unknown dependency. */
const indexed = (nodes: ReadonlyArray<GraphNode>) => {
  const byName = new Map<string, GraphNode>()
  const problems: Array<GraphProblem> = []
  nodes.forEach((node, index) => {
    if (byName.has(node.name)) problems.push({ _tag: "DuplicateAgent", agent: node.name, index })
    else byName.set(node.name, node)
  })
  nodes.forEach((node, index) => {
    for (const dependency of node.dependencies) {
      if (!byName.has(dependency)) problems.push({ _tag: "UnknownDependency", agent: node.name, dependency, index })
    }
  })
  return { byName, problems }
}

/**
 * Orders agents so that each comes after its dependencies, keeping the given order where the graph allows it, or
 * fails on the first cycle (naming its path). Unknown dependencies are passed over.
 */
const orderOf = (nodes: ReadonlyArray<GraphNode>, byName: ReadonlyMap<string, GraphNode>): Result.Result<ReadonlyArray<string>, GraphProblem> => {
  const order: Array<string> = []
  const done = new Set<string>()
  // Depth-first with an explicit stack of the current path, so a cycle can be reported as that path.
  for (const root of nodes) {
    if (done.has(root.name)) continue
    const path: Array<string> = []
    const onPath = new Set<string>()
    const stack: Array<{ readonly node: GraphNode; next: number }> = [{ node: root, next: 0 }]
    path.push(root.name)
    onPath.add(root.name)
    while (stack.length > 0) {
      const top = stack[stack.length - 1]
      if (top === undefined) break
      const dependency = top.node.dependencies[top.next++]
      if (dependency === undefined) {
        stack.pop()
        path.pop()
        onPath.delete(top.node.name)
        done.add(top.node.name)
        order.push(top.node.name)
        continue
      }
      if (done.has(dependency)) continue
      if (onPath.has(dependency)) {
        return Result.fail({ _tag: "Cycle", path: [...path.slice(path.indexOf(dependency)), dependency] })
      }
      const next = byName.get(dependency)
      if (next === undefined) continue
      stack.push({ node: next, next: 0 })
      path.push(dependency)
      onPath.add(dependency)
    }
  }
  return Result.succeed(order)
}

/**
 * Orders agents so that each comes after its dependencies, keeping the given order where the graph allows it;
 * fails on a duplicate name, an unknown dependency or a cycle (naming the cycle's path).
 */
export const startOrder = (nodes: ReadonlyArray<GraphNode>): Result.Result<ReadonlyArray<string>, GraphProblem> => {
  const { byName, problems } = indexed(nodes)
  const [first] = problems
  return first === undefined ? orderOf(nodes, byName) : Result.fail(first)
}

/** Every problem of the graph, for a config to report all at once: names used again, unknown dependencies, a cycle. */
export const graphProblems = (nodes: ReadonlyArray<GraphNode>): ReadonlyArray<GraphProblem> => {
  const { byName, problems } = indexed(nodes)
  const order = orderOf(nodes, byName)
  return Result.isFailure(order) ? [...problems, order.failure] : problems
}

/** The graph as the query port reports it, for agents in `order` (a valid start order of them). */
export const describeGraph = (
  agents: ReadonlyArray<GraphNode & { readonly state: AgentState; readonly edges?: ReadonlyArray<Dependency> }>,
  order: ReadonlyArray<string>
): DependencyGraph => {
  const dependents = dependentsOf(agents)
  return {
    agents: agents.map((agent) => ({
      name: agent.name,
      state: agent.state,
      dependencies: agent.dependencies,
      dependents: dependents.get(agent.name) ?? [],
      ...(agent.edges === undefined ? {} : { edges: agent.edges })
    })),
    startOrder: order
  }
}

/** For each agent, the agents that depend on it. */
export const dependentsOf = (nodes: ReadonlyArray<GraphNode>): ReadonlyMap<string, ReadonlyArray<string>> => {
  const dependents = new Map<string, Array<string>>(nodes.map((node) => [node.name, []]))
  for (const node of nodes) {
    for (const dependency of node.dependencies) dependents.get(dependency)?.push(node.name)
  }
  return dependents
}
