/**
 * The dashboard's controls beyond one row's button, against a real `orchestrate up`: an action on a selection of
 * agents with its reason, a reload whose dry-run plan is shown first (cancelled, then applied), an invalid config's
 * error shown verbatim, and a shutdown behind its confirmation that really ends `up`.
 */
import { NodeServices } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as Fs from "node:fs"
import { cli } from "../support/cli.ts"
import { Chromium, openPage, screenshot, unexpectedProblems } from "./support/chromium.ts"
import { awaitPs, awaitStates, browse, history, IDLE, nodeAgent, openDashboard, ps, startDashboard } from "./support/dashboard.ts"

const ErrorReply = Schema.decodeUnknownSync(Schema.fromJsonString(Schema.Struct({
  status: Schema.Literal("error"),
  code: Schema.Number,
  error: Schema.String
})))

const pids = (agents: ReadonlyArray<{ readonly name: string; readonly pid: number | null }>) =>
  Object.fromEntries(agents.map((agent) => [agent.name, agent.pid]))

const Strings = Schema.decodeUnknownSync(Schema.Array(Schema.String))

const words = (text: string | null) => (text ?? "").replace(/\s+/g, " ").trim()

/** Rewrites the config file `up` runs from. */
const editConfig = (file: string, edit: (agents: Array<Record<string, unknown>>) => void) =>
  Effect.sync(() => {
    const config = JSON.parse(Fs.readFileSync(file, "utf8")) as { agents: Array<Record<string, unknown>> }
    edit(config.agents)
    Fs.writeFileSync(file, JSON.stringify(config, null, 2))
  })

