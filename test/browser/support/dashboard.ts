/**
 * A real `orchestrate up` serving the dashboard, through the real CLI binary: a config file in a temp dir, a random
 * HTTP port on loopback, agents as real child processes, each marked so that none outlives the test. Also the CLI's
 * answers over ZeroMQ, decoded with the wire schemas, to compare the page with, and readers of the page by the
 * selectors of the dashboard's DOM contract (src/web), waiting on `document.body.dataset.ready`.
 */
import { Effect, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { Page } from "playwright-core"
import { expect } from "vitest"
import { Commands } from "../../../src/protocol/Commands.ts"
import { cli, type Running, startUp } from "../../support/cli.ts"
import { tempDir } from "../../support/files.ts"
import { freePort } from "../../support/net.ts"
import { killMarked, testMarker } from "../../support/processes.ts"

/** An agent that runs `script` with this Node. */
export const nodeAgent = (name: string, script: string, settings: Record<string, unknown> = {}) => ({
  name,
  command: process.execPath,
  args: ["-e", script],
  ...settings
})

/** Runs until stopped, printing nothing. */
export const IDLE = "setInterval(() => {}, 1000)"

export interface DashboardConfig {
  readonly agents: ReadonlyArray<Record<string, unknown>>
  /** Added to the config's `http` section (tokens, say). */
  readonly http?: Record<string, unknown>
  /** Other top-level settings. */
  readonly settings?: Record<string, unknown>
}

export interface Dashboard {
  /** The dashboard: `http://127.0.0.1:<port>/`. */
  readonly url: string
  readonly httpPort: number
  /** The ZeroMQ address, for the CLI. */
  readonly address: string
  /** The config's directory, removed with the scope. */
  readonly dir: string
  /** The config file, in `dir`. */
  readonly file: string
  /** The `orchestrate up` process. */
  readonly up: Running
}

/**
 * `orchestrate up` with `config`, answering over ZeroMQ and HTTP. It is stopped when the scope closes, then whatever
 * it started and left behind is killed.
 */
export const startDashboard = (config: DashboardConfig) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("orch-web-")
    const marker = testMarker()
    yield* Effect.addFinalizer(() => killMarked(marker))
    const httpPort = yield* freePort
    const file = Path.join(dir, "services.json")
    Fs.writeFileSync(file, JSON.stringify({
      commandInterface: { enabled: true, allowedCommands: "all" },
      ...config.settings,
      http: { enabled: true, address: `127.0.0.1:${httpPort}`, ...config.http },
      agents: config.agents
    }, null, 2))
    const { address, up } = yield* startUp([file, "--quiet"], { env: marker })
    return { url: `http://127.0.0.1:${httpPort}/`, httpPort, address, dir, file, up } satisfies Dashboard
  })

/** The CLI's `--json` answers, as the wire schemas say. */
const decodePs = Schema.decodeUnknownSync(Schema.fromJsonString(Schema.Struct({
  status: Schema.Literal("success"),
  data: Commands.ps.result
})))
const decodeHistory = Schema.decodeUnknownSync(Schema.fromJsonString(Schema.Struct({
  status: Schema.Literal("success"),
  data: Commands.history.result
})))
const decodeLogs = Schema.decodeUnknownSync(Schema.fromJsonString(Schema.Struct({
  status: Schema.Literal("success"),
  data: Commands.logs.result
})))

/** Runs `orchestrate args... --json --address` and decodes its answer; dies with the CLI's output otherwise. */
const cliJson = <A>(address: string, args: ReadonlyArray<string>, decode: (json: string) => A) =>
  Effect.flatMap(cli([...args, "--json", "--address", address]), (result) =>
    Effect.try({
      try: () => decode(result.stdout),
      catch: (error) => new Error(`orchestrate ${args.join(" ")} exited ${result.code}: ${result.stdout}${result.stderr}\n${String(error)}`)
    }).pipe(Effect.orDie))

/** `ps` over ZeroMQ: the agents. */
export const ps = (address: string) => Effect.map(cliJson(address, ["ps"], decodePs), (answer) => answer.data.agents)

/** `history` over ZeroMQ (the newest 1000 events, oldest first), with the CLI's other flags if given. */
export const history = (address: string, flags: ReadonlyArray<string> = []) =>
  Effect.map(cliJson(address, ["history", "--limit", "1000", ...flags], decodeHistory), (answer) => answer.data.events)

/** `logs` over ZeroMQ: an agent's lines, oldest first. */
export const logs = (address: string, agent: string) =>
  Effect.map(cliJson(address, ["logs", agent, "--lines", "1000"], decodeLogs), (answer) => answer.data.lines)

