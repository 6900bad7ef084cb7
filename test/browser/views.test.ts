/**
 * Every view of the dashboard over a realistic stack (a database, an API behind an HTTP readiness probe, workers,
 * a migration that completed, a report job that failed, a cache still warming, an agent stopped and one paused):
 * what each view shows, that moving between them never reloads the page or logs an error, at 1400 px and 360 px,
 * light and dark. Each view is saved as test-artifacts/browser/<view>.png; with ORCHESTRATE_UPDATE_SCREENSHOT=1 the
 * agents view is also written to docs/dashboard.png, the README's screenshot.
 */
import { NodeServices } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as Path from "node:path"
import type { Page } from "playwright-core"
import { packageRoot } from "../../src/packageRoot.ts"
import { freePort } from "../support/net.ts"
import { Chromium, openPage, screenshot, unexpectedProblems } from "./support/chromium.ts"
import {
  agentRow,
  attributes,
  awaitCell,
  awaitStates,
  browse,
  control,
  evaluate,
  history,
  listedAgents,
  navigate,
  nodeAgent,
  openDashboard,
  ps,
  rowSeqs,
  startDashboard
} from "./support/dashboard.ts"

const DOCS_SCREENSHOT = Path.join(packageRoot(), "docs", "dashboard.png")

/** The demo stack's programs: small, but they print what such services print. */
const DB = `
const port = Number(process.env.PORT)
require("node:net").createServer((socket) => socket.end()).listen(port, "127.0.0.1", () =>
  console.log("db: database system is ready to accept connections on 127.0.0.1:" + port))
let checkpoint = 0
setInterval(() => console.log("db: checkpoint " + ++checkpoint + " complete: wrote " + (40 + checkpoint * 7) + " buffers"), 2000)`

/** It listens only after warming up, so that its probes' first tries fail: a past failure, healthy now. */
const API = `
const port = Number(process.env.PORT)
const server = require("node:http").createServer((request, response) => {
  response.end("ok")
  console.log("api: " + request.method + " " + request.url + " 200")
})
console.log("api: warming the route cache")
setTimeout(() => server.listen(port, "127.0.0.1", () => console.log("api: listening on http://127.0.0.1:" + port)), 1500)
setInterval(() => console.error("api: slow query on /orders took 812 ms"), 3000)`

const WORKER = `
let job = 0
setInterval(() => console.log("worker: job " + ++job + " (send-invoice) done in " + (20 + job % 7) + " ms"), 700)`

const MIGRATE = `
for (const name of ["0041_orders", "0042_orders_index", "0043_invoices"]) console.log("migrate: applied " + name)
console.log("migrate: schema is up to date")`

const CACHE = `
let keys = 0
setInterval(() => console.log("cache: warming, " + (keys += 125000) + " keys loaded"), 1000)`

const QUIET = `setInterval(() => {}, 1000)`

const REPORTS = `console.error("reports: cannot reach the warehouse at 10.0.4.12:5432 (ECONNREFUSED)"); process.exit(3)`

const demoAgents = (dbPort: number, apiPort: number) => [
  nodeAgent("db", DB, { env: { PORT: String(dbPort) }, readiness: { tcp: { port: dbPort }, period: "1 second" }, restart: "on-failure" }),
  nodeAgent("migrate", MIGRATE, { dependsOn: ["db"] }),
  nodeAgent("api", API, {
    env: { PORT: String(apiPort) },
    dependsOn: ["db", { agent: "migrate", condition: "completed_successfully" }],
    readiness: { http: { url: "http://127.0.0.1:${PORT}/healthz" }, period: "2 seconds" },
    liveness: { http: { url: "http://127.0.0.1:${PORT}/livez" }, period: "5 seconds" },
    restart: "on-failure"
  }),
  nodeAgent("worker", WORKER, { dependsOn: ["api"], restart: "always" }),
  nodeAgent("mailer", QUIET, { dependsOn: [{ agent: "api", condition: "started" }] }),
  nodeAgent("search", QUIET, { dependsOn: ["db"] }),
  nodeAgent("cache", CACHE, { readyLine: "^cache: warm$" }),
  nodeAgent("reports", REPORTS, { dependsOn: ["db"], restart: "on-failure", maxRestarts: 2, backoff: { initial: "100 millis" } })
]

