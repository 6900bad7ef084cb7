/**
 * A dropped live stream: the page reaches the HTTP listener through a TCP proxy in the test, which destroys every
 * connection and holds new ones while an agent is restarted over ZeroMQ. The banner shows while the stream is down
 * and hides once it is back, and the events view (heartbeats shown) then holds every event recorded meanwhile,
 * each once, as `orchestrate history` lists them.
 */
import { NodeServices } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { Page } from "playwright-core"
import { eventually } from "../support/orchestrator.ts"
import { Chromium, openPage, type PageProblem, unexpectedProblems } from "./support/chromium.ts"
import { cuttableProxy } from "./support/cuttableProxy.ts"
import { awaitStates, browse, control, evaluate, history, IDLE, nodeAgent, openDashboard, rowSeqs, startDashboard } from "./support/dashboard.ts"

const banner = (page: Page) => page.locator(`[data-testid="connection-banner"]`)

const connection = (page: Page) => evaluate(page, "document.body.dataset.connection")

/** Chromium's console error for a request the cut connection broke (net::ERR_…), which the page cannot prevent. */
const brokenByTheCut = (problem: PageProblem) => problem.kind === "console" && problem.text.includes("net::ERR_")

layer(Layer.merge(Chromium.layer, NodeServices.layer), { excludeTestServices: true, timeout: 60_000 })("the dashboard's live stream", (it) => {
  it.effect("resumes after the connection drops, missing no event and showing none twice", () =>
    Effect.gen(function*() {
      const dashboard = yield* startDashboard({ agents: [nodeAgent("steady", IDLE), nodeAgent("other", IDLE)] })
      yield* awaitStates(dashboard.address, { steady: "running", other: "running" })
      const proxy = yield* cuttableProxy(dashboard.httpPort)
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, `http://127.0.0.1:${proxy.port}/`, "#/events")
      // With its heartbeats, the view lists what `orchestrate history` lists.
      yield* browse(() => page.locator(`input[data-testid="event-heartbeats"]`).check())
      expect(yield* connection(page)).toBe("open")
      expect(yield* browse(() => banner(page).isVisible())).toBe(false)
      // The table's newest event before the cut: everything after it must come through the resumed stream.
      const before = yield* eventually(rowSeqs(page, "events"), (seqs) => seqs.length > 0)
      expect(before.length).toBeGreaterThan(0)
      const lastSeen = Math.max(...before)

      yield* proxy.cut
      yield* browse(() => banner(page).waitFor({ state: "visible" }))
      expect(yield* connection(page)).toBe("closed")
      yield* control(dashboard.address, ["restart", "steady", "--reason", "during the outage"])
      yield* control(dashboard.address, ["stop", "other"])
      yield* awaitStates(dashboard.address, { steady: "running", other: "stopped" })
      // The page is seen trying again (its retry waits at the proxy) before the connection comes back.
      expect((yield* eventually(Effect.sync(proxy.held), (held) => held > 0))).toBeGreaterThan(0)
      const missed = (yield* history(dashboard.address)).filter((event) => event.seq > lastSeen)
      expect(missed.map((event) => event.eventName)).toEqual(expect.arrayContaining(["AGENT_RESTARTED", "AGENT_STOPPED"]))
      expect(yield* browse(() => banner(page).isVisible())).toBe(true)

      yield* proxy.restore
      yield* browse(() => banner(page).waitFor({ state: "hidden" }))
      expect(yield* connection(page)).toBe("open")
      const wanted = missed.map((event) => event.seq)
      const shown = yield* eventually(rowSeqs(page, "events"), (seqs) => wanted.every((seq) => seqs.includes(seq)))
      expect(wanted.filter((seq) => !shown.includes(seq)), `events recorded during the outage that the page lacks`).toEqual([])
      expect(shown.filter((seq, index) => shown.indexOf(seq) !== index), "rows shown twice").toEqual([])
      for (const event of missed) {
        const row = page.locator(`table[data-testid="events"] tr[data-seq="${event.seq}"]`)
        expect(yield* browse(() => row.locator(`td[data-col="event"]`).textContent())).toContain(event.eventName)
      }
      expect(unexpectedProblems(session, brokenByTheCut)).toEqual([])
    }))
})
