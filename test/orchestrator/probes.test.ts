/**
 * Readiness and liveness probes against real servers and real processes: an http readiness probe holds a
 * dependent back until the server answers, and makes the agent unready (then ready) as it stops and resumes
 * answering; a tcp liveness probe that fails restarts the agent, or fails it under `never`; an exec probe that
 * hangs past its timeout fails and leaves no process; `readyLine` behaves as the `line` probe it stands for.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect } from "effect"
import { TestClock } from "effect/testing"
import { effectAgent } from "../../src/orchestrator/AgentDefinition.ts"
import { lineProbe } from "../../src/orchestrator/Probe.ts"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir } from "../support/files.ts"
import { freePort } from "../support/net.ts"
import { awaitState, awaitStatus, eventNames, eventsOf, eventually, nodeAgent, orchestratorLayer, statusOf } from "../support/orchestrator.ts"

const every = { every: "10 millis" } as const

const timeOf = (agent: string, event: string) =>
  Effect.map(eventsOf(agent, event), (events) => events.map((e) => DateTime.toEpochMillis(e.timestamp)))

/** Processes whose command line holds `marker`, from /proc. */
const processesWith = (marker: string): ReadonlyArray<number> =>
  Fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    try {
      const cmdline = Fs.readFileSync(`/proc/${entry}/cmdline`, "utf8")
      const stat = Fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      const zombie = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z"
      return cmdline.includes(marker) && !zombie ? [Number(entry)] : []
    } catch {
      return []
    }
  })

/**
 * An HTTP server that listens only once `<dir>/open` exists, and answers 500 while `<dir>/sick` exists, 200
 * otherwise.
 */
const lateServer = `
const http = require("node:http"), fs = require("node:fs"), path = require("node:path")
const dir = process.env.GATE_DIR
const server = http.createServer((req, res) => {
  res.statusCode = fs.existsSync(path.join(dir, "sick")) ? 500 : 200
  res.end(res.statusCode === 200 ? "ok" : "database unreachable")
})
const wait = setInterval(() => {
  if (fs.existsSync(path.join(dir, "open"))) { clearInterval(wait); server.listen(Number(process.env.PORT), "127.0.0.1") }
}, 20)
`

