/**
 * The dependency graph's layout (src/web/graphLayout.ts): columns by dependency depth, so that every edge points
 * right; rows ordered by the dependencies' rows; and, for the demo stack and for any graph, what makes it readable:
 * no box overlaps another, every edge is made of horizontal and vertical segments that cross no box (so none seems
 * to start or end at a box it only passes), no two edges run on top of each other, and each label sits on its own
 * edge's last segment, overlapping no box, no other label and no other edge.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Schema } from "effect"
import { type Box, depths, layout, type Layout, NODE_WIDTH, type Point } from "../../src/web/graphLayout.ts"

const CONDITIONS = ["ready", "started", "completed", "completed_successfully"] as const

const agent = (name: string, dependencies: ReadonlyArray<string> = [], condition = "ready") => ({
  name,
  dependencies,
  edges: dependencies.map((dependency) => ({ agent: dependency, condition, restart: dependency === "db" }))
})

const demo = {
  agents: [agent("db"), agent("api", ["db"]), agent("worker", ["api"]), agent("migrate", ["db"], "started"), agent("flaky")],
  start_order: ["db", "flaky", "api", "migrate", "worker"]
}

/** The browser tests' stack, whose first drawing had db->api run through search and labels on boxes. */
const stack = {
  agents: [
    agent("db"),
    agent("migrate", ["db"]),
    {
      name: "api",
      dependencies: ["db", "migrate"],
      edges: [{ agent: "db", condition: "ready", restart: false }, { agent: "migrate", condition: "completed_successfully", restart: false }]
    },
    agent("worker", ["api"]),
    agent("mailer", ["api"], "started"),
    agent("search", ["db"]),
    agent("cache"),
    agent("reports", ["db"])
  ],
  start_order: ["db", "migrate", "api", "worker", "mailer", "search", "cache", "reports"]
}

interface Segment {
  readonly a: Point
  readonly b: Point
}

const segments = (points: ReadonlyArray<Point>): ReadonlyArray<Segment> =>
  points.slice(1).map((b, i) => ({ a: points[i] ?? b, b }))

/** Whether the segment has a point strictly inside the box. */
const enters = ({ a, b }: Segment, box: Box): boolean => {
  const [x0, x1] = [Math.min(a.x, b.x), Math.max(a.x, b.x)]
  const [y0, y1] = [Math.min(a.y, b.y), Math.max(a.y, b.y)]
  const xs = a.x === b.x ? a.x > box.x && a.x < box.x + box.width : Math.max(x0, box.x) < Math.min(x1, box.x + box.width)
  const ys = a.y === b.y ? a.y > box.y && a.y < box.y + box.height : Math.max(y0, box.y) < Math.min(y1, box.y + box.height)
  return xs && ys
}

const overlap = (p: Box, q: Box): boolean =>
  p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height

/** Two segments on one line sharing more than a point. */
const collinear = (s: Segment, t: Segment): boolean => {
  const run = (u: number, v: number, p: number, q: number) => Math.min(Math.max(u, v), Math.max(p, q)) - Math.max(Math.min(u, v), Math.min(p, q)) > 0
  if (s.a.y === s.b.y && t.a.y === t.b.y && s.a.y === t.a.y) return run(s.a.x, s.b.x, t.a.x, t.b.x)
  if (s.a.x === s.b.x && t.a.x === t.b.x && s.a.x === t.a.x) return run(s.a.y, s.b.y, t.a.y, t.b.y)
  return false
}

