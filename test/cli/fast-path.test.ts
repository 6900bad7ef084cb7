/**
 * The CLI's one-shot fast path (src/cli/fast/) against the full CLI, through the real binary: every read command
 * and every way it can fail, run once normally and once with ORCHESTRATE_NO_FAST_PATH=1, must print the same
 * bytes on stdout and stderr and exit with the same code. Each run also says which path it took (the bundles it
 * loaded, recorded by test/support/recordLoads.ts): the fast path alone (no dist/orchestrate.mjs, so no effect/cli)
 * where it is meant to answer, the full CLI where it is meant to step aside.
 *
 * The orchestrators are real `up` processes. Where an answer changes from one request to the next (uptimes, event
 * counts, the echoed request id), both runs ask through a proxy that replays one real answer to both
 * (test/support/replayProxy.ts); only `status`, whose "ago" columns count from the CLI's own clock, may need a
 * second pair of runs when a second ticks between the two.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { cli, type CliResult, startUp } from "../support/cli.ts"
import { curveFixture } from "../support/curve.ts"
import { tempDir } from "../support/files.ts"
import { freePort } from "../support/net.ts"
import { eventually } from "../support/orchestrator.ts"
import { replayProxy } from "../support/replayProxy.ts"
import { silentServer } from "../support/zmq.ts"

const RECORD_LOADS = Path.join(packageRoot(), "test", "support", "recordLoads.ts")

type Taken = "fast" | "full"

/** One run of the binary, and which path it took. */
const run = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("orchestrate-loads-")
    const loads = Path.join(dir, "loads")
    Fs.writeFileSync(loads, "")
    const result = yield* cli(args, { env: { ...env, NODE_OPTIONS: `--import=${RECORD_LOADS}`, ORCHESTRATE_TEST_LOADS: loads } })
    const loaded = Fs.readFileSync(loads, "utf8")
    const path: Taken | "neither" = loaded.includes("/dist/orchestrate.mjs") ? "full" : loaded.includes("/dist/fast.mjs") ? "fast" : "neither"
    return { result, path, triedFast: loaded.includes("/dist/fast.mjs") }
  }).pipe(Effect.scoped)

interface Expectation {
  /** The path the normal run takes. */
  readonly path: Taken
  readonly code: number
  /** What stdout or stderr must hold, so that two empty outputs never pass for a match. */
  readonly shows?: string | RegExp
  /** The output counts time from the CLI's own clock: a second ticking between the runs may change it. */
  readonly clockDependent?: boolean
  /**
   * Straight from an orchestrator (not through the proxy: CURVE ends at the socket it is made with), a `--json`
   * envelope holds the id of its own request, a fresh one each time: that id alone is left out of the comparison.
   */
  readonly echoesRequestId?: boolean
}

const withoutRequestId = (result: CliResult): CliResult =>
  ({ ...result, stdout: result.stdout.replace(/,"id":"[0-9a-f-]{36}"\}$/m, ',"id":"(request id)"}') })

/**
 * Runs `args` both ways and checks that they print the same bytes and exit the same, that the normal run took
 * the path expected, and that the full run never went near the fast path.
 */
const bothPaths = (args: ReadonlyArray<string>, expectation: Expectation, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const comparable = expectation.echoesRequestId === true ? withoutRequestId : (result: CliResult) => result
    for (let attempt = 1; ; attempt++) {
      // The full run first: the normal one, quicker to start, then reads the clock soon after the full run did.
      const full = yield* run(args, { ...env, ORCHESTRATE_NO_FAST_PATH: "1" })
      const normal = yield* run(args, env)
      const [normalResult, fullResult] = [comparable(normal.result), comparable(full.result)]
      const same = normalResult.code === fullResult.code && normalResult.stdout === fullResult.stdout &&
        normalResult.stderr === fullResult.stderr
      if (!same && expectation.clockDependent === true && attempt < 5) continue
      const label = `orchestrate ${args.join(" ")}`
      expect({ label, ...normalResult }).toEqual({ label, ...fullResult })
      expect({ label, path: normal.path }).toEqual({ label, path: expectation.path })
      expect({ label, triedFast: full.triedFast, path: full.path }).toEqual({ label, triedFast: false, path: "full" })
      expect({ label, code: normal.result.code }).toEqual({ label, code: expectation.code })
      if (expectation.shows !== undefined) expect(normal.result.stdout + normal.result.stderr).toMatch(expectation.shows)
      return normal.result
    }
  })

