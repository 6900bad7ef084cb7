/**
 * The dependency graph laid out in columns by dependency depth, without a graph library: an agent with no
 * dependencies is in the first column, any other one column right of its deepest dependency, so that every edge
 * points right, in the order agents start. Within a column, agents sit in the order of their dependencies' rows
 * (the mean of them, start order breaking ties), which keeps most edges short and uncrossed; shorter columns are
 * centred on the tallest. Edges are routed orthogonally through the gaps (graphRouting.ts), each labelled with its
 * condition on its last segment, just before the arrow, where no other edge runs; the gaps are made as wide as
 * their lanes and labels need.
 */
import { chooseChannels, GRID, heightFor, type LaneItem, onGrid, orderLanes, type Point, ports, roundedPath, simplify } from "./graphRouting.ts"

export type { Point } from "./graphRouting.ts"

export interface GraphInput {
  readonly agents: ReadonlyArray<{
    readonly name: string
    readonly dependencies: ReadonlyArray<string>
    readonly edges?: ReadonlyArray<{ readonly agent: string; readonly condition: string; readonly restart: boolean }>
  }>
  readonly start_order: ReadonlyArray<string>
}

export interface Box {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

export interface PlacedNode extends Box {
  readonly name: string
  readonly depth: number
}

export interface PlacedEdge {
  /** The dependency, which starts first. */
  readonly from: string
  /** The agent that depends on it. */
  readonly to: string
  readonly condition: string | undefined
  readonly restart: boolean
  /** The condition in words, ↻ when the dependent restarts with it; "" without a condition. */
  readonly label: string
  /** Horizontal and vertical segments, from the dependency's right side to the dependent's left side. */
  readonly points: ReadonlyArray<Point>
  /** The points as an SVG path with rounded corners. */
  readonly path: string
  /** Where the label is drawn: right-aligned (`text-anchor: end`) at `labelX`, its baseline at `labelY`. */
  readonly labelX: number
  readonly labelY: number
  /** The space the label takes, with its halo; undefined without a label. */
  readonly labelBox: Box | undefined
}

export interface Layout {
  readonly nodes: ReadonlyArray<PlacedNode>
  readonly edges: ReadonlyArray<PlacedEdge>
  readonly width: number
  readonly height: number
}

export interface LayoutOptions {
  /** The width of a label's text in px (the page measures it; the estimate fits the 11 px sans-serif of the CSS). */
  readonly textWidth?: (text: string) => number
}

export const NODE_WIDTH = 176
const NODE_HEIGHT = 56
const ROW_GAP = 4 * GRID
const PADDING = 24
/** Above the first row: room for channels over every box. */
const TOP = 5 * GRID
const MIN_GAP = 72
/** From a column's right side to the first lane, and between lanes. */
const LANE_MARGIN = 14
const LANE_SPACING = 10
/** Between the last lane and the widest label, and the label's end and the arrow's tip. */
const LABEL_GAP = 10
const ARROW_ROOM = 12
const LABEL_HEIGHT = 14
/** A dependent's incoming ports: 16 apart, so that each label fits above its own segment, inside the box's height. */
const IN_SPACING = 2 * GRID
const IN_MARGIN = 2 * GRID
const OUT_SPACING = GRID
const OUT_MARGIN = 10

const CONDITION_TEXT: Readonly<Record<string, string>> = {
  started: "started",
  ready: "ready",
  completed: "completed",
  completed_successfully: "completed successfully"
}

/** A dependency condition in words: `completed_successfully` as "completed successfully". */
export const conditionText = (condition: string): string => CONDITION_TEXT[condition] ?? condition

/** What an edge's label says: the condition in words, and ↻ when the dependent restarts with its dependency. */
const edgeLabel = (condition: string | undefined, restart: boolean): string =>
  condition === undefined ? "" : `${conditionText(condition)}${restart ? " ↻" : ""}`

export const estimateTextWidth = (text: string): number => Math.ceil(text.length * 6.4)

/** Each agent's depth: 0 without dependencies, else one more than its deepest; a cycle (never accepted by the orchestrator) counts as 0. */
export const depths = (graph: GraphInput): ReadonlyMap<string, number> => {
  const byName = new Map(graph.agents.map((agent) => [agent.name, agent]))
  const depth = new Map<string, number>()
  const visiting = new Set<string>()
  const visit = (name: string): number => {
    const known = depth.get(name)
    if (known !== undefined) return known
    if (visiting.has(name)) return 0
    visiting.add(name)
    const dependencies = (byName.get(name)?.dependencies ?? []).filter((dependency) => byName.has(dependency))
    const value = dependencies.length === 0 ? 0 : 1 + Math.max(...dependencies.map(visit))
    visiting.delete(name)
    depth.set(name, value)
    return value
  }
  for (const agent of graph.agents) visit(agent.name)
  return depth
}

/** The agents of each column, in row order. */
const columnsOf = (graph: GraphInput, depth: ReadonlyMap<string, number>): ReadonlyArray<ReadonlyArray<string>> => {
  const startIndex = new Map(graph.start_order.map((name, i) => [name, i]))
  const orderOf = (name: string) => startIndex.get(name) ?? Number.MAX_SAFE_INTEGER
  const columns: Array<Array<string>> = []
  for (const agent of graph.agents) (columns[depth.get(agent.name) ?? 0] ??= []).push(agent.name)
  const row = new Map<string, number>()
  const byName = new Map(graph.agents.map((agent) => [agent.name, agent]))
  for (let d = 0; d < columns.length; d++) {
    const column = (columns[d] ??= [])
    const weight = (name: string): number => {
      const rows = (byName.get(name)?.dependencies ?? []).flatMap((dependency) => {
        const r = row.get(dependency)
        return r === undefined ? [] : [r]
      })
      return d === 0 || rows.length === 0 ? orderOf(name) : rows.reduce((a, b) => a + b, 0) / rows.length
    }
    const weights = new Map(column.map((name) => [name, weight(name)]))
    column.sort((a, b) => (weights.get(a) ?? 0) - (weights.get(b) ?? 0) || orderOf(a) - orderOf(b))
    column.forEach((name, i) => row.set(name, i))
  }
  return columns
}

interface Route {
  readonly from: string
  readonly to: string
  readonly fromColumn: number
  readonly toColumn: number
  readonly condition: string | undefined
  readonly restart: boolean
  readonly label: string
  readonly labelWidth: number
  channel?: number
  fromY?: number
  toY?: number
  /** The lanes of its first and last vertical segments (the same one for an edge between neighbouring columns). */
  firstLane?: number
  lastLane?: number
}

export const layout = (graph: GraphInput, options: LayoutOptions = {}): Layout => {
  const textWidth = options.textWidth ?? estimateTextWidth
  const depth = depths(graph)
  const columns = columnsOf(graph, depth)
  const columnOf = (name: string) => depth.get(name) ?? 0

  const routes: Array<Route> = []
  for (const agent of graph.agents) {
    for (const dependency of agent.dependencies) {
      if (!depth.has(dependency) || columnOf(dependency) >= columnOf(agent.name)) continue
      const edge = agent.edges?.find((e) => e.agent === dependency)
      const label = edgeLabel(edge?.condition, edge?.restart ?? false)
      routes.push({
        from: dependency,
        to: agent.name,
        fromColumn: columnOf(dependency),
        toColumn: columnOf(agent.name),
        condition: edge?.condition,
        restart: edge?.restart ?? false,
        label,
        labelWidth: label === "" ? 0 : textWidth(label)
      })
    }
  }
  const outgoing = (name: string) => routes.filter((route) => route.from === name)
  const incoming = (name: string) => routes.filter((route) => route.to === name)

  // Heights first (a box is as tall as its ports need), then each column stacked and centred on the tallest.
  const heights = new Map(graph.agents.map((agent) => [
    agent.name,
    Math.max(NODE_HEIGHT, heightFor(incoming(agent.name).length, IN_SPACING, IN_MARGIN), heightFor(outgoing(agent.name).length, OUT_SPACING, OUT_MARGIN))
  ]))
  const heightOf = (name: string) => heights.get(name) ?? NODE_HEIGHT
  const columnHeight = (column: ReadonlyArray<string>) =>
    column.reduce((total, name) => total + heightOf(name), 0) + ROW_GAP * Math.max(0, column.length - 1)
  const tallest = Math.max(0, ...columns.map(columnHeight))
  const top = new Map<string, number>()
  for (const column of columns) {
    let y = TOP + onGrid((tallest - columnHeight(column)) / 2 - GRID / 2)
    for (const name of column) {
      top.set(name, y)
      y += heightOf(name) + ROW_GAP
    }
  }
  const topOf = (name: string) => top.get(name) ?? TOP
  const centreOf = (name: string) => topOf(name) + heightOf(name) / 2
  const lowest = Math.max(TOP, ...graph.agents.map((agent) => topOf(agent.name) + heightOf(agent.name)))

  // Channels for the edges that skip columns.
  const skipping = routes.filter((route) => route.toColumn > route.fromColumn + 1)
  const tracks = chooseChannels(
    skipping.map((route) => ({
      crossed: columns.slice(route.fromColumn + 1, route.toColumn).map((column) =>
        column.map((name) => ({ top: topOf(name), bottom: topOf(name) + heightOf(name) }))
      ),
      firstGap: route.fromColumn,
      lastGap: route.toColumn - 1,
      ideal: (centreOf(route.from) + centreOf(route.to)) / 2
    })),
    lowest
  )
  skipping.forEach((route, i) => {
    const track = tracks[i]
    if (track !== undefined) route.channel = track
  })

  // Ports: on each side of a box in the order of where its edges go next, so that they do not cross at the box.
  for (const agent of graph.agents) {
    const name = agent.name
    const bottom = topOf(name) + heightOf(name)
    const out = outgoing(name).sort((a, b) => (a.channel ?? centreOf(a.to)) - (b.channel ?? centreOf(b.to)))
    const outYs = ports(out.length, topOf(name), bottom, OUT_SPACING, GRID / 2, OUT_MARGIN)
    out.forEach((route, i) => {
      route.fromY = outYs[i] ?? topOf(name)
    })
    const into = incoming(name).sort((a, b) => (a.channel ?? centreOf(a.from)) - (b.channel ?? centreOf(b.from)))
    const inYs = ports(into.length, topOf(name), bottom, IN_SPACING, 0, IN_MARGIN)
    into.forEach((route, i) => {
      route.toY = inYs[i] ?? topOf(name)
    })
  }

  // Lanes: each gap's vertical segments ordered to cross little; the gap as wide as its lanes and labels need.
  const gapWidths: Array<number> = []
  for (let gap = 0; gap < columns.length - 1; gap++) {
    const items: Array<LaneItem & { readonly route: Route; readonly end: "first" | "last" | "both" }> = []
    for (const route of routes) {
      const fromY = route.fromY ?? 0
      const toY = route.toY ?? 0
      if (route.fromColumn === gap && route.toColumn === gap + 1) items.push({ route, end: "both", inY: fromY, outY: toY })
      else if (route.fromColumn === gap) items.push({ route, end: "first", inY: fromY, outY: route.channel ?? fromY })
      else if (route.toColumn === gap + 1) items.push({ route, end: "last", inY: route.channel ?? toY, outY: toY })
    }
    orderLanes(items).forEach((item, lane) => {
      if (item.end !== "last") item.route.firstLane = lane
      if (item.end !== "first") item.route.lastLane = lane
    })
    const widest = Math.max(0, ...routes.filter((route) => route.toColumn === gap + 1).map((route) => route.labelWidth))
    const lanes = LANE_MARGIN + LANE_SPACING * Math.max(0, items.length - 1)
    gapWidths.push(Math.max(MIN_GAP, lanes + LABEL_GAP + (widest === 0 ? 0 : widest + 4) + ARROW_ROOM))
  }
  const columnX: Array<number> = []
  let x = PADDING
  columns.forEach((_, c) => {
    columnX.push(x)
    x += NODE_WIDTH + (gapWidths[c] ?? 0)
  })
  const laneX = (gap: number, lane: number | undefined) => (columnX[gap] ?? 0) + NODE_WIDTH + LANE_MARGIN + LANE_SPACING * (lane ?? 0)

  const nodes: Array<PlacedNode> = columns.flatMap((column, d) =>
    column.map((name) => ({ name, depth: d, x: columnX[d] ?? PADDING, y: topOf(name), width: NODE_WIDTH, height: heightOf(name) }))
  )
  const edges: Array<PlacedEdge> = routes.map((route) => {
    const fromY = route.fromY ?? 0
    const toY = route.toY ?? 0
    const start = { x: (columnX[route.fromColumn] ?? 0) + NODE_WIDTH, y: fromY }
    const end = { x: columnX[route.toColumn] ?? 0, y: toY }
    const first = laneX(route.fromColumn, route.firstLane)
    const last = laneX(route.toColumn - 1, route.lastLane)
    const channel = route.channel
    const points = simplify(channel === undefined
      ? [start, { x: first, y: fromY }, { x: first, y: toY }, end]
      : [start, { x: first, y: fromY }, { x: first, y: channel }, { x: last, y: channel }, { x: last, y: toY }, end])
    const labelX = end.x - ARROW_ROOM
    return {
      from: route.from,
      to: route.to,
      condition: route.condition,
      restart: route.restart,
      label: route.label,
      points,
      path: roundedPath(points),
      labelX,
      labelY: toY - 4,
      labelBox: route.label === ""
        ? undefined
        : { x: labelX - route.labelWidth - 2, y: toY - LABEL_HEIGHT - 1, width: route.labelWidth + 4, height: LABEL_HEIGHT }
    }
  })
  const deepest = Math.max(lowest, ...skipping.map((route) => route.channel ?? 0))
  return {
    nodes,
    edges,
    width: x + PADDING,
    height: deepest + PADDING
  }
}