layer(Layer.merge(Chromium.layer, NodeServices.layer), { excludeTestServices: true, timeout: 60_000 })("the dashboard's controls", (it) => {
  it.effect("restarts the selected agents, and only them, with the reason", () =>
    Effect.gen(function*() {
      const dashboard = yield* startDashboard({ agents: [nodeAgent("api", IDLE), nodeAgent("worker", IDLE), nodeAgent("db", IDLE)] })
      const before = pids(yield* awaitStates(dashboard.address, { api: "running", worker: "running", db: "running" }))
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, dashboard.url)
      const reason = `selection ${randomUUID()}`
      yield* browse(() => page.locator(`input[data-testid="action-reason"]`).fill(reason))
      yield* browse(() => page.locator(`input[type="checkbox"][data-select="api"]`).check())
      yield* browse(() => page.locator(`input[type="checkbox"][data-select="worker"]`).check())
      yield* browse(() => page.locator(`[data-testid="selection-actions"] button[data-action="restart"]`).click())

      yield* browse(() => page.locator(`[data-testid="action-result"]`).waitFor())
      // New processes for the selected agents, the same one for the other.
      const changed = (agents: ReadonlyArray<{ readonly name: string; readonly pid: number | null }>) =>
        Object.keys(before).filter((name) => pids(agents)[name] !== null && pids(agents)[name] !== before[name]).sort()
      const after = yield* awaitPs(dashboard.address, (agents) => changed(agents).length === 2)
      expect(changed(after)).toEqual(["api", "worker"])
      yield* awaitStates(dashboard.address, { api: "running", worker: "running", db: "running" })
      const records = (yield* history(dashboard.address, ["--category", "command"])).filter((record) => record.data["command"] === "restart")
      expect(records.flatMap((record) => Strings(record.data["args"])).sort()).toEqual(["api", "worker"])
      expect(records.map((record) => record.data["reason"])).toEqual(records.map(() => reason))
      expect(unexpectedProblems(session)).toEqual([])
    }))

  it.effect("shows the reload's plan first, applies it on request, and an invalid config's error verbatim", () =>
    Effect.gen(function*() {
      const dashboard = yield* startDashboard({ agents: [nodeAgent("api", IDLE)] })
      yield* awaitStates(dashboard.address, { api: "running" })
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, dashboard.url)
      yield* editConfig(dashboard.file, (agents) => agents.push(nodeAgent("extra", IDLE)))
      const dialog = page.locator(`dialog[data-testid="reload-dialog"]`)
      const plan = dialog.locator(`[data-testid="reload-plan"]`)

      yield* browse(() => page.locator(`button[data-testid="reload"]`).click())
      yield* browse(() => expect.poll(() => plan.textContent()).toContain("extra"))
      expect(words(yield* browse(() => plan.textContent()))).toMatch(/added.*extra|extra.*added/i)
      yield* screenshot(page, "reload-dialog", { fullPage: false })
      yield* browse(() => dialog.locator(`button[data-testid="reload-cancel"]`).click())
      yield* browse(() => dialog.waitFor({ state: "hidden" }))
      expect((yield* ps(dashboard.address)).map((agent) => agent.name)).toEqual(["api"])

      yield* browse(() => page.locator(`button[data-testid="reload"]`).click())
      yield* browse(() => expect.poll(() => plan.textContent()).toContain("extra"))
      yield* browse(() => dialog.locator(`button[data-testid="reload-apply"]`).click())
      yield* awaitStates(dashboard.address, { api: "running", extra: "running" })
      yield* browse(() => page.locator(`table[data-testid="agents"] tr[data-agent="extra"]`).waitFor())
      const reloads = (yield* history(dashboard.address, ["--category", "command"])).filter((record) => record.data["command"] === "reload")
      // Two dry runs (one per dialog) and the reload applied, each answered 200.
      expect(reloads.map((record) => record.data["code"])).toEqual([200, 200, 200])

      // An invalid config: the page shows the very error `reload` answers, and its code.
      yield* editConfig(dashboard.file, (agents) => {
        agents[0] = { ...agents[0], command: "" }
      })
      const refused = yield* cli(["reload", "--dry-run", "--json", "--address", dashboard.address])
      expect(refused.code).toBe(1)
      const expected = ErrorReply(refused.stdout)
      yield* browse(() => page.locator(`button[data-testid="reload"]`).click())
      const error = page.locator(`[data-testid="action-error"][role="alert"]`)
      yield* browse(() => error.waitFor())
      expect(words(yield* browse(() => error.textContent()))).toContain(words(expected.error))
      expect(yield* browse(() => error.textContent())).toContain(String(expected.code))
      yield* screenshot(page, "reload-error", { fullPage: false })
      expect((yield* ps(dashboard.address)).map((agent) => agent.name).sort()).toEqual(["api", "extra"])
      // The refused dry run is answered 400, which Chromium reports as a failed load.
      expect(unexpectedProblems(session, (problem) => problem.text.includes(`status of ${expected.code}`) && problem.url.endsWith("/api/v1/reload")))
        .toEqual([])
    }))

  it.effect("shuts the orchestrator down only once the dialog is confirmed", () =>
    Effect.gen(function*() {
      const dashboard = yield* startDashboard({ agents: [nodeAgent("api", IDLE)] })
      yield* awaitStates(dashboard.address, { api: "running" })
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, dashboard.url)
      const dialog = page.locator(`dialog[data-testid="shutdown-dialog"]`)
      yield* browse(() => page.locator(`button[data-testid="shutdown"]`).click())
      yield* browse(() => dialog.waitFor())
      yield* screenshot(page, "shutdown-dialog", { fullPage: false })
      expect((yield* ps(dashboard.address)).map((agent) => agent.state)).toEqual(["running"])
      yield* browse(() => dialog.locator(`button[data-testid="shutdown-confirm"]`).click())
      expect((yield* dashboard.up.exit()).code).toBe(0)
      // Once up is gone the page's stream drops: it says so.
      yield* browse(() => page.locator(`[data-testid="connection-banner"]`).waitFor({ state: "visible" }))
      expect(unexpectedProblems(session, (problem) => problem.kind === "console" && problem.text.includes("net::ERR_"))).toEqual([])
    }))
})