const NAMES = ["api", "cache", "db", "mailer", "migrate", "reports", "search", "worker"]

const Numbers = Schema.decodeUnknownSync(Schema.Array(Schema.Number))

/** The stack, with an agent stopped, one paused and one restarted by an operator, settled. */
const demoStack = Effect.gen(function*() {
  const dashboard = yield* startDashboard({ agents: demoAgents(yield* freePort, yield* freePort) })
  yield* awaitStates(dashboard.address, {
    db: "running", migrate: "completed", api: "running", worker: "running", mailer: "running", search: "running",
    reports: "failed", cache: "starting"
  })
  yield* control(dashboard.address, ["stop", "mailer", "--reason", "maintenance window"])
  yield* control(dashboard.address, ["pause", "search", "--reason", "reindexing"])
  yield* control(dashboard.address, ["restart", "worker", "--reason", "deploy 1.4.2"])
  yield* awaitStates(dashboard.address, { mailer: "stopped", search: "paused", worker: "running" })
  return dashboard
})

/**
 * What is wrong with the drawn dependency graph, read from the SVG: edges sampled every 2 px against every box's
 * inside, and labels' boxes (`getBBox`, so with the fonts the browser drew) against boxes, each other and other edges.
 */
const GRAPH_FAULTS = `(() => {
  const svg = document.querySelector('svg[data-testid="dependency-graph"]')
  const rectOf = (x, y, w, h) => ({ x, y, w, h })
  const boxes = [...svg.querySelectorAll("g[data-agent]")].map((group) => {
    const rect = group.querySelector("rect")
    return { name: group.dataset.agent, ...rectOf(+rect.getAttribute("x"), +rect.getAttribute("y"), +rect.getAttribute("width"), +rect.getAttribute("height")) }
  })
  const inside = (p, r, margin) => p.x > r.x + margin && p.x < r.x + r.w - margin && p.y > r.y + margin && p.y < r.y + r.h - margin
  const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
  const edges = [...svg.querySelectorAll("[data-edge]")].map((edge) => {
    const path = edge.querySelector("path")
    const points = []
    for (let at = 0; at <= path.getTotalLength(); at += 2) points.push(path.getPointAtLength(at))
    const text = edge.querySelector("text")
    const label = text === null ? undefined : text.getBBox()
    return { name: edge.dataset.edge, points, label: label && rectOf(label.x, label.y, label.width, label.height) }
  })
  const faults = []
  for (const edge of edges) {
    for (const box of boxes) {
      if (edge.points.some((p) => inside(p, box, 1))) faults.push(edge.name + " passes through " + box.name)
      if (edge.label && overlap(edge.label, box)) faults.push(edge.name + "'s label is on " + box.name)
    }
    for (const other of edges) {
      if (other === edge || !edge.label) continue
      if (other.label && overlap(edge.label, other.label)) faults.push(edge.name + "'s label is on " + other.name + "'s")
      if (other.points.some((p) => inside(p, edge.label, 0.5))) faults.push(other.name + " runs through " + edge.name + "'s label")
    }
  }
  return [...new Set(faults)]
})()`

/** Every state cell says what ps says, in words. */
const expectStatesOfPs = (page: Page, address: string) =>
  Effect.gen(function*() {
    for (const agent of yield* ps(address)) yield* awaitCell(page, agent.name, "state", agent.state)
  })

