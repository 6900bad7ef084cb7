/**
 * Named contexts through the real CLI binary, with a temporary $XDG_CONFIG_HOME: `context add|list|use|remove`
 * and the file they keep; `--context`, $ORCHESTRATE_CONTEXT and the flags that override a context; and
 * `--all-contexts` across three real orchestrators (one of them with CURVE) and an address nothing listens on.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fingerprint } from "../../src/security/keys.ts"
import { cli, startUp } from "../support/cli.ts"
import { curveFixture } from "../support/curve.ts"
import { tempDir } from "../support/files.ts"
import { freePort } from "../support/net.ts"

/** The CLI with its contexts kept under `configHome`. */
const inHome = (configHome: string) =>
  (args: ReadonlyArray<string>, options: { readonly env?: Record<string, string>; readonly cwd?: string } = {}) =>
    cli(args, {
      ...options,
      env: { XDG_CONFIG_HOME: configHome, ...options.env }
    })

/** A table's rows as cells (split where two or more spaces are), its header first. */
const cells = (stdout: string): ReadonlyArray<ReadonlyArray<string>> =>
  stdout.trimEnd().split("\n").map((line) => line.split(/ {2,}/))

const json = (text: string): unknown => JSON.parse(text)

const config = (dir: string, name: string, settings: Record<string, unknown>) => {
  const file = Path.join(dir, `${name}.json`)
  Fs.writeFileSync(file, JSON.stringify(settings))
  return file
}

const sleeper = (name: string) => ({ name, command: "sleep", args: ["600"] })