/** Every property the page's readability rests on; the first broken one, or undefined. */
const problems = (placed: Layout): ReadonlyArray<string> => {
  const found: Array<string> = []
  const at = new Map(placed.nodes.map((node) => [node.name, node]))
  for (const p of placed.nodes) {
    for (const q of placed.nodes) if (p !== q && overlap(p, q)) found.push(`${p.name} overlaps ${q.name}`)
    if (p.x < 0 || p.y < 0 || p.x + p.width > placed.width || p.y + p.height > placed.height) found.push(`${p.name} outside the drawing`)
  }
  for (const edge of placed.edges) {
    const name = `${edge.from}->${edge.to}`
    const from = at.get(edge.from)
    const to = at.get(edge.to)
    const first = edge.points[0]
    const last = edge.points.at(-1)
    if (from === undefined || to === undefined || first === undefined || last === undefined) {
      found.push(`${name} has no ends`)
      continue
    }
    if (first.x !== from.x + from.width || first.y <= from.y || first.y >= from.y + from.height) found.push(`${name} leaves ${edge.from} elsewhere than its right side`)
    if (last.x !== to.x || last.y <= to.y || last.y >= to.y + to.height) found.push(`${name} enters ${edge.to} elsewhere than its left side`)
    for (const segment of segments(edge.points)) {
      if (segment.a.x !== segment.b.x && segment.a.y !== segment.b.y) found.push(`${name} has a slanted segment`)
      for (const node of placed.nodes) if (enters(segment, node)) found.push(`${name} crosses ${node.name}`)
    }
    for (const point of edge.points) {
      if (point.x < 0 || point.y < 0 || point.x > placed.width || point.y > placed.height) found.push(`${name} leaves the drawing`)
    }
    const label = edge.labelBox
    if (label === undefined) continue
    const lastSegment = segments(edge.points).at(-1)
    if (lastSegment === undefined || !(lastSegment.a.y === last.y && label.y + label.height <= last.y && label.y + label.height >= last.y - 2 &&
      label.x >= Math.min(lastSegment.a.x, lastSegment.b.x) && label.x + label.width <= last.x)) {
      found.push(`${name}'s label is not on its last segment`)
    }
    for (const node of placed.nodes) if (overlap(label, node)) found.push(`${name}'s label overlaps ${node.name}`)
    for (const other of placed.edges) {
      if (other === edge) continue
      const otherName = `${other.from}->${other.to}`
      if (other.labelBox !== undefined && overlap(label, other.labelBox)) found.push(`${name}'s label overlaps ${otherName}'s`)
      for (const segment of segments(other.points)) {
        if (enters(segment, label)) found.push(`${otherName} crosses ${name}'s label`)
      }
    }
  }
  placed.edges.forEach((edge, i) => {
    for (const other of placed.edges.slice(i + 1)) {
      for (const s of segments(edge.points)) {
        for (const t of segments(other.points)) {
          if (collinear(s, t)) found.push(`${edge.from}->${edge.to} runs on ${other.from}->${other.to}`)
        }
      }
    }
  })
  return [...new Set(found)]
}

/**
 * Any graph without cycles: agent i depends on some of agents 0..i-1 (each number picks one), with any conditions,
 * as many agents as a real config has.
 */
const Graphs = Arbitrary.array(
  Arbitrary.schema(Schema.Struct({
    picks: Schema.Array(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 999 }))),
    condition: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 3 })),
    restart: Schema.Boolean
  })),
  { minLength: 1, maxLength: 24 }
)

const graphOf = (specs: ReadonlyArray<{ readonly picks: ReadonlyArray<number>; readonly condition: number; readonly restart: boolean }>) => {
  const agents = specs.map((spec, i) => {
    const dependencies = i === 0 ? [] : [...new Set(spec.picks.slice(0, 4).map((pick) => `a${pick % i}`))]
    const condition = CONDITIONS[spec.condition] ?? "ready"
    return { name: `a${i}`, dependencies, edges: dependencies.map((dependency) => ({ agent: dependency, condition, restart: spec.restart })) }
  })
  return { agents, start_order: agents.map((a) => a.name) }
}