/** Cases run a few at a time: each is two processes, one after the other. */
const all = <R>(cases: ReadonlyArray<Effect.Effect<CliResult, never, R>>) =>
  Effect.forEach(cases, (one) => one, { concurrency: 3, discard: true })

const writeJson = (file: string, value: unknown) => Fs.writeFileSync(file, JSON.stringify(value))

const AGENTS = [
  { name: "api", command: "sh", args: ["-c", "echo listening on 8080; echo slow query >&2; exec sleep 600"] },
  { name: "migrate", command: "sh", args: ["-c", "echo migrated"] }
]

/** A plain orchestrator that allows every command, once its agents have written their lines and migrate is done. */
const plainOrchestrator = Effect.gen(function*() {
  const dir = yield* tempDir("orchestrate-fast-")
  const config = Path.join(dir, "orchestrate.json")
  writeJson(config, { commandInterface: { enabled: true, allowedCommands: "all" }, agents: AGENTS })
  const { address } = yield* startUp([config, "--quiet"])
  yield* eventually(cli(["logs", "--address", address]), ({ stdout }) => stdout.includes("listening on 8080") && stdout.includes("migrated"))
  yield* eventually(cli(["ps", "--address", address]), ({ stdout }) => /^migrate\s+completed/m.test(stdout))
  return { dir, address }
})

/** A plain orchestrator behind a replaying proxy, and `at`: a command line run both ways at the proxy. */
const proxied = Effect.gen(function*() {
  const { address } = yield* plainOrchestrator
  const proxy = yield* replayProxy(address)
  const at = (args: ReadonlyArray<string>, expectation: Expectation, env: Record<string, string> = {}) =>
    bothPaths([...args, "--address", proxy.address], expectation, env)
  return { proxy, at }
})

