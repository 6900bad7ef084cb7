/**
 * The dashboard in headless Chromium against a real `orchestrate up` with real process agents: the agents it
 * lists, a restart from the CLI seen live within a second, a click on Stop checked over ZeroMQ, and a line an
 * agent prints after the page opened appearing in its log tail. No test may leave a console error behind.
 */
import { NodeServices } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Commands } from "../../src/protocol/Commands.ts"
import { cli } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { Chromium, openPage, unexpectedProblems } from "./support/chromium.ts"
import {
  agentRow,
  attributes,
  awaitCell,
  awaitStates,
  browse,
  cellText,
  evaluate,
  history,
  IDLE,
  listedAgents,
  logs,
  nodeAgent,
  openDashboard,
  startDashboard
} from "./support/dashboard.ts"

const decodeRestart = Schema.decodeUnknownSync(
  Schema.fromJsonString(Schema.Struct({ status: Schema.Literal("success"), data: Commands.restart.result }))
)

/** Prints `said <text>` each time the file $TRIGGER appears with `<text>` in it, then removes it. */
const TALKER = `
const fs = require("node:fs")
setInterval(() => {
  let text
  try { text = fs.readFileSync(process.env.TRIGGER, "utf8") } catch { return }
  fs.unlinkSync(process.env.TRIGGER)
  console.log("said " + text)
}, 50)`