layer(Layer.merge(Chromium.layer, NodeServices.layer), { excludeTestServices: true, timeout: 60_000 })("the dashboard's views", (it) => {
  it.effect("agents, detail, events, audit and dependencies render what the orchestrator says, without reloads or console errors", () =>
    Effect.gen(function*() {
      const dashboard = yield* demoStack
      const session = yield* openPage({ viewport: { width: 1400, height: 900 } })
      const { page } = session
      yield* openDashboard(page, dashboard.url)

      // Agents: every agent, its state in words, the summary, sorting and filtering.
      expect([...(yield* listedAgents(page))].sort()).toEqual(NAMES)
      yield* expectStatesOfPs(page, dashboard.address)
      yield* awaitCell(page, "worker", "restarts", /^1$/)
      yield* awaitCell(page, "reports", "restarts", /^2$/)
      expect(yield* browse(() => page.locator(`[data-testid="summary-state"]`).textContent())).toContain("running")
      // Settled as an operator would see it most of the time: the api's warm-up over, its probes passing.
      yield* awaitCell(page, "api", "health", "healthy")
      yield* screenshot(page, "agents", { fullPage: false })
      if (process.env["ORCHESTRATE_UPDATE_SCREENSHOT"] === "1") {
        yield* screenshot(page, "dashboard", { fullPage: false, path: DOCS_SCREENSHOT })
      }

      const nameHeader = page.locator(`table[data-testid="agents"] th`).filter({ has: page.getByRole("button", { name: /^name/i }) })
      yield* browse(() => nameHeader.getByRole("button").click())
      const firstSort = yield* browse(() => nameHeader.getAttribute("aria-sort"))
      expect(["ascending", "descending"]).toContain(firstSort)
      expect(yield* listedAgents(page)).toEqual(firstSort === "ascending" ? NAMES : [...NAMES].reverse())
      yield* browse(() => nameHeader.getByRole("button").click())
      expect(yield* browse(() => nameHeader.getAttribute("aria-sort"))).toBe(firstSort === "ascending" ? "descending" : "ascending")
      expect(yield* listedAgents(page)).toEqual(firstSort === "ascending" ? [...NAMES].reverse() : NAMES)

      const filter = page.locator(`input[data-testid="agent-filter"]`)
      expect(yield* evaluate(page, `(() => {
        const input = document.querySelector('input[data-testid="agent-filter"]')
        return input.labels.length > 0 || (input.getAttribute("aria-label") ?? "") !== ""
      })()`), "the filter has a label").toBe(true)
      yield* browse(() => filter.fill("re"))
      yield* browse(() => expect.poll(() => page.locator(`table[data-testid="agents"] tr[data-agent]:visible`).count()).toBe(1))
      yield* browse(() => agentRow(page, "reports").waitFor())
      yield* browse(() => filter.fill(""))
      yield* browse(() => expect.poll(() => page.locator(`table[data-testid="agents"] tr[data-agent]:visible`).count()).toBe(NAMES.length))
      expect(yield* browse(() => page.getByText(`${NAMES.length} agents`, { exact: true }).count())).toBe(1)

      // The keyboard goes down a column with ↓ and up with ↑, the focus ring showing where it is.
      const [firstAgent = "", secondAgent = ""] = yield* listedAgents(page)
      yield* browse(() => agentRow(page, firstAgent).locator(`input[data-select]`).focus())
      yield* browse(() => page.keyboard.press("ArrowDown"))
      expect(yield* evaluate(page, `document.activeElement?.getAttribute("data-select")`)).toBe(secondAgent)
      yield* browse(() => page.keyboard.press("Tab"))
      expect(yield* evaluate(page, `document.activeElement?.textContent`)).toBe(secondAgent)
      yield* browse(() => page.keyboard.press("ArrowUp"))
      expect(yield* evaluate(page, `document.activeElement?.closest("tr")?.dataset.agent + " " + document.activeElement?.tagName`)).toBe(`${firstAgent} A`)
      expect(yield* evaluate(page, `getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth`))
        .toBe("solid 2px")

      // Detail: from the name's link; status, the probes, and the log tail.
      yield* browse(() => agentRow(page, "api").locator(`td[data-col="name"] a`).click())
      const detail = page.locator(`[data-testid="agent-detail"][data-agent="api"]`)
      yield* browse(() => detail.waitFor())
      expect(yield* evaluate(page, "location.hash")).toBe("#/agent/api")
      const probes = detail.locator(`[data-testid="probes"]`)
      yield* browse(() => expect.poll(() => probes.textContent()).toMatch(/readiness[\s\S]*liveness|liveness[\s\S]*readiness/))
      expect(yield* browse(() => probes.textContent())).toContain(`http://127.0.0.1:`)
      // The readiness probe failed while the api warmed up and is healthy now: its failure is said as past,
      // with its time, in the muted colour of the labels rather than in red; so is the Last error's "-".
      const readiness = probes.locator(`tr[data-probe="readiness"]`)
      yield* browse(() => expect.poll(() => readiness.locator(`td[data-col="health"]`).textContent()).toContain("healthy"))
      yield* browse(() => expect.poll(() => readiness.locator(`td[data-col="failure"]`).textContent()).toMatch(/^at \d\d:\d\d:\d\d, \d+s ago: .*ECONNREFUSED/))
      const colorOf = (selector: string) => evaluate(page, `getComputedStyle(document.querySelector(${JSON.stringify(selector)})).color`)
      const muted = yield* colorOf(`[data-testid="agent-detail"] .fact dt`)
      expect(yield* colorOf(`[data-testid="probes"] tr[data-probe="readiness"] td[data-col="failure"] > span`)).toBe(muted)
      expect(yield* browse(() => detail.locator(`[data-fact="last-error"] dd`).textContent())).toBe("-")
      expect(yield* colorOf(`[data-testid="agent-detail"] [data-fact="last-error"] dd > span`)).toBe(muted)
      yield* browse(() => detail.locator(`[data-testid="log-tail"] .log-line`).filter({ hasText: "api: listening on" }).waitFor())
      yield* browse(() => detail.locator(`[data-testid="log-tail"] .log-line[data-stream="stderr"]`).first().waitFor())
      for (const control of ["log-pause", "log-stream", "log-filter", "log-older"]) {
        expect(yield* browse(() => detail.locator(`[data-testid="${control}"]`).count()), control).toBe(1)
      }
      const pause = detail.locator(`button[data-testid="log-pause"]`)
      expect(yield* browse(() => pause.getAttribute("aria-pressed"))).toBe("false")
      yield* browse(() => pause.click())
      expect(yield* browse(() => pause.getAttribute("aria-pressed"))).toBe("true")
      yield* browse(() => pause.click())
      expect(yield* browse(() => pause.getAttribute("aria-pressed"))).toBe("false")
      expect(yield* attributes(page, `select[data-testid="log-stream"] option`, "value")).toEqual(["all", "stdout", "stderr"])
      yield* browse(() => detail.locator(`select[data-testid="log-stream"]`).selectOption("stderr"))
      const shownLines = (stream: string) => detail.locator(`[data-testid="log-tail"] .log-line[data-stream="${stream}"]:visible`)
      yield* browse(() => expect.poll(() => shownLines("stdout").count()).toBe(0))
      expect(yield* browse(() => shownLines("stderr").count())).toBeGreaterThan(0)
      yield* browse(() => detail.locator(`select[data-testid="log-stream"]`).selectOption("all"))
      yield* browse(() => expect.poll(() => shownLines("stdout").count()).toBeGreaterThan(0))
      yield* screenshot(page, "agent-detail")

      // Events: the history, the failed report job among it.
      yield* navigate(page, "#/events")
      const failed = (yield* history(dashboard.address, ["--event", "AGENT_FAILED", "--agent", "reports"]))[0]
      expect(failed).toBeDefined()
      const failedRow = page.locator(`table[data-testid="events"] tr[data-seq="${failed?.seq}"]`)
      yield* browse(() => failedRow.waitFor())
      expect(yield* browse(() => failedRow.locator(`td[data-col="event"]`).textContent())).toContain("AGENT_FAILED")
      expect(yield* browse(() => failedRow.locator(`td[data-col="agent"]`).textContent())).toContain("reports")
      for (const filterControl of ["event-category", "event-agent", "event-name"]) {
        expect(yield* browse(() => page.locator(`[data-testid="${filterControl}"]`).count()), filterControl).toBe(1)
      }
      // By default what `orchestrate history` shows: the agents' and the orchestrator's events, no audit records
      // (the page's own requests among them), and no heartbeats.
      expect(yield* browse(() => page.locator(`select[data-testid="event-category"]`).inputValue())).toBe("agent,orchestrator")
      const shownCategories = yield* browse(() => page.locator(`table[data-testid="events"] tr[data-seq] td[data-col="category"]`).allTextContents())
      expect([...new Set(shownCategories)].sort()).toEqual(["agent", "orchestrator"])
      expect(yield* browse(() => page.locator(`table[data-testid="events"] td[data-col="event"]`).filter({ hasText: "AGENT_HEARTBEAT" }).count())).toBe(0)
      const agentFilter = page.locator(`input[data-testid="event-agent"]`)
      const shownAgents = () =>
        page.locator(`table[data-testid="events"] tr[data-seq]:visible td[data-col="agent"]`).allTextContents()
      yield* browse(() => agentFilter.fill("reports"))
      yield* browse(() => expect.poll(async () => [...new Set((await shownAgents()).map((agent) => agent.trim()))]).toEqual(["reports"]))
      yield* browse(() => agentFilter.fill(""))
      yield* browse(() => expect.poll(async () => new Set(await shownAgents()).size).toBeGreaterThan(1))
      const seqs = yield* rowSeqs(page, "events")
      expect(seqs.filter((seq, index) => seqs.indexOf(seq) !== index)).toEqual([])
      yield* screenshot(page, "events")

      // Audit: who stopped the mailer, from where, and why.
      yield* navigate(page, "#/audit")
      const stop = (yield* history(dashboard.address, ["--category", "command"])).find((record) => record.data["command"] === "stop")
      expect(stop).toBeDefined()
      const stopRow = page.locator(`table[data-testid="audit"] tr[data-seq="${stop?.seq}"]`)
      yield* browse(() => stopRow.waitFor())
      expect(yield* browse(() => stopRow.locator(`td[data-col="command"]`).textContent())).toContain("stop")
      expect(yield* browse(() => stopRow.locator(`td[data-col="args"]`).textContent())).toContain("mailer")
      expect(yield* browse(() => stopRow.locator(`td[data-col="reason"]`).textContent())).toContain("maintenance window")
      expect(yield* browse(() => stopRow.locator(`td[data-col="code"]`).textContent())).toContain("200")
      yield* screenshot(page, "audit")
      // The filter keeps the records holding every word, wherever each is: the stop's reason and its argument.
      const auditRows = page.locator(`table[data-testid="audit"] tr[data-seq]`)
      const allRecords = yield* browse(() => auditRows.count())
      yield* browse(() => page.locator(`input[data-testid="audit-filter"]`).fill("  Maintenance   MAILER "))
      yield* browse(() => expect.poll(() => auditRows.count()).toBeLessThan(allRecords))
      yield* browse(() => stopRow.waitFor())
      for (const text of yield* browse(() => auditRows.allTextContents())) expect(text.toLowerCase()).toMatch(/maintenance[\s\S]*mailer|mailer[\s\S]*maintenance/)
      yield* browse(() => page.locator(`input[data-testid="audit-filter"]`).fill(""))
      yield* browse(() => expect.poll(() => auditRows.count()).toBeGreaterThanOrEqual(allRecords))

      // Dependencies: a node per agent, an edge per dependency with its condition; a click opens the detail.
      yield* navigate(page, "#/dependencies")
      const graph = page.locator(`svg[data-testid="dependency-graph"]`)
      yield* browse(() => graph.waitFor())
      expect([...(yield* attributes(page, `svg[data-testid="dependency-graph"] g[data-agent]`, "data-agent"))].sort()).toEqual(NAMES)
      const edges = yield* attributes(page, `svg[data-testid="dependency-graph"] [data-edge]`, "data-edge")
      const edgeFor = (dependent: string, dependency: string) =>
        edges.find((edge) => edge === `${dependent}->${dependency}` || edge === `${dependency}->${dependent}`)
      for (const [dependent, dependency] of [["api", "migrate"], ["api", "db"], ["worker", "api"], ["mailer", "api"], ["reports", "db"]] as const) {
        expect(edgeFor(dependent, dependency), `the edge between ${dependent} and ${dependency}, in ${edges.join(", ")}`).toBeDefined()
      }
      const conditionOf = (dependent: string, dependency: string) =>
        browse(async () => {
          const edge = graph.locator(`[data-edge="${edgeFor(dependent, dependency)}"]`)
          return `${(await edge.textContent()) ?? ""} ${(await edge.locator("title").allTextContents()).join(" ")} ${(await edge.getAttribute("title")) ?? ""}`
        })
      // The condition as the config spells it, or in words.
      expect(yield* conditionOf("api", "migrate")).toMatch(/completed[_ ]successfully/)
      expect(yield* conditionOf("mailer", "api")).toContain("started")
      expect(yield* conditionOf("worker", "api")).toContain("ready")
      yield* screenshot(page, "dependencies")
      // As drawn, with the browser's fonts: no edge passes through a box, no label sits on a box, another label
      // or another edge.
      expect(yield* evaluate(page, GRAPH_FAULTS)).toEqual([])
      const dbNode = graph.locator(`g[data-agent="db"]`)
      yield* browse(() => dbNode.focus())
      expect(yield* evaluate(page, `document.activeElement?.getAttribute("data-agent") ?? document.activeElement?.closest("g[data-agent]")?.getAttribute("data-agent")`))
        .toBe("db")
      yield* browse(() => dbNode.click())
      yield* browse(() => page.locator(`[data-testid="agent-detail"][data-agent="db"]`).waitFor())
      expect(yield* evaluate(page, "location.hash")).toBe("#/agent/db")

      expect(session.loads()).toBe(1)
      expect(unexpectedProblems(session)).toEqual([])
    }))

  it.effect("the agents view at 360 px, and in the dark theme, without scrolling the page sideways", () =>
    Effect.gen(function*() {
      const dashboard = yield* demoStack
      const narrow = yield* openPage({ viewport: { width: 360, height: 780 } })
      yield* openDashboard(narrow.page, dashboard.url)
      yield* expectStatesOfPs(narrow.page, dashboard.address)
      yield* screenshot(narrow.page, "agents-360px")
      expect(yield* evaluate(narrow.page, "document.documentElement.scrollWidth")).toBeLessThanOrEqual(360)
      // A row stays one line high (two with a failure's note): its actions fold behind one button, named for
      // them, which opens them from the keyboard and closes with Escape, giving the focus back.
      const heights = Numbers(yield* evaluate(narrow.page, `Array.from(document.querySelectorAll('table[data-testid="agents"] tr[data-agent]'), (row) => row.getBoundingClientRect().height)`))
      expect(Math.max(...heights), `row heights ${heights.join(", ")}`).toBeLessThanOrEqual(64)
      const menu = agentRow(narrow.page, "api").locator(".actions-toggle")
      expect(yield* browse(() => menu.getAttribute("aria-label"))).toBe("Actions on api")
      expect(yield* browse(() => menu.getAttribute("aria-expanded"))).toBe("false")
      expect(yield* browse(() => agentRow(narrow.page, "api").locator(`button[data-action="stop"]`).isVisible())).toBe(false)
      yield* browse(() => menu.focus())
      yield* browse(() => narrow.page.keyboard.press("Enter"))
      expect(yield* browse(() => menu.getAttribute("aria-expanded"))).toBe("true")
      expect(yield* evaluate(narrow.page, `document.activeElement?.getAttribute("aria-label")`)).toBe("Stop api")
      for (const action of ["stop", "restart", "pause"]) {
        expect(yield* browse(() => agentRow(narrow.page, "api").locator(`button[data-action="${action}"]`).isVisible()), action).toBe(true)
      }
      yield* screenshot(narrow.page, "agents-360px-menu", { fullPage: false })
      yield* browse(() => narrow.page.keyboard.press("Escape"))
      expect(yield* browse(() => menu.getAttribute("aria-expanded"))).toBe("false")
      expect(yield* evaluate(narrow.page, `document.activeElement?.getAttribute("aria-label")`)).toBe("Actions on api")
      yield* openDashboard(narrow.page, dashboard.url, "#/agent/api")
      yield* browse(() => narrow.page.locator(`[data-testid="agent-detail"][data-agent="api"]`).waitFor())
      yield* browse(() => narrow.page.locator(`[data-testid="probes"] tr[data-probe="readiness"]`).waitFor())
      yield* screenshot(narrow.page, "agent-detail-360px")
      expect(yield* evaluate(narrow.page, "document.documentElement.scrollWidth")).toBeLessThanOrEqual(360)
      // Each probe as a card: every value within the screen, the target on lines of many characters.
      const probeCells = Numbers(yield* evaluate(narrow.page, `Array.from(document.querySelectorAll('[data-testid="probes"] td[data-col]'), (cell) => cell.getBoundingClientRect().right)`))
      expect(probeCells.length).toBe(14)
      expect(Math.max(...probeCells)).toBeLessThanOrEqual(360)
      const target = Numbers(yield* evaluate(narrow.page, `(() => { const r = document.querySelector('[data-testid="probes"] td[data-col="target"] code').getBoundingClientRect(); return [r.width, r.height] })()`))
      expect(target[0], "the target's width").toBeGreaterThan(180)
      expect(target[1], "the target's height").toBeLessThan(60)
      // The events as cards: time, agent and event on one line, the details under them, all on the screen.
      yield* navigate(narrow.page, "#/events")
      yield* browse(() => narrow.page.locator(`table[data-testid="events"] tr[data-seq]`).first().waitFor())
      yield* screenshot(narrow.page, "events-360px", { fullPage: false })
      expect(yield* evaluate(narrow.page, "document.documentElement.scrollWidth")).toBeLessThanOrEqual(360)
      const eventCells = Numbers(yield* evaluate(narrow.page, `Array.from(document.querySelectorAll('table[data-testid="events"] td[data-col="event"]'), (cell) => cell.getBoundingClientRect().right)`))
      expect(Math.max(...eventCells)).toBeLessThanOrEqual(360)
      expect(unexpectedProblems(narrow)).toEqual([])

      const dark = yield* openPage({ colorScheme: "dark" })
      yield* openDashboard(dark.page, dashboard.url)
      yield* expectStatesOfPs(dark.page, dashboard.address)
      // The theme follows prefers-color-scheme: light text (on a dark background, or it would not be read).
      const color = String(yield* evaluate(dark.page, "getComputedStyle(document.body).color"))
      const [red = 0, green = 0, blue = 0] = color.match(/\d+/g)?.map(Number) ?? []
      expect(red + green + blue, `the body's text colour, ${color}`).toBeGreaterThan(3 * 150)
      yield* screenshot(dark.page, "agents-dark", { fullPage: false })
      yield* navigate(dark.page, "#/dependencies")
      yield* browse(() => dark.page.locator(`svg[data-testid="dependency-graph"]`).waitFor())
      yield* screenshot(dark.page, "dependencies-dark")
      expect(unexpectedProblems(dark)).toEqual([])
    }))
})
