/**
 * The supervisor's promises, kept whatever happens to `orchestrate up`: its agents (and everything they started)
 * die with it, a closed terminal stops it gracefully, and a second copy that cannot start starts nothing.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { cli, startUp } from "../support/cli.ts"
import { eventually } from "../support/orchestrator.ts"
import { configFile, tempDir } from "../support/files.ts"
import { killMarked, markedProcesses, pollUntil, testMarker } from "../support/processes.ts"

const commandLine = (pid: number): string => {
  try {
    return Fs.readFileSync(`/proc/${pid}/cmdline`, "latin1")
  } catch {
    return ""
  }
}

const node = (script: string) => ({ command: process.execPath, args: ["-e", script] })

/** Agents that fork: a shell with two children, and a Node program whose child left the process group (setsid). */
const forkingAgents = [
  { name: "forker", command: "sh", args: ["-c", "sleep 1000 & sleep 1000"] },
  {
    name: "escaper",
    ...node("require('child_process').spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' }); setInterval(() => {}, 1000)")
  },
  { name: "restarted", command: "sh", args: ["-c", "sleep 1000 & sleep 1000"] },
  { name: "again", command: "sh", args: ["-c", "sleep 1000 & sleep 1000"] }
]

const writeConfig = (config: unknown) => configFile(config, "orch-supervision-")

/** `orchestrate up` with the forking agents, every process of it marked; cleaned up whatever the test does. */
const upWithForkingAgents = Effect.gen(function*() {
  const marker = testMarker()
  yield* Effect.addFinalizer(() => killMarked(marker))
  const file = yield* writeConfig({
    agentStopTimeout: "10 seconds",
    commandInterface: { enabled: true, allowedCommands: "all" },
    agents: forkingAgents
  })
  const { address, up } = yield* startUp([file], { env: marker })
  return { address, up, marker }
})