describe("the dependency graph's layout", () => {
  it("puts each agent one column right of its deepest dependency", () => {
    expect(Object.fromEntries(depths(demo))).toEqual({ db: 0, api: 1, worker: 2, migrate: 1, flaky: 0 })
    expect(Object.fromEntries(depths({
      agents: [agent("a"), agent("b", ["a"]), agent("c", ["a", "b"]), agent("d", ["c", "ghost"])],
      start_order: []
    }))).toEqual({ a: 0, b: 1, c: 2, d: 3 })
  })

  it("draws every edge rightwards, labelled with its condition, the first column in start order", () => {
    const placed = layout(demo)
    const at = new Map(placed.nodes.map((node) => [node.name, node]))
    expect(placed.edges.map((edge) => [edge.from, edge.to, edge.condition, edge.restart, edge.label])).toEqual([
      ["db", "api", "ready", true, "ready ↻"],
      ["api", "worker", "ready", false, "ready"],
      ["db", "migrate", "started", true, "started ↻"]
    ])
    for (const edge of placed.edges) {
      expect((at.get(edge.from)?.x ?? Infinity) + NODE_WIDTH).toBeLessThan(at.get(edge.to)?.x ?? -Infinity)
      expect(edge.path).toMatch(/^M [\d.]+ [\d.]+ (L|Q) /)
    }
    expect(placed.nodes.filter((node) => node.depth === 0).map((node) => node.name)).toEqual(["db", "flaky"])
    expect(at.get("api")?.y).toBeLessThan(at.get("migrate")?.y ?? 0)
    expect(problems(placed)).toEqual([])
  })

  it("routes db->api around search, and keeps every label off boxes and other edges, in the browser tests' stack", () => {
    const placed = layout(stack)
    expect(problems(placed)).toEqual([])
    const dbToApi = placed.edges.find((edge) => edge.from === "db" && edge.to === "api")
    const search = placed.nodes.find((node) => node.name === "search")
    expect(dbToApi?.label).toBe("ready")
    // The edge passes search's column above or below the box, not level with it.
    const crossing = segments(dbToApi?.points ?? []).find((s) => s.a.y === s.b.y && search !== undefined &&
      Math.min(s.a.x, s.b.x) < search.x && Math.max(s.a.x, s.b.x) > search.x + search.width)
    expect(crossing).toBeDefined()
    expect(search !== undefined && crossing !== undefined &&
      (crossing.a.y < search.y || crossing.a.y > search.y + search.height)).toBe(true)
    expect(placed.edges.find((edge) => edge.to === "api" && edge.from === "migrate")?.label).toBe("completed successfully")
  })

  it("finds each of those faults in a drawing that has them, as the first one had", () => {
    const box = (name: string, x: number, y: number) => ({ name, depth: 0, x, y, width: 100, height: 40 })
    const edge = (from: string, to: string, points: ReadonlyArray<Point>, labelBox: Box) =>
      ({ from, to, condition: "ready", restart: false, label: "ready", points, path: "", labelX: 0, labelY: 0, labelBox })
    const faulty: Layout = {
      nodes: [box("db", 0, 0), box("search", 200, 0), box("api", 400, 0), box("migrate", 200, 100)],
      edges: [
        edge("db", "api", [{ x: 100, y: 20 }, { x: 400, y: 20 }], { x: 190, y: 5, width: 30, height: 14 }),
        edge("migrate", "api", [{ x: 300, y: 120 }, { x: 350, y: 120 }, { x: 350, y: 20 }, { x: 400, y: 20 }], { x: 360, y: 5, width: 30, height: 14 }),
        edge("db", "migrate", [{ x: 100, y: 30 }, { x: 200, y: 110 }], { x: 365, y: 8, width: 30, height: 14 })
      ],
      width: 500,
      height: 140
    }
    expect(problems(faulty)).toEqual(expect.arrayContaining([
      "db->api crosses search",
      "db->api's label overlaps search",
      "db->api runs on migrate->api",
      "db->migrate has a slanted segment",
      "db->migrate's label is not on its last segment",
      "db->migrate's label overlaps migrate->api's",
      "db->api crosses db->migrate's label"
    ]))
  })

  it.prop("keeps edges off boxes and each other, and labels free, for any graph", [Graphs], ([specs]) => {
    const placed = layout(graphOf(specs))
    expect(problems(placed)).toEqual([])
  })

  it("orders a column by its agents' dependencies, so that edges do not cross", () => {
    const placed = layout({
      agents: [agent("a"), agent("b"), agent("from-b", ["b"]), agent("from-a", ["a"])],
      start_order: ["a", "b", "from-b", "from-a"]
    })
    const y = new Map(placed.nodes.map((node) => [node.name, node.y]))
    expect((y.get("from-a") ?? 0) < (y.get("from-b") ?? 0)).toBe(true)
  })

  it("makes a box with many edges tall enough for a port and a label each", () => {
    const names = ["a", "b", "c", "d", "e", "f"]
    const placed = layout({ agents: [...names.map((name) => agent(name)), agent("hub", names)], start_order: [] })
    const hub = placed.nodes.find((node) => node.name === "hub")
    expect(hub?.height).toBeGreaterThanOrEqual(6 * 16)
    expect(new Set(placed.edges.map((edge) => edge.points.at(-1)?.y)).size).toBe(6)
    expect(problems(placed)).toEqual([])
  })

  it("lays out a cycle, which the orchestrator never accepts, without hanging", () => {
    const placed = layout({ agents: [agent("a", ["b"]), agent("b", ["a"])], start_order: [] })
    expect(placed.nodes.map((node) => node.name).sort()).toEqual(["a", "b"])
    expect(layout({ agents: [], start_order: [] }).nodes).toEqual([])
  })
})
