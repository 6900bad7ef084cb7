import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import * as Fs from "node:fs"
import { Orchestrator } from "../../src/orchestrator/Orchestrator.ts"
import { MAX_LINE_LENGTH } from "../../src/logs/LineSplitter.ts"
import { isAlive } from "../support/cli.ts"
import {
  awaitState,
  awaitStatus,
  eventsOf,
  eventually,
  linesOf,
  nodeAgent,
  orchestratorLayer,
  processFrom,
  statusOf
} from "../support/orchestrator.ts"

const every = { every: "10 millis" } as const

const control = (action: "start" | "stop" | "restart" | "pause" | "resume", agent: string) =>
  Orchestrator.use((o) => o.control.control(action, agent))

/** The pids of every process in a process group, from /proc. */
const groupMembers = (pgid: number): ReadonlyArray<number> =>
  Fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    try {
      const stat = Fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      // Fields after the command name (which may contain spaces): state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      return Number(fields[2]) === pgid && fields[0] !== "Z" ? [Number(entry)] : []
    } catch {
      return []
    }
  })

/** A process's scheduling state letter: R, S, T (stopped), Z... */
const processState = (pid: number): string => {
  const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
}

const pidOf = (name: string) =>
  Effect.flatMap(awaitStatus(name, (status) => status.pid !== null, every), (status) =>
    status.pid === null ? Effect.die(new Error("no pid")) : Effect.succeed(status.pid))