/** A control command through the CLI over ZeroMQ (`stop api --reason …`); dies unless it succeeded. */
export const control = (address: string, args: ReadonlyArray<string>) =>
  Effect.flatMap(cli([...args, "--address", address]), (result) =>
    result.code === 0 ? Effect.succeed(result) : Effect.die(new Error(`orchestrate ${args.join(" ")} exited ${result.code}: ${result.stderr}`)))

type Agents = Effect.Success<ReturnType<typeof ps>>

/** Asks `ps` again and again until its agents satisfy `until` or `within` ms pass; returns the last answer. */
export const awaitPs = (address: string, until: (agents: Agents) => boolean, within = 15_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + within
    let agents = yield* ps(address)
    while (!until(agents) && Date.now() < deadline) {
      yield* Effect.sleep("50 millis")
      agents = yield* ps(address)
    }
    return agents
  })

/** Waits until `ps` says each named agent is in its state (at most 15 s); returns the agents. */
export const awaitStates = (address: string, states: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const reached = (agents: Agents) =>
      Object.entries(states).every(([name, state]) => agents.find((agent) => agent.name === name)?.state === state)
    const agents = yield* awaitPs(address, reached)
    if (!reached(agents)) {
      return yield* Effect.die(new Error(`the agents never reached ${JSON.stringify(states)}; ps says ${
        JSON.stringify(agents.map((agent) => [agent.name, agent.state]))}`))
    }
    return agents
  })

/** Runs a Playwright call (or any promise) as an Effect; its rejection fails the test with its message. */
export const browse = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Waits until the page has its first data and its live stream is open (`document.body.dataset.ready`). */
export const waitReady = (page: Page) =>
  browse(() =>
    page.locator(`body[data-ready="true"]`).waitFor({ state: "attached" }).catch(async (error: unknown) => {
      // Say what the page showed instead: its URL, its flags and the start of its text.
      const body = page.locator("body")
      const flags = `data-ready=${await body.getAttribute("data-ready")} data-connection=${await body.getAttribute("data-connection")}`
      const text = (await body.innerText().catch(() => "")).slice(0, 600)
      throw new Error(`${page.url()} never became ready (${flags}); it shows:\n${text}\n${String(error)}`)
    })
  )

/** Opens `url` with `hash` (`#/events`) and waits until it is ready. */
export const openDashboard = (page: Page, url: string, hash = "#/") =>
  Effect.andThen(browse(() => page.goto(`${url}${hash}`)), waitReady(page))

/** Goes to a view through the `<nav aria-label="Views">` link to `hash`, as a user would. */
export const navigate = (page: Page, hash: string) =>
  browse(() => page.locator(`nav[aria-label="Views"] a[href="${hash}"]`).click())

/** An agent's row in the agents table. */
export const agentRow = (page: Page, name: string) => page.locator(`table[data-testid="agents"] tr[data-agent="${name}"]`)

/** The text of an agent's cell in the agents table, trimmed, as a promise (for `expect.poll`). */
export const readCell = async (page: Page, name: string, column: string): Promise<string> =>
  ((await agentRow(page, name).locator(`td[data-col="${column}"]`).textContent()) ?? "").trim()

/** The text of an agent's cell in the agents table, trimmed. */
export const cellText = (page: Page, name: string, column: string) => browse(() => readCell(page, name, column))

/** Waits until an agent's cell says what `expected` matches (a substring, or a whole-text RegExp). */
export const awaitCell = (page: Page, name: string, column: string, expected: string | RegExp, timeout = 10_000) =>
  browse(() => expect.poll(() => readCell(page, name, column), { timeout }).toMatch(expected))

/**
 * The value of a JavaScript expression in the page. A string, since these tests are type-checked without the DOM's
 * types; an expression rather than a function's text, which Playwright would not call.
 */
export const evaluate = (page: Page, expression: string) => browse((): Promise<unknown> => page.evaluate(expression))

const Strings = Schema.decodeUnknownSync(Schema.Array(Schema.String))

/** An attribute of every element the CSS `selector` matches, in document order. */
export const attributes = (page: Page, selector: string, attribute: string) =>
  Effect.map(
    evaluate(page, `Array.from(document.querySelectorAll(${JSON.stringify(selector)}), (element) => element.getAttribute(${JSON.stringify(attribute)}) ?? "")`),
    Strings
  )

/** The agents the table lists, in its order. */
export const listedAgents = (page: Page) => attributes(page, `table[data-testid="agents"] tr[data-agent]`, "data-agent")

/** The `data-seq` of every row of a table (`events`, `audit`), in the table's order, duplicates kept. */
export const rowSeqs = (page: Page, table: "events" | "audit") =>
  Effect.map(attributes(page, `table[data-testid="${table}"] tr[data-seq]`, "data-seq"), (seqs) => seqs.map(Number))