describe("supervision", () => {
  it.live("SIGKILL of `up`: every agent process and grandchild is gone within 2 s, restarted ones included", () =>
    Effect.gen(function*() {
      const { address, up, marker } = yield* upWithForkingAgents
      // Through the interface: one agent restarted, one stopped and started again; their new processes count too.
      expect((yield* cli(["restart", "restarted", "--address", address])).code).toBe(0)
      expect((yield* cli(["stop", "again", "--address", address])).code).toBe(0)
      expect((yield* cli(["start", "again", "--address", address])).code).toBe(0)
      // up, its guardian, forker (sh + 2 sleeps), escaper (node + sleep), restarted and again (sh + 2 sleeps each).
      const running = yield* pollUntil(() => markedProcesses(marker), (pids) => pids.length >= 13, 10_000)
      expect(running.length).toBe(13)

      const killedAt = Date.now()
      yield* up.signal("SIGKILL")
      const left = yield* pollUntil(() => markedProcesses(marker), (pids) => pids.length === 0, 2000)
      const elapsed = Date.now() - killedAt
      console.log(`SIGKILL of up: the last of ${running.length - 1} processes it started was gone after ${elapsed} ms`)
      expect(left).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("a guardian that is killed is replaced at once, and the new one still kills the agents when `up` dies", () =>
    Effect.gen(function*() {
      const { address, up, marker } = yield* upWithForkingAgents
      // Its agents running, the guardian has said it is ready: one killed before that is a failed start instead.
      expect((yield* cli(["status", "--wait", "--timeout", "20", "--address", address])).code).toBe(0)
      const guardians = () => markedProcesses(marker).filter((pid) => commandLine(pid).includes("guardian"))
      const [first] = yield* pollUntil(guardians, (pids) => pids.length === 1, 10_000)
      expect(first).toEqual(expect.any(Number))
      process.kill(first ?? 0, "SIGKILL")
      const replaced = yield* pollUntil(guardians, (pids) => pids.length === 1 && pids[0] !== first, 5000)
      expect(replaced).toHaveLength(1)
      expect(replaced[0]).not.toBe(first)
      // Said before the new one is spawned, but read through a pipe: it may arrive after the new pid shows.
      const said = yield* eventually(up.stderr, (text) => text.includes("the guardian process exited (SIGKILL); starting another"))
      expect(said).toContain("the guardian process exited (SIGKILL); starting another")

      yield* up.signal("SIGKILL")
      expect(yield* pollUntil(() => markedProcesses(marker), (pids) => pids.length === 0, 2000)).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("SIGHUP (a closed terminal) shuts down gracefully, says so, exits 0 and leaves nothing behind", () =>
    Effect.gen(function*() {
      const { up, marker } = yield* upWithForkingAgents
      yield* up.signal("SIGHUP")
      const exit = yield* up.exit()
      expect(exit.code).toBe(0)
      // Why it stops comes first, then the stop.
      expect(exit.stderr).toMatch(/received SIGHUP: shutting down gracefully[^]*ORCHESTRATOR_STOPPING[^]*ORCHESTRATOR_SHUTDOWN/)
      expect(exit.stderr).toMatch(/AGENT_STOPPED.*forker|forker.*AGENT_STOPPED/)
      // The setsid'd grandchild of `escaper` was stopped with the rest, not left to the guardian.
      expect(yield* pollUntil(() => markedProcesses(marker), (pids) => pids.length === 0, 2000)).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("a second `up` on an address in use exits 2 having started nothing", () =>
    Effect.gen(function*() {
      const startedDir = yield* tempDir("orch-started-")
      const file = yield* writeConfig({
        commandInterface: { enabled: true },
        agents: [
          { name: "db", command: "sh", args: ["-c", "touch \"$STARTED_DIR/db.$$\"; exec sleep 1000"] },
          { name: "api", command: "sh", args: ["-c", "touch \"$STARTED_DIR/api.$$\"; exec sleep 1000"], dependsOn: ["db"] }
        ]
      })
      const first = testMarker()
      yield* Effect.addFinalizer(() => killMarked(first))
      const { address } = yield* startUp([file], { env: { ...first, STARTED_DIR: yield* tempDir("orch-first-") } })

      const second = testMarker()
      yield* Effect.addFinalizer(() => killMarked(second))
      const ipc = yield* cli(["up", file, "--address", address], { env: { ...second, STARTED_DIR: startedDir } })
      expect(ipc.code).toBe(2)
      expect(ipc.stderr).toContain(`error: cannot bind the command interface to ${address}`)
      expect(ipc.stderr).not.toContain("AGENT_STARTED")
      expect(ipc.stderr).not.toContain("ORCHESTRATOR_STARTED")
      // Nor does it say it stopped what never started.
      expect(ipc.stderr).not.toMatch(/ORCHESTRATOR_STOPPING|ORCHESTRATOR_SHUTDOWN/)

      // The same over TCP, on a port another program holds.
      const holder = Net.createServer()
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => void holder.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => holder.close())
      )
      const port = (holder.address() as Net.AddressInfo).port
      const tcp = yield* cli(["up", file, "--address", `tcp://127.0.0.1:${port}`], { env: { ...second, STARTED_DIR: startedDir } })
      expect(tcp.code).toBe(2)
      expect(tcp.stderr).toContain(`error: cannot bind the command interface to tcp://127.0.0.1:${port}`)
      expect(tcp.stderr).not.toContain("AGENT_STARTED")

      expect(Fs.readdirSync(startedDir)).toEqual([])
      expect(markedProcesses(second)).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("a bad key file or audit directory is refused before anything starts", () =>
    Effect.gen(function*() {
      const startedDir = yield* tempDir("orch-started-")
      const dir = yield* tempDir("orch-refused-")
      const agents = [{ name: "db", command: "sh", args: ["-c", "touch \"$STARTED_DIR/db.$$\"; exec sleep 1000"] }]
      const marker = testMarker()
      yield* Effect.addFinalizer(() => killMarked(marker))
      const env = { ...marker, STARTED_DIR: startedDir }

      const audit = yield* writeConfig({
        commandInterface: { enabled: true, auditFile: Path.join(dir, "missing", "audit.ndjson") },
        agents
      })
      const auditResult = yield* cli(["up", audit, "--address", `ipc://${Path.join(dir, "a.sock")}`], { env })
      expect(auditResult.code).toBe(2)
      expect(auditResult.stderr).toContain("audit")
      expect(auditResult.stderr).not.toContain("ORCHESTRATOR_STARTED")

      // A client's real key as the principal; the server's key file is broken.
      expect((yield* cli(["keygen", Path.join(dir, "ops.key")])).code).toBe(0)
      const opsKey = String((JSON.parse(Fs.readFileSync(Path.join(dir, "ops.key.pub"), "utf8")) as { publicKey: unknown }).publicKey)
      Fs.writeFileSync(Path.join(dir, "server.key"), "not a key", { mode: 0o600 })
      const key = yield* writeConfig({
        commandInterface: {
          enabled: true,
          curve: { keyFile: Path.join(dir, "server.key"), principals: [{ name: "ops", publicKey: opsKey, role: "all" }] }
        },
        agents
      })
      const keyResult = yield* cli(["up", key, "--address", `ipc://${Path.join(dir, "k.sock")}`], { env })
      expect(keyResult.code).toBe(2)
      expect(keyResult.stderr).toContain("server.key")
      expect(keyResult.stderr).not.toContain("ORCHESTRATOR_STARTED")

      expect(Fs.readdirSync(startedDir)).toEqual([])
      expect(markedProcesses(marker)).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