describe("the fast path prints what the full CLI prints", () => {
  it.live("every read command and its common flags, through a replaying proxy in front of a real up", () =>
    Effect.gen(function*() {
      const { proxy, at } = yield* proxied
      yield* all([
        at(["ps"], { path: "fast", code: 0, shows: /^api\s+running/m }),
        at(["ps", "--json"], { path: "fast", code: 0, shows: /^\{"status":"success"/ }),
        bothPaths(["--json", "ps", "--address", proxy.address], { path: "fast", code: 0, shows: /"name":"migrate"/ }),
        bothPaths(["ps", `--address=${proxy.address}`, "--timeout", "2"], { path: "fast", code: 0, shows: /^migrate\s+completed/m }),
        bothPaths(["ps"], { path: "fast", code: 0, shows: /^api/m }, { ORCHESTRATE_ADDRESS: proxy.address }),
        at(["ps"], { path: "fast", code: 0, shows: "\u001b[32mrunning\u001b[0m" }, { FORCE_COLOR: "1", NO_COLOR: "" }),
        at(["status"], { path: "fast", code: 0, shows: /^orchestrator\s+running/m, clockDependent: true }),
        at(["status", "api"], { path: "fast", code: 0, shows: /^agent\s+api$/m, clockDependent: true }),
        at(["status", "migrate", "--json"], { path: "fast", code: 0, shows: /"agent_name":"migrate"/ }),
        at(["status", "nope"], { path: "fast", code: 1, shows: /^error: .*nope/m }),
        at(["status", "nope", "--json"], { path: "fast", code: 1, shows: /^\{"status":"error"/ }),
        at(["stats"], { path: "fast", code: 0, shows: /^agents\s+2 total$/m }),
        at(["stats", "--json"], { path: "fast", code: 0, shows: /"total_agents":2/ }),
        at(["history"], { path: "fast", code: 0, shows: /AGENT_STARTED/ }),
        at(["history", "--limit", "2", "--all"], { path: "fast", code: 0, shows: /^SEQ/ }),
        at(["history", "--category", "command", "--limit", "3"], { path: "fast", code: 0, shows: /^SEQ/m }),
        at(["history", "--agent", "api", "--event", "AGENT_STARTED"], { path: "fast", code: 0, shows: /AGENT_STARTED/ }),
        at(["history", "--after-seq", "1", "--json"], { path: "fast", code: 0, shows: /"events":\[/ }),
        at(["history", "--agent", "nope"], { path: "fast", code: 1, shows: /^error: .*agent not found: 'nope'/m }),
        at(["logs"], { path: "fast", code: 0, shows: /^api\s+\| listening on 8080$/m }),
        at(["logs", "api", "-n", "1"], { path: "fast", code: 0, shows: /slow query|listening/ }),
        at(["logs", "--no-prefix", "--timestamps"], { path: "fast", code: 0, shows: /^\d{4}-\d{2}-\d{2}T\S+Z migrated$/m }),
        at(["logs", "api", "migrate", "--stream", "stderr"], { path: "fast", code: 0, shows: /slow query/ }),
        at(["logs", "--since", "2000-01-01T00:00:00Z", "--lines", "5"], { path: "fast", code: 0, shows: /migrated/ }),
        at(["logs", "--since", "1h"], { path: "fast", code: 0, shows: /migrated/ }),
        at(["logs", "--json"], { path: "fast", code: 0, shows: /"lines":\[/ }),
        at(["commands"], { path: "fast", code: 0, shows: /^COMMAND\s+ALLOWED/m }),
        at(["commands", "--json"], { path: "fast", code: 0, shows: /"known":\[/ }),
        at(["whoami"], { path: "fast", code: 0, shows: /^principal\s+anonymous/m })
      ])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 240_000)

  it.live("usage errors, help and anything else the fast path does not take are the full CLI's own", () =>
    Effect.gen(function*() {
      const { at } = yield* proxied
      yield* all([
        at(["ps", "--timeout", "abc"], { path: "full", code: 2, shows: /^error: .*timeout/m }),
        at(["ps", "--timeout", "0"], { path: "full", code: 2, shows: /^error: /m }),
        at(["ps", "--timeout", "99999999999"], { path: "full", code: 2, shows: "less than or equal to 86400" }),
        at(["ps", "--timeout", "86400"], { path: "fast", code: 0, shows: /^NAME/ }),
        at(["history", "--limit", "0"], { path: "full", code: 2, shows: /^error: .*limit/m }),
        at(["history", "--category", "bogus"], { path: "full", code: 2, shows: /^error: /m }),
        at(["logs", "--since", "yesterday"], { path: "full", code: 2, shows: "--since: expected a duration" }),
        at(["logs", "-n", "0"], { path: "full", code: 2, shows: /^error: /m }),
        at(["status", "api", "migrate"], { path: "full", code: 2, shows: /^error: /m }),
        at(["ps", "--bogus"], { path: "full", code: 2, shows: /--bogus/ }),
        at(["ps", "--json", "true"], { path: "full", code: 0, shows: /^\{"status":"success"/ }),
        at(["stauts"], { path: "full", code: 2, shows: /status/ }),
        at(["ps", "--help"], { path: "full", code: 0, shows: /--watch/ }),
        at(["ps", "--all-contexts"], { path: "full", code: 2, shows: /^error: --all-contexts/m }),
        at(["dependencies"], { path: "full", code: 0, shows: /^start order/m }),
        bothPaths(["--version"], { path: "full", code: 0 }),
        bothPaths(["ps", "--address", "nonsense"], { path: "full", code: 2, shows: /expected a ZeroMQ address/ }),
        // An empty variable is unset to effect's config; the fast path leaves that reading to it.
        at(["ps"], { path: "full", code: 0, shows: /^api/m }, { ORCHESTRATE_CONTEXT: "" })
      ])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 240_000)

  it.live("an orchestrator that is not there, or does not answer", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const dir = yield* tempDir("orchestrate-gone-")
      const silent = yield* silentServer
      yield* all([
        bothPaths(["ps", "--address", `tcp://127.0.0.1:${port}`], { path: "fast", code: 3, shows: "error: connection refused" }),
        bothPaths(["status", "--address", `ipc://${Path.join(dir, "none.sock")}`], { path: "fast", code: 3, shows: "connection refused" }),
        bothPaths(["ps", "--address", silent.address, "--timeout", "0.5"], { path: "fast", code: 3, shows: "error: no answer within 500ms" }),
        bothPaths(["stats", "--json", "--address", silent.address, "--timeout", "1"], { path: "fast", code: 3, shows: "no answer within 1s" })
      ])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 120_000)

  it.live("CURVE: keys from flags, variables or a context; a role's refusal; and what goes wrong with keys", () =>
    Effect.gen(function*() {
      const keys = yield* curveFixture(["ops", "viewer"])
      const config = Path.join(keys.dir, "orchestrate.json")
      writeJson(config, {
        commandInterface: {
          enabled: true,
          allowedCommands: "all",
          curve: {
            keyFile: keys.serverKeyFile,
            principals: [
              { name: "ops", publicKey: keys.clients["ops"]?.publicKey, role: "all" },
              { name: "viewer", publicKey: keys.clients["viewer"]?.publicKey, role: "basic" }
            ]
          }
        },
        agents: AGENTS
      })
      const serverKey = `${keys.serverKeyFile}.pub`
      const as = (name: string) => ["--server-key", serverKey, "--client-key", keys.keyFile(name)]
      const { address } = yield* startUp([config, "--quiet"], { env: { ORCHESTRATE_SERVER_KEY: serverKey, ORCHESTRATE_CLIENT_KEY: keys.keyFile("ops") } })
      const loose = Path.join(keys.dir, "loose.key")
      Fs.copyFileSync(keys.keyFile("ops"), loose)
      Fs.chmodSync(loose, 0o644)
      const at = (args: ReadonlyArray<string>, expectation: Expectation, env: Record<string, string> = {}) =>
        bothPaths([...args, "--address", address], expectation, env)
      yield* all([
        at(["whoami", ...as("ops")], { path: "fast", code: 0, shows: /^principal\s+ops/m }),
        at(["commands", "--json", ...as("ops")], { path: "fast", code: 0, shows: /"known":\[/, echoesRequestId: true }),
        at(["commands", "--json", ...as("viewer")], { path: "fast", code: 1, shows: /"reason":"NotAllowed"/, echoesRequestId: true }),
        at(["stats", ...as("viewer")], { path: "fast", code: 1, shows: /^error: .*\(403\)$/m }),
        at(["stats", "--json", ...as("viewer")], { path: "fast", code: 1, shows: /"status":"error"/, echoesRequestId: true }),
        at(["whoami"], { path: "fast", code: 0, shows: /^principal\s+ops/m }, {
          ORCHESTRATE_SERVER_KEY: serverKey,
          ORCHESTRATE_CLIENT_KEY: keys.keyFile("ops")
        }),
        at(["ps"], { path: "full", code: 3, shows: "the orchestrator requires CURVE" }),
        at(["ps", "--server-key", serverKey], { path: "full", code: 2, shows: "--server-key and --client-key go together" }),
        at(["ps", "--server-key", serverKey, "--client-key", loose], { path: "full", code: 2, shows: "readable by others" }),
        at(["ps", "--server-key", `${keys.keyFile("viewer")}.pub`, "--client-key", keys.keyFile("ops")], { path: "full", code: 3, shows: /^error: /m })
      ])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 240_000)

  it.live("named contexts: the current one, --context and $ORCHESTRATE_CONTEXT pick the same orchestrator", () =>
    Effect.gen(function*() {
      const { proxy } = yield* proxied
      const home = yield* tempDir("orchestrate-contexts-")
      const file = Path.join(home, "orchestrate", "contexts.json")
      Fs.mkdirSync(Path.dirname(file), { mode: 0o700 })
      writeJson(file, { current: "dev", contexts: { dev: { address: proxy.address }, gone: { address: "tcp://127.0.0.1:1" } } })
      const env = { XDG_CONFIG_HOME: home }
      yield* all([
        bothPaths(["ps"], { path: "fast", code: 0, shows: /^api/m }, env),
        bothPaths(["stats", "--context", "dev"], { path: "fast", code: 0, shows: /^agents\s+2 total$/m }, env),
        bothPaths(["ps"], { path: "fast", code: 3, shows: "connection refused" }, { ...env, ORCHESTRATE_CONTEXT: "gone" }),
        bothPaths(["ps", "--context", "gone", "--address", proxy.address], { path: "fast", code: 0, shows: /^api/m }, env),
        bothPaths(["ps", "--context", "dve"], { path: "full", code: 2, shows: "did you mean 'dev'" }, env)
      ])
      writeJson(file, { current: "dev", contexts: { dev: { address: proxy.address, extra: true } } })
      yield* all([
        bothPaths(["ps"], { path: "full", code: 2, shows: /^error: contexts file/m }, env),
        bothPaths(["ps", "--address", proxy.address], { path: "fast", code: 0, shows: /^api/m }, env)
      ])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 240_000)
})
