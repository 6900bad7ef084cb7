/**
 * The orthogonal routing of the dependency graph's edges (graphLayout.ts places the boxes): every edge runs in the
 * free space between boxes, so that none can be read as starting or ending at a box it only passes. An edge leaves
 * its dependency's right side on a port of its own, turns on a lane of its own in the gap right of that column,
 * and enters its dependent's left side on a port of its own. An edge that skips columns crosses them on a channel:
 * a horizontal track in the space between (or above, or below) the boxes of every column it crosses.
 *
 * What keeps segments of different edges from lying on top of each other: boxes sit on an 8 px grid; ports on a
 * dependent's left side are at multiples of 8, ports on a dependency's right side 4 off them, channels 2 off them,
 * and each vertical segment has a lane of its own in its gap.
 */

export interface Point {
  readonly x: number
  readonly y: number
}

/** A vertical segment to place in a gap: it comes in from the left at `inY` and goes out to the right at `outY`. */
export interface LaneItem {
  readonly inY: number
  readonly outY: number
}

export const GRID = 8
/** Between a channel and the boxes it passes, above and below. */
const CHANNEL_CLEARANCE = 8

/** `value` rounded up to the grid, plus `offset`. */
export const onGrid = (value: number, offset = 0): number => Math.ceil((value - offset) / GRID) * GRID + offset

const within = (y: number, a: number, b: number): boolean => y > Math.min(a, b) && y < Math.max(a, b)

/** How many crossings `left` on a lane left of `right` makes with it: each one's horizontals across the other's vertical. */
const crossings = (left: LaneItem, right: LaneItem): number =>
  (within(right.inY, left.inY, left.outY) ? 1 : 0) + (within(left.outY, right.inY, right.outY) ? 1 : 0)

/**
 * The items in lane order, left to right: each inserted where it crosses the fewest already placed (a greedy
 * answer to an ordering problem that is hard in general, and exact for the few edges a gap has in practice).
 */
export const orderLanes = <A extends LaneItem>(items: ReadonlyArray<A>): ReadonlyArray<A> => {
  const sorted = [...items].sort((a, b) => a.inY - b.inY || a.outY - b.outY)
  const order: Array<A> = []
  for (const item of sorted) {
    let best = 0
    let bestCost = Infinity
    for (let at = 0; at <= order.length; at++) {
      let cost = 0
      for (let i = 0; i < order.length; i++) {
        const other = order[i]
        if (other !== undefined) cost += i < at ? crossings(other, item) : crossings(item, other)
      }
      if (cost < bestCost) {
        best = at
        bestCost = cost
      }
    }
    order.splice(best, 0, item)
  }
  return order
}

export interface Span {
  readonly top: number
  readonly bottom: number
}

export interface ChannelRequest {
  /** The boxes' vertical extents of each column the channel crosses. */
  readonly crossed: ReadonlyArray<ReadonlyArray<Span>>
  /** The first and last gap it runs through: channels whose gaps meet never share a track. */
  readonly firstGap: number
  readonly lastGap: number
  /** Where it would best run: between its two ends. */
  readonly ideal: number
}

/**
 * A track for each channel: on the channel grid (2 off the 8 px grid), clear of every box it crosses, on no track
 * of a channel sharing a gap with it, as near its ideal as that allows; below everything when nothing between is free.
 */
export const chooseChannels = (requests: ReadonlyArray<ChannelRequest>, lowest: number): ReadonlyArray<number> => {
  const taken: Array<{ readonly y: number; readonly firstGap: number; readonly lastGap: number }> = []
  const limit = onGrid(lowest + CHANNEL_CLEARANCE, 2) + GRID * (requests.length + 1)
  return requests.map((request) => {
    const free = (y: number) =>
      request.crossed.every((column) => column.every((box) => y <= box.top - CHANNEL_CLEARANCE || y >= box.bottom + CHANNEL_CLEARANCE)) &&
      taken.every((other) => other.y !== y || other.lastGap < request.firstGap || other.firstGap > request.lastGap)
    let best: number | undefined
    for (let y = GRID + 2; y <= limit; y += GRID) {
      if (free(y) && (best === undefined || Math.abs(y - request.ideal) < Math.abs(best - request.ideal))) best = y
    }
    // The limit leaves a free track below the boxes for every channel, so there always is one.
    const y = best ?? limit
    taken.push({ y, firstGap: request.firstGap, lastGap: request.lastGap })
    return y
  })
}

/** `count` port heights on a side of a box from `top` to `bottom`, `spacing` apart, centred, on the grid plus `offset`. */
export const ports = (count: number, top: number, bottom: number, spacing: number, offset: number, margin: number): ReadonlyArray<number> => {
  const span = spacing * (count - 1)
  const first = Math.max(onGrid(top + margin, offset), onGrid((top + bottom - span) / 2 - GRID / 2, offset))
  return Array.from({ length: count }, (_, i) => first + i * spacing)
}

/** The smallest box height on the grid that holds `count` ports `spacing` apart with `margin` above and below. */
export const heightFor = (count: number, spacing: number, margin: number): number =>
  onGrid(spacing * Math.max(0, count - 1) + 2 * margin + GRID)

/** The polyline without repeated points or points in the middle of a straight run. */
export const simplify = (points: ReadonlyArray<Point>): ReadonlyArray<Point> => {
  const kept: Array<Point> = []
  for (const point of points) {
    const last = kept.at(-1)
    if (last !== undefined && last.x === point.x && last.y === point.y) continue
    const before = kept.at(-2)
    if (before !== undefined && last !== undefined &&
      ((before.x === last.x && last.x === point.x) || (before.y === last.y && last.y === point.y))) kept.pop()
    kept.push(point)
  }
  return kept
}

const RADIUS = 6

/** An SVG path through the points, its corners rounded (never by more than half the shorter segment). */
export const roundedPath = (points: ReadonlyArray<Point>): string => {
  const [first, ...rest] = points
  if (first === undefined) return ""
  const parts = [`M ${first.x} ${first.y}`]
  rest.forEach((corner, i) => {
    const before = points[i]
    const after = points[i + 2]
    if (before === undefined || after === undefined) return parts.push(`L ${corner.x} ${corner.y}`)
    const toward = (to: Point, r: number): Point => {
      const length = Math.hypot(to.x - corner.x, to.y - corner.y)
      return { x: corner.x + ((to.x - corner.x) / length) * r, y: corner.y + ((to.y - corner.y) / length) * r }
    }
    const r = Math.min(RADIUS, Math.hypot(corner.x - before.x, corner.y - before.y) / 2, Math.hypot(after.x - corner.x, after.y - corner.y) / 2)
    const a = toward(before, r)
    const b = toward(after, r)
    parts.push(`L ${a.x} ${a.y} Q ${corner.x} ${corner.y} ${b.x} ${b.y}`)
  })
  return parts.join(" ")
}