describe("orchestrator with process agents", () => {
  it.live("runs a command, captures its output line by line, and completes on exit 0", () =>
    Effect.gen(function*() {
      expect(yield* Orchestrator.run).toMatchObject({ reason: "finished", failed: [] })
      const output = (yield* linesOf("printer")).map(({ stream, line }) => ({ stream, line }))
      expect(output.filter((line) => line.stream === "stdout")).toEqual([
        { stream: "stdout", line: "one" },
        { stream: "stdout", line: "two" }
      ])
      expect(output.filter((line) => line.stream === "stderr")).toEqual([{ stream: "stderr", line: "careful" }])
      // Output is kept apart from the event history.
      expect(yield* eventsOf("printer", "AGENT_OUTPUT")).toEqual([])
      const [started] = yield* eventsOf("printer", "AGENT_STARTED")
      expect(started?.data["pid"]).toEqual(expect.any(Number))
      expect(yield* statusOf("printer")).toMatchObject({ state: "completed", exitCode: 0, pid: null })
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent("printer", "console.log('one'); console.log('two'); console.error('careful')")
    ], { runMode: "until-done" }))))

  it.live("a non-zero exit is a failure with its code; a command that cannot start fails with the reason", () =>
    Effect.gen(function*() {
      expect((yield* Orchestrator.run).failed).toEqual(["exits", "missing", "nowhere"])
      expect(yield* statusOf("exits")).toMatchObject({ state: "failed", exitCode: 3, lastError: "exited with code 3" })
      expect((yield* statusOf("missing")).lastError).toBe(
        "cannot start 'no-such-command-anywhere': command not found (spawn no-such-command-anywhere ENOENT)"
      )
      expect((yield* statusOf("nowhere")).lastError).toBe("working directory does not exist: /nonexistent/dir")
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent("exits", "process.exit(3)"),
      processFrom({ name: "missing", command: "no-such-command-anywhere" }),
      processFrom({ name: "nowhere", command: "true", cwd: "/nonexistent/dir" })
    ], { runMode: "until-done" }))))

  it.live("is starting until its ready line appears, then running", () =>
    Effect.gen(function*() {
      yield* awaitState("web", "starting", every)
      expect((yield* statusOf("web")).pid).toEqual(expect.any(Number))
      yield* awaitState("web", "running", every)
      const output = (yield* linesOf("web")).map((line) => line.line)
      expect(output).toEqual(["booting", "listening on 8080"])
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent(
        "web",
        "console.log('booting'); setTimeout(() => console.log('listening on 8080'), 300); setInterval(() => {}, 1000)",
        { readyLine: "^listening on \\d+$" }
      )
    ]))))

  it.live("pauses the whole process group with SIGSTOP and resumes it with SIGCONT", () =>
    Effect.gen(function*() {
      yield* awaitState("parent", "running", every)
      const pid = yield* pidOf("parent")
      const members = yield* eventually(Effect.sync(() => groupMembers(pid)), (pids) => pids.length === 2)
      expect(members).toHaveLength(2)
      expect(yield* control("pause", "parent")).toMatchObject({ agent: { state: "paused" } })
      yield* eventually(Effect.sync(() => members.map(processState)), (states) => states.every((s) => s === "T"))
      expect(members.map(processState)).toEqual(["T", "T"])
      yield* control("resume", "parent")
      yield* eventually(Effect.sync(() => members.map(processState)), (states) => states.every((s) => s !== "T"))
      expect(members.map(processState).includes("T")).toBe(false)
      expect((yield* statusOf("parent")).state).toBe("running")
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent("parent", "require('child_process').spawn('sleep', ['30'], { stdio: 'ignore' }); setInterval(() => {}, 1000)")
    ]))))

  it.live("a stop answers as soon as the last process is killed at the end of the grace period, and says so", () =>
    Effect.gen(function*() {
      yield* awaitState("stubborn", "running", every)
      const pid = yield* pidOf("stubborn")
      yield* eventually(Effect.sync(() => groupMembers(pid)), (pids) => pids.length === 2)
      const started = Date.now()
      expect(yield* control("stop", "stubborn")).toMatchObject({
        message: "Agent 'stubborn' stopped: killed after its grace period of 300ms",
        agent: { state: "stopped", pid: null }
      })
      // The grace period, plus a little: not the second or more the platform's cleanup used to add.
      expect(Date.now() - started).toBeLessThan(1000)
      expect(groupMembers(pid)).toEqual([])
      // A restart says so too; one that stopped it gracefully does not.
      expect(yield* control("start", "stubborn")).toMatchObject({ message: "Agent 'stubborn' started" })
      // Once its shell ignores SIGTERM: it has started its child by then.
      const again = yield* pidOf("stubborn")
      yield* eventually(Effect.sync(() => groupMembers(again)), (pids) => pids.length === 2)
      expect(yield* control("restart", "stubborn")).toMatchObject({
        message: "Agent 'stubborn' restarted; its last run was killed after its grace period of 300ms",
        agent: { restarts: 1 }
      })
      expect(yield* control("restart", "gentle")).toMatchObject({ message: "Agent 'gentle' restarted" })
    }).pipe(Effect.provide(orchestratorLayer([
      processFrom({ name: "gentle", command: "sleep", args: ["1000"] }),
      // The shell's child inherits the ignored SIGTERM, and is left a zombie once both are killed.
      processFrom({ name: "stubborn", command: "sh", args: ["-c", "trap '' TERM; sleep 1000 & wait"], stopTimeout: 300 })
    ]))))

  it.live("a stop also stops what the agent started outside its process group (setsid), gracefully", () =>
    Effect.gen(function*() {
      yield* awaitState("escaper", "running", every)
      const [line] = yield* eventually(
        Effect.map(linesOf("escaper"), (lines) => lines.map((line) => line.line)),
        (lines) => lines.length > 0
      )
      const grandchild = Number(line)
      expect(isAlive(grandchild)).toBe(true)
      expect(yield* control("stop", "escaper")).toMatchObject({ message: "Agent 'escaper' stopped" })
      expect(isAlive(grandchild)).toBe(false)
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent(
        "escaper",
        "const c = require('child_process').spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000)",
        { stopTimeout: 5000 }
      )
    ]))))

  it.live("a stop asks each process once: its SIGTERM handler runs once, stop after stop", () =>
    Effect.gen(function*() {
      for (let round = 1; round <= 8; round++) {
        yield* awaitState("counter", "running", every)
        yield* eventually(linesOf("counter"), (lines) => lines.filter((line) => line.line === "up").length === round)
        yield* control("stop", "counter")
        yield* Orchestrator.use((o) => o.control.control("start", "counter"))
      }
      const terms = (yield* linesOf("counter")).filter((line) => line.line.startsWith("term"))
      expect(terms.map((line) => line.line)).toEqual(Array.from({ length: 8 }, () => "term 1"))
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent(
        "counter",
        "let n = 0; process.on('SIGTERM', () => { console.log('term ' + ++n); setTimeout(() => process.exit(0), 50) }); console.log('up'); setInterval(() => {}, 1000)",
        { readyLine: "^up$" }
      )
    ]))), 30_000)

  it.live("a line longer than 8192 characters is split, wherever it ends", () =>
    Effect.gen(function*() {
      yield* Orchestrator.run
      expect((yield* linesOf("long")).map((line) => line.line.length)).toEqual([8192, 8192, 8192, 30_000 - 3 * 8192, 2])
    }).pipe(Effect.provide(orchestratorLayer([nodeAgent("long", "process.stdout.write('x'.repeat(30000) + '\\nok\\n')")], {
      runMode: "until-done"
    }))))

  it.live("stops a process that ignores SIGTERM with SIGKILL after the grace period", () =>
    Effect.gen(function*() {
      yield* awaitState("stubborn", "running", every)
      const pid = yield* pidOf("stubborn")
      const started = Date.now()
      expect(yield* control("stop", "stubborn")).toMatchObject({ agent: { state: "stopped", pid: null } })
      expect(Date.now() - started).toBeGreaterThanOrEqual(300)
      const [stopped] = yield* eventsOf("stubborn", "AGENT_STOPPED")
      expect(stopped?.data).toEqual({ forced: true, grace_ms: 300 })
      expect(groupMembers(pid)).toEqual([])
      const output = (yield* linesOf("stubborn")).map((line) => line.line)
      expect(output).toContain("ignoring SIGTERM")
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent(
        "stubborn",
        "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000)",
        { readyLine: "^up$", stopTimeout: 300 }
      )
    ]))))

  it.live("stops a process that honours SIGTERM without force, and leaves nothing of its group behind", () =>
    Effect.gen(function*() {
      yield* awaitState("shell", "running", every)
      const pid = yield* pidOf("shell")
      yield* eventually(Effect.sync(() => groupMembers(pid)), (pids) => pids.length === 3)
      expect(groupMembers(pid)).toHaveLength(3)
      yield* control("stop", "shell")
      const [stopped] = yield* eventsOf("shell", "AGENT_STOPPED")
      expect(stopped?.data).toMatchObject({ forced: false })
      expect(yield* eventually(Effect.sync(() => groupMembers(pid)), (pids) => pids.length === 0)).toEqual([])
    }).pipe(Effect.provide(orchestratorLayer([
      processFrom({ name: "shell", command: "sh", args: ["-c", "sleep 30 & sleep 30 & wait"] })
    ]))))

  it.live("heartbeats whenever the liveness probe finds the process alive, keeping only the last few", () =>
    Effect.gen(function*() {
      yield* awaitState("alive", "running", every)
      const [first] = yield* eventually(eventsOf("alive", "AGENT_HEARTBEAT"), (events) => events.length > 0)
      // Once the first heartbeat has been dropped, more than three have been recorded: only the last three stay.
      const later = yield* eventually(eventsOf("alive", "AGENT_HEARTBEAT"), (events) => events.every((event) => event.seq !== first?.seq))
      expect(later.every((event) => event.seq !== first?.seq)).toBe(true)
      expect(later.length).toBe(3)
      expect((yield* statusOf("alive")).lastHeartbeat).not.toBeNull()
    }).pipe(Effect.provide(orchestratorLayer([nodeAgent("alive", "setInterval(() => {}, 1000)")], {
      heartbeatInterval: Duration.millis(40)
    }))))

  it.live("an agent that dies while paused is failed, with the signal", () =>
    Effect.gen(function*() {
      yield* awaitState("fragile", "running", every)
      const pid = yield* pidOf("fragile")
      yield* control("pause", "fragile")
      process.kill(pid, "SIGKILL")
      expect(yield* awaitState("fragile", "failed", every)).toMatchObject({ lastError: "killed by SIGKILL" })
    }).pipe(Effect.provide(orchestratorLayer([nodeAgent("fragile", "setInterval(() => {}, 1000)")]))))

  it.live("splits a runaway line instead of holding it whole", () =>
    Effect.gen(function*() {
      yield* Orchestrator.run
      const lines = (yield* linesOf("runaway")).map((line) => line.line.length)
      expect(lines).toEqual([MAX_LINE_LENGTH, MAX_LINE_LENGTH, 20_000 - 2 * MAX_LINE_LENGTH])
    }).pipe(Effect.provide(orchestratorLayer([nodeAgent("runaway", "process.stdout.write('x'.repeat(20000))")], {
      runMode: "until-done",
      events: { capacity: 100, maxValueBytes: 16_384, retention: [] }
    }))))

  it.live("restarts a crashing process with backoff until it gives up", () =>
    Effect.gen(function*() {
      expect((yield* Orchestrator.run).failed).toEqual(["crasher"])
      expect(yield* statusOf("crasher")).toMatchObject({
        state: "failed",
        restarts: 2,
        lastError: "exited with code 1 (gave up after 2 restarts in a row)"
      })
      expect(yield* eventsOf("crasher", "AGENT_STARTED")).toHaveLength(3)
    }).pipe(Effect.provide(orchestratorLayer([
      nodeAgent("crasher", "process.exit(1)", { restart: "on-failure", maxRestarts: 2, backoff: { initial: 20 } })
    ], { runMode: "until-done" }))))
})
