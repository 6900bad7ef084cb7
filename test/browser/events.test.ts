/**
 * The events and audit views over a real `orchestrate up` whose audit trail holds more records than the page loads
 * at first (a script's 650 requests): the events view shows by default what `orchestrate history` shows (the
 * agents' and the orchestrator's events, not the audit trail) and hides heartbeats until asked, keeping only each
 * agent's last three as the history does; the category filter shows the rest; and "Load older events" pages back
 * through the history until it holds no more, the rows always a run without holes, as `history` lists them.
 */
import { NodeServices } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { Page } from "playwright-core"
import { eventually } from "../support/orchestrator.ts"
import { Chromium, openPage, screenshot, unexpectedProblems } from "./support/chromium.ts"
import { awaitStates, browse, history, IDLE, navigate, nodeAgent, openDashboard, rowSeqs, startDashboard } from "./support/dashboard.ts"

/** Requests a script makes before the page opens: more audit records than the page's first 500. */
const SCRIPTED_REQUESTS = 650

const cellTexts = (page: Page, table: string, column: string) =>
  page.locator(`table[data-testid="${table}"] tr[data-seq] td[data-col="${column}"]`).allTextContents()

const cells = (page: Page, table: string, column: string) => browse(() => cellTexts(page, table, column))

/** Every record `history` lists between the oldest and the newest row shown is shown: a run without holes. */
const expectRun = (shown: ReadonlyArray<number>, listed: ReadonlyArray<number>) => {
  const oldest = Math.min(...shown)
  const newest = Math.max(...shown)
  const missing = listed.filter((seq) => seq >= oldest && seq <= newest && !shown.includes(seq))
  expect(missing, `records between ${oldest} and ${newest} that the page lacks`).toEqual([])
  expect(shown.filter((seq, index) => shown.indexOf(seq) !== index), "rows shown twice").toEqual([])
  expect([...shown], "newest first").toEqual([...shown].sort((a, b) => b - a))
}

layer(Layer.merge(Chromium.layer, NodeServices.layer), { excludeTestServices: true, timeout: 60_000 })("the dashboard's events", (it) => {
  it.effect("shows the agents' and orchestrator's events by default, the rest on request, and pages back through the audit trail", () =>
    Effect.gen(function*() {
      const dashboard = yield* startDashboard({ agents: [nodeAgent("solo", IDLE)], settings: { heartbeatInterval: 300 } })
      yield* awaitStates(dashboard.address, { solo: "running" })
      for (let sent = 0; sent < SCRIPTED_REQUESTS; sent += 25) {
        yield* browse(() => Promise.all(Array.from({ length: 25 }, () => fetch(`${dashboard.url}api/v1/agents`).then((response) => response.text()))))
      }
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, dashboard.url)
      expect(yield* browse(() => page.getByText("1 agent", { exact: true }).count()), "one agent, in the singular").toBe(1)

      // Events: by default no audit record (of which there are hundreds) and no heartbeat.
      yield* navigate(page, "#/events")
      yield* browse(() => page.locator(`table[data-testid="events"] td[data-col="event"]`).filter({ hasText: "AGENT_STARTED" }).waitFor())
      expect(yield* browse(() => page.locator(`select[data-testid="event-category"]`).inputValue())).toBe("agent,orchestrator")
      expect([...new Set(yield* cells(page, "events", "category"))].sort()).toEqual(["agent", "orchestrator"])
      expect(yield* cells(page, "events", "event")).not.toContain("AGENT_HEARTBEAT")
      const lifecycle = (yield* history(dashboard.address)).filter((event) => event.eventName !== "AGENT_HEARTBEAT").map((event) => event.seq)
      const shown = yield* eventually(rowSeqs(page, "events"), (seqs) => lifecycle.every((seq) => seqs.includes(seq)))
      expect(shown.filter((seq) => seq <= Math.max(...lifecycle)).sort((a, b) => a - b)).toEqual(lifecycle)

      // Heartbeats on request: one every 300 ms, of which the page, as the history, keeps the last three.
      yield* browse(() => page.locator(`input[data-testid="event-heartbeats"]`).check())
      const heartbeats = () => page.locator(`table[data-testid="events"] tr[data-seq]`).filter({ hasText: "AGENT_HEARTBEAT" })
      yield* browse(() => expect.poll(() => heartbeats().count()).toBe(3))
      yield* Effect.sleep("1 second")
      expect(yield* browse(() => heartbeats().count())).toBe(3)
      yield* browse(() => page.locator(`input[data-testid="event-heartbeats"]`).uncheck())

      // Everything, the audit trail included: the script's requests and the page's own.
      yield* browse(() => page.locator(`select[data-testid="event-category"]`).selectOption("all"))
      yield* browse(() => expect.poll(async () => new Set(await cellTexts(page, "events", "category")).has("command")).toBe(true))
      expect(yield* cells(page, "events", "event")).toContain("COMMAND_EXECUTED")
      yield* browse(() => page.locator(`select[data-testid="event-category"]`).selectOption("agent,orchestrator"))

      // Audit: the newest 500 records first, then older pages until none is left.
      yield* navigate(page, "#/audit")
      yield* browse(() => expect.poll(() => page.locator(`table[data-testid="audit"] tr[data-seq]`).count()).toBeGreaterThanOrEqual(500))
      const first = yield* rowSeqs(page, "audit")
      const older = page.locator(`button[data-testid="audit-older"]`)
      expect(yield* browse(() => older.isEnabled())).toBe(true)
      yield* browse(() => older.click())
      yield* browse(() => expect.poll(() => page.locator(`table[data-testid="audit"] tr[data-seq]`).count()).toBeGreaterThan(first.length + 100))
      const paged = yield* rowSeqs(page, "audit")
      expect(Math.min(...paged)).toBeLessThan(Math.min(...first))
      expectRun(paged, (yield* history(dashboard.address, ["--category", "command"])).map((record) => record.seq))
      yield* browse(() => older.scrollIntoViewIfNeeded())
      yield* screenshot(page, "audit-older", { fullPage: false })

      while (yield* browse(() => older.isEnabled())) yield* browse(() => older.click())
      yield* browse(() => page.getByText("Nothing older is in the history.").waitFor())
      const all = yield* rowSeqs(page, "audit")
      const listed = (yield* history(dashboard.address, ["--category", "command"])).map((record) => record.seq)
      expect(listed.length, "the whole audit trail fits in one history answer").toBeLessThan(1000)
      expectRun(all, listed)
      expect(Math.min(...all)).toBe(Math.min(...listed))
      expect(all.length).toBeGreaterThan(SCRIPTED_REQUESTS)
      expect(session.loads()).toBe(1)
      expect(unexpectedProblems(session)).toEqual([])
    }))
})