describe("probes", () => {
  it.live("an http readiness probe holds a dependent until the server answers 200, and tracks it afterwards", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const port = yield* freePort
      const layer = orchestratorLayer([
        nodeAgent("api", lateServer, {
          env: { GATE_DIR: dir, PORT: String(port) },
          readiness: { http: { url: "http://127.0.0.1:${PORT}/healthz" }, period: 100, timeout: 500, failureThreshold: 2 }
        }),
        nodeAgent("worker", "setInterval(() => {}, 1000)", { dependsOn: ["api"] })
      ])
      yield* Effect.gen(function*() {
        // Refused connections: the probe fails, the agent stays starting, its dependent waits.
        const failing = yield* awaitStatus("api", (s) => (s.probes[0]?.consecutiveFailures ?? 0) >= 2, every)
        expect(failing).toMatchObject({ state: "starting", health: "unhealthy" })
        expect(failing.probes[0]).toMatchObject({ role: "readiness", kind: "http", target: `GET http://127.0.0.1:\${PORT}/healthz` })
        expect(failing.probes[0]?.lastFailure).toMatch(/ECONNREFUSED/)
        expect(yield* statusOf("worker")).toMatchObject({ state: "queued", waitingFor: "dependencies" })

        Fs.writeFileSync(Path.join(dir, "open"), "")
        yield* awaitState("worker", "running", every)
        expect(yield* statusOf("api")).toMatchObject({ state: "running", health: "healthy" })
        const [ready] = yield* timeOf("api", "AGENT_READY")
        const [workerStarted] = yield* timeOf("worker", "AGENT_STARTED")
        expect(ready).toBeDefined()
        expect(workerStarted).toBeGreaterThanOrEqual(ready ?? Infinity)
        // One event for the change to unhealthy, however many tries failed.
        expect((yield* eventNames("api")).filter((name) => name === "AGENT_UNHEALTHY")).toHaveLength(1)

        // Answering 500: unready, still running; then ready again.
        Fs.writeFileSync(Path.join(dir, "sick"), "")
        const sick = yield* awaitStatus("api", (s) => s.health === "unhealthy", every)
        expect(sick.state).toBe("running")
        expect(sick.probes[0]?.lastFailure).toBe("status 500: database unreachable")
        const [unready] = yield* eventsOf("api", "AGENT_UNREADY")
        expect(unready?.data).toMatchObject({ probe: "readiness", kind: "http" })
        Fs.rmSync(Path.join(dir, "sick"))
        yield* awaitStatus("api", (s) => s.health === "healthy", every)
        const names = yield* eventNames("api")
        expect(names.filter((name) => name === "AGENT_READY")).toHaveLength(2)
        expect(names.filter((name) => name === "AGENT_HEALTHY")).toHaveLength(2)
        expect((yield* statusOf("worker")).state).toBe("running")
      }).pipe(Effect.provide(layer))
    }), { timeout: 30_000 })

  it.live("a server that starts answering 500 is restarted by its http liveness probe", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-probe-")
      const port = yield* freePort
      Fs.writeFileSync(Path.join(dir, "open"), "")
      const layer = orchestratorLayer([
        nodeAgent("api", lateServer, {
          env: { GATE_DIR: dir, PORT: String(port) },
          liveness: { http: { url: "http://127.0.0.1:${PORT}/healthz" }, period: 100, timeout: 500, failureThreshold: 3 },
          restart: "always",
          backoff: { initial: 0 }
        })
      ])
      yield* Effect.gen(function*() {
        yield* awaitStatus("api", (s) => s.health === "healthy", every)
        Fs.writeFileSync(Path.join(dir, "sick"), "")
        const [restart] = yield* eventually(eventsOf("api", "AGENT_RESTARTED"), (events) => events.length > 0)
        expect(restart?.data).toMatchObject({ reason: "liveness" })
        const [unhealthy] = yield* eventsOf("api", "AGENT_UNHEALTHY")
        expect(unhealthy?.data).toMatchObject({ probe: "liveness", kind: "http", failures: 3, output: "status 500: database unreachable" })
      }).pipe(Effect.provide(layer))
    }), { timeout: 30_000 })

  it.effect("thresholds and periods, on the test clock, for an in-process agent", () =>
    Effect.gen(function*() {
      // A liveness probe on a line the agent never writes: each try fails, one per period after the initial delay.
      yield* awaitState("quiet", "running")
      yield* TestClock.adjust(Duration.seconds(2))
      expect((yield* statusOf("quiet")).restarts).toBe(0)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* TestClock.adjust(Duration.seconds(1))
      yield* TestClock.adjust(Duration.seconds(1))
      // initialDelay 2 s, then tries at 2, 3, 4 s: the third failure in a row comes at 4 s.
      yield* awaitStatus("quiet", (s) => s.restarts === 1)
      const [restart] = yield* eventsOf("quiet", "AGENT_RESTARTED")
      expect(restart?.data).toMatchObject({ reason: "liveness" })
    }).pipe(Effect.provide(orchestratorLayer([effectAgent({
      name: "quiet",
      run: Effect.never,
      restart: "always",
      backoff: { initial: 0 },
      liveness: {
        ...lineProbe(/never written/),
        period: Duration.seconds(1),
        initialDelay: Duration.seconds(2),
        failureThreshold: 3
      }
    })]))))

  it.live("a tcp liveness probe failing 3 times in a row restarts the agent (reason liveness), or fails it under never", () =>
    Effect.gen(function*() {
      const [restarted, never] = [yield* freePort, yield* freePort]
      // Listens for a moment, then stops listening but stays alive: a hung server.
      const hangs = `const s = require("node:net").createServer().listen(Number(process.env.PORT), "127.0.0.1"); ` +
        `setTimeout(() => s.close(), 300); setInterval(() => {}, 1000)`
      const liveness = { tcp: { port: 0 }, period: 100, timeout: 200, failureThreshold: 3 }
      const layer = orchestratorLayer([
        nodeAgent("flaky", hangs, {
          env: { PORT: String(restarted) },
          liveness: { ...liveness, tcp: { port: restarted } },
          restart: "on-failure",
          maxRestarts: 1,
          backoff: { initial: 0 }
        }),
        nodeAgent("fragile", hangs, { env: { PORT: String(never) }, liveness: { ...liveness, tcp: { port: never } } })
      ])
      yield* Effect.gen(function*() {
        const [restart] = yield* eventually(eventsOf("flaky", "AGENT_RESTARTED"), (events) => events.length > 0)
        expect(restart?.data).toMatchObject({ reason: "liveness", attempt: 1 })
        const [unhealthy] = yield* eventsOf("flaky", "AGENT_UNHEALTHY")
        expect(unhealthy?.data).toMatchObject({ probe: "liveness", kind: "tcp", target: `127.0.0.1:${restarted}`, failures: 3 })
        expect(unhealthy?.data["output"]).toMatch(/ECONNREFUSED/)

        const failed = yield* awaitState("fragile", "failed", every)
        expect(failed.lastError).toMatch(new RegExp(`^liveness probe \\(tcp 127\\.0\\.0\\.1:${never}\\) failed 3 times in a row: .*ECONNREFUSED`))
        expect(failed.pid).toBeNull()
        expect(yield* eventNames("fragile", { event: "AGENT_RESTARTED" })).toEqual([])
      }).pipe(Effect.provide(layer))
    }), { timeout: 30_000 })

  it.live("an exec probe that hangs past its timeout fails and is killed; one that exits 0 in the agent's cwd and env passes", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const marker = `probe-hang-${process.pid}-${Date.now()}`
      const layer = orchestratorLayer([
        nodeAgent("hung", "setInterval(() => {}, 1000)", {
          readiness: {
            exec: { command: process.execPath, args: ["-e", `setTimeout(() => {}, 60000) // ${marker}`] },
            timeout: 200,
            period: 100,
            failureThreshold: 1
          }
        }),
        nodeAgent("checked", "setInterval(() => {}, 1000)", {
          cwd: dir,
          env: { TOKEN: "secret" },
          readiness: {
            exec: {
              command: process.execPath,
              args: ["-e", `process.exit(process.env.TOKEN === "secret" && process.cwd() === ${JSON.stringify(Fs.realpathSync(dir))} ? 0 : 1)`]
            },
            period: 100
          }
        })
      ])
      yield* Effect.gen(function*() {
        const hung = yield* awaitStatus("hung", (s) => s.health === "unhealthy", every)
        expect(hung.state).toBe("starting")
        expect(hung.probes[0]).toMatchObject({ kind: "exec", lastResult: "failure", lastFailure: "timed out after 200ms" })
        // Each timed-out try killed its command: none of them piles up.
        yield* eventually(Effect.sync(() => processesWith(marker).length), (count) => count <= 1)
        expect(yield* awaitState("checked", "running", every)).toMatchObject({ health: "healthy" })
      }).pipe(Effect.provide(layer))
      expect(processesWith(marker)).toEqual([])
    }), { timeout: 30_000 })

  it.live("readyLine is a line readiness probe: both wait for their line, then are running and healthy", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const script = `console.log("booting"); const fs = require("node:fs"); ` +
        `const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(Path.join(dir, "go"))})) { clearInterval(t); console.log("ready now") } }, 20); ` +
        `setInterval(() => {}, 1000)`
      const layer = orchestratorLayer([
        nodeAgent("short", script, { readyLine: "^ready" }),
        nodeAgent("long", script, { readiness: { line: "^ready", period: 100 } })
      ], { heartbeatInterval: Duration.millis(100) })
      yield* Effect.gen(function*() {
        for (const name of ["short", "long"]) {
          const before = yield* awaitStatus(name, (s) => s.state === "starting", every)
          expect(before).toMatchObject({ health: "starting", probes: [{ role: "readiness", kind: "line", target: "/^ready/" }] })
        }
        // However long it takes, a line not yet written is not a failure of readiness: a few heartbeats (and as
        // many periods of the probe) later, nothing has failed.
        for (const name of ["short", "long"]) {
          yield* eventually(eventNames(name, { event: "AGENT_HEARTBEAT" }), (names) => names.length >= 3)
        }
        for (const name of ["short", "long"]) expect((yield* statusOf(name)).probes[0]?.consecutiveFailures).toBe(0)
        Fs.writeFileSync(Path.join(dir, "go"), "")
        for (const name of ["short", "long"]) {
          expect(yield* awaitState(name, "running", every)).toMatchObject({ health: "healthy" })
          expect(yield* eventNames(name)).toEqual(expect.arrayContaining(["AGENT_READY", "AGENT_HEALTHY"]))
        }
        // Stopped, it has no health, and its probe keeps the last verdict.
        yield* Orchestrator.use((o) => o.control.control("stop", "short"))
        expect(yield* statusOf("short")).toMatchObject({ state: "stopped", health: null, probes: [{ health: "healthy", lastResult: "success" }] })
      }).pipe(Effect.provide(layer))
    }), { timeout: 30_000 })
})