describe("orchestrate context", () => {
  it.live("add, list, use and remove keep contexts.json: mode 0600 in a 0700 directory, key files by absolute path", () =>
    Effect.gen(function*() {
      const home = yield* tempDir()
      const run = inHome(home)
      const keys = yield* curveFixture(["ops"])
      const file = Path.join(home, "orchestrate", "contexts.json")

      expect(yield* run(["context", "list"])).toEqual({
        code: 0,
        stdout: `no contexts in ${file} (orchestrate context add NAME --address ADDRESS)\n`,
        stderr: ""
      })
      expect(yield* run(["context", "add", "dev", "--address", "tcp://127.0.0.1:5570"])).toEqual({
        code: 0,
        stdout: "added context 'dev': tcp://127.0.0.1:5570; 'orchestrate context use dev' makes it the default\n",
        stderr: ""
      })
      // Relative key paths, from the directory the command runs in.
      const added = yield* run(
        ["context", "add", "prod", "--address", "tcp://10.0.0.5:5570", "--server-key", "server.key.pub", "--client-key", "ops.key"],
        { cwd: keys.dir }
      )
      expect(added).toMatchObject({ code: 0, stdout: expect.stringContaining("added context 'prod': tcp://10.0.0.5:5570 with CURVE") })
      expect(Fs.statSync(file).mode & 0o777).toBe(0o600)
      expect(Fs.statSync(Path.dirname(file)).mode & 0o777).toBe(0o700)
      // Written under a temporary name and renamed: nothing else is left beside it.
      expect(Fs.readdirSync(Path.dirname(file))).toEqual(["contexts.json"])
      expect(json(Fs.readFileSync(file, "utf8"))).toEqual({
        contexts: {
          dev: { address: "tcp://127.0.0.1:5570" },
          prod: { address: "tcp://10.0.0.5:5570", serverKey: `${keys.serverKeyFile}.pub`, clientKey: keys.keyFile("ops") }
        }
      })

      expect(yield* run(["context", "add", "dev", "--address", "tcp://127.0.0.1:5571"])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: context 'dev' exists already (use --force to replace it)\n"
      })
      expect((yield* run(["context", "add", "dev", "--address", "tcp://127.0.0.1:5571", "--force"])).code).toBe(0)
      expect(yield* run(["context", "add", "x"])).toMatchObject({ code: 2, stderr: expect.stringContaining("context add needs --address") })
      expect(yield* run(["context", "add", "x", "--address", "tcp://h:1", "--server-key", keys.serverKeyFile])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining("--server-key and --client-key go together")
      })
      expect(yield* run(["context", "add", "x", "--address", "tcp://h:1", "--server-key", keys.serverKeyFile, "--client-key", "/nope.key"]))
        .toEqual({ code: 2, stdout: "", stderr: "error: key file /nope.key: no such file\n" })
      expect((yield* run(["context", "add", "bad name", "--address", "tcp://h:1"])).code).toBe(2)

      expect(yield* run(["context", "use", "prd"])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: unknown context 'prd': did you mean 'prod'? (contexts: dev, prod)\n"
      })
      expect(yield* run(["context", "use", "prod"])).toEqual({ code: 0, stdout: "using context 'prod': tcp://10.0.0.5:5570\n", stderr: "" })
      expect(cells((yield* run(["context", "list"])).stdout)).toEqual([
        ["CURRENT", "NAME", "ADDRESS", "SERVER KEY", "CLIENT KEY"],
        ["", "dev", "tcp://127.0.0.1:5571", "-", "-"],
        ["*", "prod", "tcp://10.0.0.5:5570", `${keys.serverKeyFile}.pub`, keys.keyFile("ops")]
      ])
      // $ORCHESTRATE_CONTEXT chooses over the current one, and list marks what commands would use.
      expect(json((yield* run(["context", "list", "--json"], { env: { ORCHESTRATE_CONTEXT: "dev" } })).stdout)).toEqual({
        current: "dev",
        contexts: [
          { name: "dev", address: "tcp://127.0.0.1:5571", current: true },
          { name: "prod", address: "tcp://10.0.0.5:5570", serverKey: `${keys.serverKeyFile}.pub`, clientKey: keys.keyFile("ops"), current: false }
        ]
      })

      expect(yield* run(["context", "remove", "prod"])).toEqual({
        code: 0,
        stdout: "removed context 'prod'; no context is current now\n",
        stderr: ""
      })
      expect(yield* run(["context", "remove", "prod"])).toMatchObject({ code: 2, stderr: "error: unknown context 'prod' (contexts: dev)\n" })
      expect(json(Fs.readFileSync(file, "utf8"))).toEqual({ contexts: { dev: { address: "tcp://127.0.0.1:5571" } } })
      expect(Fs.statSync(file).mode & 0o777).toBe(0o600)

      // Without $XDG_CONFIG_HOME (or with a relative one, which the spec says to ignore): under $HOME/.config.
      const otherHome = yield* tempDir()
      for (const configHome of ["", "relative/config"]) {
        const listed = yield* run(["context", "list"], { env: { XDG_CONFIG_HOME: configHome, HOME: otherHome } })
        expect(listed.stdout).toBe(`no contexts in ${Path.join(otherHome, ".config", "orchestrate", "contexts.json")} (orchestrate context add NAME --address ADDRESS)\n`)
      }
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a corrupt contexts.json is a precise error (exit 2), and an explicit --address does not read it", () =>
    Effect.gen(function*() {
      const home = yield* tempDir()
      const run = inHome(home)
      const file = Path.join(home, "orchestrate", "contexts.json")
      Fs.mkdirSync(Path.dirname(file), { mode: 0o700 })
      const dead = `tcp://127.0.0.1:${yield* freePort}`

      Fs.writeFileSync(file, "{\"contexts\": {")
      const truncated = yield* run(["ps"])
      expect(truncated.code).toBe(2)
      expect(truncated.stderr).toMatch(new RegExp(`^error: contexts file ${file}: it is not a contexts file \\(fix or remove it\\): not valid JSON: .+\\n$`))
      expect((yield* run(["context", "add", "a", "--address", dead])).code).toBe(2)
      expect(Fs.readFileSync(file, "utf8")).toBe("{\"contexts\": {")

      Fs.writeFileSync(file, JSON.stringify({
        current: "gone",
        contexts: { a: { address: "tcp://nowhere", clientKey: "relative.key" } },
        extra: true
      }))
      expect(yield* run(["context", "list"])).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: contexts file ${file}: it is not a contexts file (fix or remove it): extra: unexpected key; ` +
          "contexts.a.address: expected a ZeroMQ address such as tcp://127.0.0.1:5570, ipc:///run/orchestrate.sock or inproc://name, " +
          "got 'tcp://nowhere'; contexts.a.clientKey: expected an absolute path, got \"relative.key\"\n"
      })
      Fs.writeFileSync(file, "[".repeat(100_000) + "]".repeat(100_000))
      expect((yield* run(["context", "list"])).stderr).toBe(
        `error: contexts file ${file}: it is not a contexts file (fix or remove it): (root): nested deeper than 8 levels\n`
      )
      Fs.rmSync(file)
      Fs.mkdirSync(file)
      expect((yield* run(["ps", "--all-contexts"])).stderr).toBe(`error: contexts file ${file}: it is not a file but a directory\n`)

      // Naming the orchestrator outright owes nothing to the contexts: the broken file is not read.
      expect(yield* run(["ps", "--address", dead, "--timeout", "2"])).toMatchObject({
        code: 3,
        stderr: expect.stringContaining(`connection refused: is the orchestrator running with its command interface enabled? (${dead})`)
      })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("--context, $ORCHESTRATE_CONTEXT and 'context use' select; flags override; --all-contexts asks them all", () =>
    Effect.gen(function*() {
      const home = yield* tempDir()
      const run = inHome(home)
      const dir = yield* tempDir()
      const keys = yield* curveFixture(["ops", "stranger"])
      const curveEnv = { ORCHESTRATE_SERVER_KEY: `${keys.serverKeyFile}.pub`, ORCHESTRATE_CLIENT_KEY: keys.keyFile("ops") }
      const principals = [{ name: "ops", publicKey: keys.clients["ops"]?.publicKey, role: "monitoring" }]
      const [alpha, beta, curvy] = yield* Effect.all([
        startUp([config(dir, "alpha", {
          commandInterface: { allowedCommands: "monitoring" },
          agents: [sleeper("alpha-web"), sleeper("alpha-db")]
        })]),
        // `basic` does not allow `stats`.
        startUp([config(dir, "beta", { agents: [sleeper("beta-job")] })]),
        startUp([config(dir, "curvy", {
          commandInterface: { allowedCommands: "monitoring", curve: { keyFile: keys.serverKeyFile, principals } },
          agents: [sleeper("curvy-api")]
        })], { env: curveEnv })
      ], { concurrency: "unbounded" })
      const dead = `tcp://127.0.0.1:${yield* freePort}`
      for (const [name, address] of [["alpha", alpha.address], ["beta", beta.address], ["dead", dead]] as const) {
        expect((yield* run(["context", "add", name, "--address", address])).code).toBe(0)
      }
      expect((yield* run(
        ["context", "add", "curvy", "--address", curvy.address, "--server-key", `${keys.serverKeyFile}.pub`, "--client-key", keys.keyFile("ops")]
      )).code).toBe(0)
      const firstColumn = (stdout: string) => cells(stdout).slice(1).map((row) => row[0])

      // Selecting one.
      expect(firstColumn((yield* run(["ps", "--context", "beta"])).stdout)).toEqual(["beta-job"])
      const byVariable = yield* run(["ps"], { env: { ORCHESTRATE_CONTEXT: "curvy" } })
      expect(byVariable.code).toBe(0)
      expect(firstColumn(byVariable.stdout)).toEqual(["curvy-api"])
      expect(yield* run(["ps", "--context", "alhpa"])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: unknown context 'alhpa': did you mean 'alpha'? (contexts: alpha, beta, curvy, dead)\n"
      })
      expect((yield* run(["context", "use", "alpha"])).code).toBe(0)
      expect(firstColumn((yield* run(["ps"])).stdout)).toEqual(["alpha-web", "alpha-db"])

      // Flags and their variables override the context's values.
      expect(firstColumn((yield* run(["ps", "--context", "alpha", "--address", beta.address])).stdout)).toEqual(["beta-job"])
      expect(firstColumn((yield* run(["ps"], { env: { ORCHESTRATE_ADDRESS: beta.address } })).stdout)).toEqual(["beta-job"])
      const stranger = yield* run(["ps", "--context", "curvy", "--client-key", keys.keyFile("stranger")])
      expect(stranger.code).toBe(3)
      expect(stranger.stderr).toContain(`the orchestrator refused this client's key (${fingerprint(keys.clients["stranger"]?.publicKey ?? "")})`)

      // Every context at once: one table, the dead one on stderr, exit 3.
      const all = yield* run(["ps", "--all-contexts"])
      expect(all.code).toBe(3)
      const table = cells(all.stdout)
      expect(table[0]).toEqual(["CONTEXT", "NAME", "STATE", "HEALTH", "PID", "CPU%", "MEM", "UPTIME", "RESTARTS"])
      expect(table.slice(1).map((row) => [row[0], row[1], row[2]])).toEqual([
        ["alpha", "alpha-web", "running"],
        ["alpha", "alpha-db", "running"],
        ["beta", "beta-job", "running"],
        ["curvy", "curvy-api", "running"]
      ])
      expect(all.stderr).toBe(
        `error: context 'dead': connection refused: is the orchestrator running with its command interface enabled? (${dead})\n` +
          "error: 1 of 4 contexts failed: dead (unreachable)\n"
      )
      const printed = (yield* run(["ps", "--all-contexts", "--json"])).stdout
      expect(json(printed)).toMatchObject({
        alpha: { address: alpha.address, response: { status: "success", data: { agents: [{ name: "alpha-web" }, { name: "alpha-db" }] } } },
        beta: { address: beta.address, response: { status: "success", data: { agents: [{ name: "beta-job" }] } } },
        curvy: { address: curvy.address, response: { status: "success", data: { agents: [{ name: "curvy-api" }] } } },
        dead: { address: dead, error: { reason: "ConnectionRefused", message: expect.stringContaining("connection refused") } }
      })
      // One document, keyed by context in name order.
      expect(printed.trimEnd().split("\n")).toHaveLength(1)
      expect(Object.keys(JSON.parse(printed))).toEqual(["alpha", "beta", "curvy", "dead"])

      // An orchestrator that answers with an error: exit 1 when nothing worse happened.
      expect((yield* run(["context", "remove", "dead"])).code).toBe(0)
      const stats = yield* run(["stats", "--all-contexts"])
      expect(stats.code).toBe(1)
      expect(cells(stats.stdout).map((row) => row.slice(0, 3))).toEqual([
        ["CONTEXT", "AGENTS", "RUNNING"],
        ["alpha", "2 total", "2"],
        ["curvy", "1 total", "1"]
      ])
      expect(stats.stderr).toBe(
        "error: context 'beta': Command 'stats' not allowed: not among the commands this server allows (see the 'whoami' command) (403)\nerror: 1 of 3 contexts failed: beta (answered with an error)\n"
      )

      // Every one answering: exit 0.
      expect(yield* run(["ps", "--all-contexts"])).toMatchObject({ code: 0, stderr: "" })
      const status = yield* run(["status", "--all-contexts"])
      expect(status).toMatchObject({ code: 0, stderr: "" })
      expect(cells(status.stdout).map((row) => [row[0], row[1], row[5]])).toEqual([
        ["CONTEXT", "ORCHESTRATOR", "AGENTS"],
        ["alpha", "running", "2 total: 2 running"],
        ["beta", "running", "1 total: 1 running"],
        ["curvy", "running", "1 total: 1 running"]
      ])
      expect(yield* run(["status", "--all-contexts", "--wait"])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: --all-contexts and --wait cannot be used together: it asks every context once\n"
      })

      // A context whose key file is gone cannot be asked: exit 2, the others still shown.
      const copy = Path.join(dir, "copy.key")
      Fs.copyFileSync(keys.keyFile("ops"), copy)
      expect((yield* run(
        ["context", "add", "lost", "--address", curvy.address, "--server-key", `${keys.serverKeyFile}.pub`, "--client-key", copy]
      )).code).toBe(0)
      Fs.rmSync(copy)
      const lost = yield* run(["ps", "--all-contexts"])
      expect(lost.code).toBe(2)
      expect(firstColumn(lost.stdout)).toEqual(["alpha", "alpha", "beta", "curvy"])
      expect(lost.stderr).toBe(
        `error: context 'lost': key file ${copy}: no such file\nerror: 1 of 4 contexts failed: lost (its key files cannot be used)\n`
      )
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)
})