layer(Layer.merge(Chromium.layer, NodeServices.layer), { excludeTestServices: true, timeout: 60_000 })("the dashboard of a real orchestrate up", (it) => {
  it.effect("lists the agents, with the states, pids and links ps gives", () =>
    Effect.gen(function*() {
      const dashboard = yield* startDashboard({
        agents: [
          nodeAgent("api", IDLE),
          nodeAgent("worker", IDLE, { dependsOn: ["api"] }),
          nodeAgent("migrate", "console.log('3 migrations applied')"),
          nodeAgent("reports", "process.exit(3)")
        ]
      })
      const agents = yield* awaitStates(dashboard.address, { api: "running", worker: "running", migrate: "completed", reports: "failed" })
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, dashboard.url)

      expect([...(yield* listedAgents(page))].sort()).toEqual(["api", "migrate", "reports", "worker"])
      for (const agent of agents) {
        yield* awaitCell(page, agent.name, "state", agent.state)
        expect(yield* cellText(page, agent.name, "name")).toContain(agent.name)
        // A finished agent has no pid: whatever stands in for one, it is no number.
        expect(yield* cellText(page, agent.name, "pid")).toMatch(agent.pid === null ? /^\D*$/ : new RegExp(`^${agent.pid}$`))
        expect(yield* attributes(page, `tr[data-agent="${agent.name}"] td[data-col="name"] a`, "href")).toEqual([`#/agent/${agent.name}`])
      }
      for (const column of ["name", "kind", "state", "health", "pid", "uptime", "restarts", "cpu", "memory"]) {
        expect(yield* browse(() => agentRow(page, "api").locator(`td[data-col="${column}"]`).count())).toBe(1)
      }
      expect(yield* browse(() => page.locator(`[data-testid="summary"] [data-testid="summary-state"]`).textContent())).toContain("running")
      expect(unexpectedProblems(session)).toEqual([])
    }))

  it.effect("shows an agent restarted from the CLI within a second of the CLI's exit, without reloading", () =>
    Effect.gen(function*() {
      const dashboard = yield* startDashboard({ agents: [nodeAgent("api", IDLE), nodeAgent("db", IDLE)] })
      const [api] = (yield* awaitStates(dashboard.address, { api: "running", db: "running" })).filter((agent) => agent.name === "api")
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, dashboard.url)
      yield* awaitCell(page, "api", "pid", new RegExp(`^${api?.pid}$`))
      expect(yield* cellText(page, "api", "restarts")).toBe("0")

      // Record, in the page, when the row's pid and restarts cells change and what they then say; and leave a
      // mark on the window, which a reload would wipe.
      yield* evaluate(page, `(() => {
        window.__sameDocument = true
        window.__changes = []
        const row = document.querySelector('table[data-testid="agents"] tr[data-agent="api"]')
        const read = () => {
          const current = document.querySelector('table[data-testid="agents"] tr[data-agent="api"]')
          return current === null ? null : {
            pid: current.querySelector('td[data-col="pid"]')?.textContent?.trim() ?? "",
            restarts: current.querySelector('td[data-col="restarts"]')?.textContent?.trim() ?? ""
          }
        }
        let last = JSON.stringify(read())
        new MutationObserver(() => {
          const now = JSON.stringify(read())
          if (now !== last) { last = now; window.__changes.push({ at: Date.now(), ...JSON.parse(now) }) }
        }).observe(document.body, { subtree: true, childList: true, characterData: true })
        return row !== null
      })()`)

      const restarted = yield* cli(["restart", "api", "--json", "--address", dashboard.address])
      const exitedAt = Date.now()
      expect(restarted.code).toBe(0)
      const answer = decodeRestart(restarted.stdout).data
      const newPid = "agent" in answer ? answer.agent.pid : null
      expect(newPid).not.toBeNull()
      expect(newPid).not.toBe(api?.pid)

      yield* awaitCell(page, "api", "pid", new RegExp(`^${newPid}$`), 5000)
      expect(yield* cellText(page, "api", "restarts")).toBe("1")
      const changes = Schema.decodeUnknownSync(Schema.Array(Schema.Struct({ at: Schema.Number, pid: Schema.String, restarts: Schema.String })))(
        yield* evaluate(page, "window.__changes")
      )
      const shown = changes.find((change) => change.pid === String(newPid))
      expect(shown, JSON.stringify(changes)).toBeDefined()
      expect((shown?.at ?? Infinity) - exitedAt, `ms from the CLI's exit to the new pid on the page; changes: ${JSON.stringify(changes)}`)
        .toBeLessThanOrEqual(1000)
      expect(yield* evaluate(page, "window.__sameDocument")).toBe(true)
      expect(session.loads()).toBe(1)
      expect(unexpectedProblems(session)).toEqual([])
    }))

  it.effect("stops an agent with its Stop button, as ps over ZeroMQ then says, with the reason in the audit trail", () =>
    Effect.gen(function*() {
      const dashboard = yield* startDashboard({ agents: [nodeAgent("api", IDLE), nodeAgent("worker", IDLE)] })
      yield* awaitStates(dashboard.address, { api: "running", worker: "running" })
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, dashboard.url)
      const reason = `browser test ${randomUUID()}`
      yield* browse(() => page.locator(`input[data-testid="action-reason"]`).fill(reason))
      yield* browse(() => agentRow(page, "worker").locator(`button[data-action="stop"]`).click())

      const agents = yield* awaitStates(dashboard.address, { worker: "stopped" })
      expect(agents.find((agent) => agent.name === "worker")?.pid).toBeNull()
      expect(agents.find((agent) => agent.name === "api")?.state).toBe("running")
      yield* browse(() => page.locator(`[data-testid="action-result"][role="status"]`).waitFor())
      yield* awaitCell(page, "worker", "state", "stopped")
      const audit = yield* history(dashboard.address, ["--category", "command"])
      expect(audit.find((record) => record.data["command"] === "stop")?.data).toMatchObject({
        command: "stop",
        args: ["worker"],
        reason,
        transport: "http",
        code: 200
      })
      expect(unexpectedProblems(session)).toEqual([])
    }))

  it.effect("shows a line the agent prints after the page opened in the detail view's log tail", () =>
    Effect.gen(function*() {
      const trigger = Path.join(yield* tempDir("orch-talker-"), "say")
      const dashboard = yield* startDashboard({ agents: [nodeAgent("talker", TALKER, { env: { TRIGGER: trigger } })] })
      yield* awaitStates(dashboard.address, { talker: "running" })
      const session = yield* openPage()
      const { page } = session
      yield* openDashboard(page, dashboard.url, "#/agent/talker")
      yield* browse(() => page.locator(`[data-testid="agent-detail"][data-agent="talker"] [data-testid="log-tail"]`).waitFor())

      const text = randomUUID()
      const tail = page.locator(`[data-testid="log-tail"] .log-line`).filter({ hasText: `said ${text}` })
      expect(yield* browse(() => tail.count())).toBe(0)
      Fs.writeFileSync(`${trigger}.tmp`, text)
      Fs.renameSync(`${trigger}.tmp`, trigger)

      yield* browse(() => tail.waitFor())
      const [printed] = (yield* logs(dashboard.address, "talker")).filter((line) => line.line === `said ${text}`)
      expect(printed).toBeDefined()
      expect(yield* browse(() => tail.getAttribute("data-seq"))).toBe(String(printed?.seq))
      expect(yield* browse(() => tail.getAttribute("data-stream"))).toBe("stdout")
      expect(yield* browse(() => tail.count())).toBe(1)
      expect(unexpectedProblems(session)).toEqual([])
    }))
})

