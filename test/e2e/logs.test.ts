/**
 * Agents' logs through the real `orchestrate up` and the real CLI: kept apart from the audit trail, followed without
 * gaps across restarts, printed byte for byte, written to files, and shown by `up` itself.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { BIN, cli, ipcAddress, spawn, startUp } from "../support/cli.ts"
import { configFile, tempDir } from "../support/files.ts"
import { eventually } from "../support/orchestrator.ts"
import { ask, reqClient } from "../support/zmq.ts"

const node = (script: string) => ({ command: process.execPath, args: ["-e", script] })

const writeConfig = (config: unknown) => configFile(config, "orch-logs-")

/** What the `writer` agent prints: unusual but valid text, so that a byte-for-byte comparison means something. */
const WRITTEN = Array.from({ length: 300 }, (_, i) => `line ${i}\twith  spaces, ünïcödé ✓ and "quotes" {${i}}`)

describe("agent logs", () => {
  it.live("are kept whatever the command traffic, and printed byte for byte with --no-prefix", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig({
        commandInterface: { enabled: true, allowedCommands: "all" },
        agents: [{ name: "writer", ...node(`process.stdout.write(${JSON.stringify(WRITTEN.join("\n") + "\n")}); setInterval(() => {}, 1000)`) }]
      })
      const { address } = yield* startUp([file, "--quiet"])
      const all = yield* Effect.repeat(cli(["logs", "writer", "-n", "1000", "--no-prefix", "--address", address]), {
        until: (result) => result.stdout.split("\n").length > WRITTEN.length,
        times: 100
      })
      expect(all.stdout).toBe(WRITTEN.join("\n") + "\n")

      // A script polling `ps` as fast as it can: 10,000 audit records, none of which may evict a line.
      const client = yield* reqClient(address)
      for (let i = 0; i < 10_000; i++) yield* ask(client, { command: "ps" })
      const last = yield* cli(["logs", "writer", "-n", "5", "--no-prefix", "--address", address])
      expect(last).toMatchObject({ code: 0, stdout: WRITTEN.slice(-5).join("\n") + "\n" })
      const prefixed = yield* cli(["logs", "-n", "1", "--address", address])
      expect(prefixed.stdout).toBe(`writer | ${WRITTEN[WRITTEN.length - 1]}\n`)
      // --timestamps without a prefix: the time, then exactly what the agent wrote.
      const timed = yield* cli(["logs", "-n", "1", "--no-prefix", "--timestamps", "--address", address])
      expect(timed.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /)
      expect(timed.stdout.slice(25)).toBe(`${WRITTEN[WRITTEN.length - 1]}\n`)
      // The audit trail is kept apart too: `history` shows agents' and the orchestrator's events, not 10,000 `ps`.
      const history = JSON.parse((yield* cli(["history", "--limit", "1000", "--json", "--address", address])).stdout) as {
        data: { events: Array<{ category: string; event_name: string; agent_name: string | null }> }
      }
      expect(new Set(history.data.events.map((event) => event.category))).toEqual(new Set(["agent", "orchestrator"]))
      expect(history.data.events.filter((event) => event.agent_name === "writer").map((event) => event.event_name)).toContain("AGENT_STARTED")
      const audit = JSON.parse((yield* cli(["history", "--category", "command", "--limit", "5", "--json", "--address", address])).stdout) as {
        data: { events: Array<{ category: string }> }
      }
      expect(audit.data.events.map((event) => event.category)).toEqual(["command", "command", "command", "command", "command"])
      const unknown = yield* cli(["logs", "ghost", "--address", address])
      expect(unknown).toMatchObject({ code: 1, stderr: "error: Failed to execute command: agent not found: 'ghost' (500)\n" })
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("--follow shows every line once, in order, with each restart marked", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig({
        commandInterface: { enabled: true, allowedCommands: "all" },
        agents: [{
          name: "flaky",
          ...node("for (let i = 0; i < 20; i++) console.log('run line ' + i); setTimeout(() => process.exit(1), 100)"),
          restart: "always",
          maxRestarts: 1000,
          backoff: { initial: 50, max: 50 }
        }]
      })
      const { address } = yield* startUp([file, "--quiet"])
      const follower = yield* spawn(["logs", "-f", "--json", "-n", "1000", "--interval", "0.1", "--address", address])
      const lines = () =>
        Effect.map(follower.stdout, (text) =>
          text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as { seq: number; stream: string; line: string }))
      const seen = yield* lines().pipe(
        Effect.tap(() => Effect.sleep("50 millis")),
        Effect.repeat({ until: (parsed) => parsed.filter((line) => line.stream === "orchestrator").length >= 3, times: 200 })
      )
      expect(seen.filter((line) => line.stream === "orchestrator").length).toBeGreaterThanOrEqual(3)
      // One agent: its seqs run 1, 2, 3, ... with none missing and none twice, restarts included.
      expect(seen.map((line) => line.seq)).toEqual(seen.map((_, i) => i + 1))
      expect(seen.filter((line) => line.stream === "stdout").slice(0, 21).map((line) => line.line)).toEqual([
        ...Array.from({ length: 20 }, (_, i) => `run line ${i}`),
        "run line 0"
      ])
      expect(seen.find((line) => line.stream === "orchestrator")?.line).toBe("restarted (attempt 1, after 50 ms)")
      yield* follower.signal("SIGINT")
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("--follow pads every line to the widest agent named, before that agent has written anything", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig({
        commandInterface: { enabled: true, allowedCommands: "all" },
        agents: [
          { name: "db", ...node("console.log('db up'); setInterval(() => {}, 1000)") },
          { name: "frontend", ...node("setTimeout(() => console.log('frontend up'), 1500); setInterval(() => {}, 1000)") }
        ]
      })
      const { address } = yield* startUp([file, "--quiet"])
      const follower = yield* spawn(["logs", "-f", "db", "frontend", "--interval", "0.1", "--address", address])
      const shown = yield* follower.waitForStdout((text) => text.includes("frontend up\n"))
      expect(shown).toBe("db       | db up\nfrontend | frontend up\n")
      yield* follower.signal("SIGINT")
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("`up` shows agents' output prefixed (not with --quiet), writes and rotates files, and keeps going when it cannot", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-logs-files-")
      const file = yield* writeConfig({
        runMode: "until-done",
        logs: { dir: "logs", maxBytes: 2048, keep: 2 },
        agents: [
          { name: "chatty", ...node("for (let i = 0; i < 200; i++) console.log('chatty line ' + String(i).padStart(3, '0'))") },
          { name: "db", ...node("console.error('db ready')") }
        ]
      })
      const run = yield* cli(["up", file])
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("chatty | chatty line 199\n")
      expect(run.stdout).toContain("db     | db ready\n")
      const logs = Path.join(Path.dirname(file), "logs")
      expect(Fs.readdirSync(logs).sort()).toEqual(["chatty.log", "chatty.log.1", "chatty.log.2", "db.log"])
      for (const name of ["chatty.log", "chatty.log.1", "chatty.log.2"]) expect(Fs.statSync(Path.join(logs, name)).size).toBeLessThanOrEqual(2048)
      expect(Fs.readFileSync(Path.join(logs, "chatty.log"), "utf8").trimEnd().split("\n").at(-1)).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout chatty line 199$/)
      expect(Fs.readFileSync(Path.join(logs, "db.log"), "utf8")).toMatch(/^\S+Z stderr db ready\n$/)

      const quiet = yield* cli(["up", file, "--quiet"])
      expect(quiet).toMatchObject({ code: 0, stdout: "" })

      // A log directory that cannot exist (below a regular file): logged once, and the agents still run and finish.
      Fs.writeFileSync(Path.join(dir, "not-a-dir"), "")
      const broken = yield* cli(["up", file, "--logs-dir", Path.join(dir, "not-a-dir", "logs")])
      expect(broken.code).toBe(0)
      expect(broken.stdout).toContain("chatty | chatty line 199\n")
      expect(broken.stderr.match(/cannot write agent log .*chatty\.log: ENOTDIR/g)).toHaveLength(1)
      // And at the very end, after the last lines were tried, how much was lost: chatty's 200 lines and db's one.
      const said = broken.stderr.trimEnd().split("\n")
      expect(said.at(-1)).toContain("WARN")
      expect(said.at(-1)?.endsWith(`: 201 agent log lines could not be written to ${Path.join(dir, "not-a-dir", "logs")}`)).toBe(true)
      expect(said.findIndex((line) => line.includes("every agent has finished"))).toBeLessThan(said.length - 1)
      expect(run.stderr).not.toContain("could not be written")

      // Under /proc any new name is ENOENT, where Node's own recursive mkdir spun for ever, signals unheard.
      if (Fs.existsSync("/proc/self")) {
        const proc = yield* cli(["up", file, "--quiet", "--logs-dir", "/proc/orchestrate-no-such/logs"])
        expect(proc.code).toBe(0)
        expect(proc.stderr.match(/cannot write agent log .*chatty\.log: ENOENT: no such file or directory, mkdir '\/proc\/orchestrate-no-such'/g)).toHaveLength(1)
        expect(proc.stderr.trimEnd().split("\n").at(-1)?.endsWith(": 201 agent log lines could not be written to /proc/orchestrate-no-such/logs")).toBe(true)
      }
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("-f -n 0 shows only the lines written after it started; -n 0 alone is a usage error", () =>
    Effect.gen(function*() {
      const gate = Path.join(yield* tempDir("orch-gate-"), "go")
      const file = yield* writeConfig({
        commandInterface: { enabled: true, allowedCommands: "monitoring" },
        agents: [{
          name: "api",
          ...node(`console.log('before'); const t = setInterval(() => { if (require('fs').existsSync(${JSON.stringify(gate)})) { clearInterval(t); console.log('after') } }, 20)`)
        }]
      })
      const { address } = yield* startUp([file, "--quiet"])
      yield* eventually(cli(["logs", "--no-prefix", "--address", address]), ({ stdout }) => stdout === "before\n")
      const logsRequests = Effect.map(
        cli(["history", "--category", "command", "--json", "--address", address]),
        ({ stdout }) => (JSON.parse(stdout) as { data: { events: ReadonlyArray<{ data: { command?: unknown } }> } }).data.events.filter((event) => event.data.command === "logs").length
      )
      const asked = yield* logsRequests
      const follower = yield* spawn(["logs", "-f", "-n", "0", "--interval", "0.1", "--address", address])
      // Once it has read its first page (the audit trail has one more `logs`), the next line is new to it.
      yield* eventually(logsRequests, (count) => count > asked)
      Fs.writeFileSync(gate, "")
      expect(yield* follower.waitForStdout((text) => text.includes("after\n"))).toBe("api | after\n")
      yield* follower.signal("SIGINT")
      expect(yield* cli(["logs", "-n", "0", "--address", address])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: --lines 0 shows no line: it is for --follow (-f -n 0 prints only the lines written from now on)\n"
      })
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("--since refuses a bare number, before any orchestrator is asked", () =>
    Effect.gen(function*() {
      // Refused before any orchestrator is asked: `5` was the year 2001.
      expect(yield* cli(["logs", "--since", "5"])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: --since: expected a duration such as 10m, 2h or 30s, or an ISO-8601 instant with its zone (2026-12-01T10:00:00Z), got '5'\n"
      })
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("--follow says on stderr when an agent wrote more than it keeps between two polls", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig({
        commandInterface: { enabled: true, allowedCommands: "all" },
        logs: { keepLines: 5 },
        agents: [{ name: "burst", ...node("let n = 0; setInterval(() => { for (let i = 0; i < 50; i++) console.log('burst line ' + n++) }, 200)") }]
      })
      const { address } = yield* startUp([file, "--quiet"])
      const follower = yield* spawn(["logs", "-f", "--no-prefix", "--interval", "1", "--address", address])
      const stderr = yield* follower.stderr.pipe(
        Effect.tap(() => Effect.sleep("100 millis")),
        Effect.repeat({ until: (text) => text.includes("\n"), times: 100 })
      )
      expect(stderr.split("\n")[0]).toBe("--- burst: lines were dropped before they could be shown (raise logs.keepLines) ---")
      // What it shows is still in order, with nothing twice.
      const shown = (yield* follower.stdout).split("\n").filter((line) => line !== "").map((line) => Number(line.slice("burst line ".length)))
      expect(shown).toEqual([...shown].sort((a, b) => a - b))
      expect(new Set(shown).size).toBe(shown.length)
      yield* follower.signal("SIGINT")
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("followers wait through an orchestrator restart, say so, and start again from the new one's first line", () =>
    Effect.gen(function*() {
      const address = yield* ipcAddress
      const agentWriting = (text: string, count: number) =>
        writeConfig({
          commandInterface: { enabled: true, allowedCommands: "all" },
          agents: [{ name: "writer", ...node(`for (let i = 0; i < ${count}; i++) console.log('${text} ' + i); setInterval(() => {}, 1000)`) }]
        })
      // The new one writes more than the old: by the time the follower reaches it, its seqs are past the cursor.
      const first = yield* agentWriting("first run", 3)
      const second = yield* agentWriting("second run", 60)
      const upOn = (config: string) =>
        Effect.gen(function*() {
          const up = yield* spawn(["up", config, "--quiet", "--address", address])
          const ready = yield* cli(["status", "--wait", "--timeout", "20", "--address", address], { timeout: "25 seconds" })
          expect(ready.code, ready.stderr).toBe(0)
          return up
        })
      // Where nothing ever answered, they do not wait: that address is a mistake, said at once (exit 3).
      for (const command of [["logs", "-f"], ["history", "--follow"], ["stats", "--watch"]]) {
        expect(yield* cli([...command, "--interval", "0.1", "--address", address])).toEqual({
          code: 3,
          stdout: "",
          stderr: `error: connection refused: is the orchestrator running with its command interface enabled? (${address})\n`
        })
      }
      const before = yield* upOn(first)
      const follower = yield* spawn(["logs", "-f", "--no-prefix", "-n", "1000", "--interval", "0.1", "--address", address])
      const events = yield* spawn(["history", "--follow", "--event", "ORCHESTRATOR_STARTED", "--json", "--interval", "0.1", "--address", address])
      const watcher = yield* spawn(["stats", "--watch", "--interval", "0.1", "--address", address])
      yield* follower.waitForStdout((text) => text.includes("first run 2\n"))
      yield* events.waitForStdout((text) => text.includes("ORCHESTRATOR_STARTED"))
      // Each has had its first answer: only then does it wait through an outage.
      yield* watcher.waitForStdout((text) => text.includes("total_agents=1 "))
      // Nothing listens for many polls: they wait, and say so once.
      yield* before.signal("SIGINT")
      expect((yield* before.exit()).code).toBe(0)
      // Refused once the old one is gone; a poll that came while it was stopping may have been told so instead.
      const at = address.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&")
      const waiting = new RegExp(`^--- no orchestrator answers at ${at} \\((connection refused|shutting down)\\); waiting for it \\(Ctrl-C to stop\\) ---\n`)
      yield* eventually(follower.stderr, (text) => waiting.test(text))
      yield* eventually(events.stderr, (text) => waiting.test(text))
      yield* Effect.sleep("500 millis")
      yield* upOn(second)
      const text = yield* follower.waitForStdout((stdout) => stdout.includes("second run 59\n"))
      expect(text).toBe([...Array.from({ length: 3 }, (_, i) => `first run ${i}`), ...Array.from({ length: 60 }, (_, i) => `second run ${i}`)].join("\n") + "\n")
      const notes = new RegExp(`${waiting.source}--- the orchestrator answers again ---\n--- the orchestrator restarted ---\n$`)
      expect(yield* follower.stderr).toMatch(notes)
      // history --follow too: the new orchestrator's start, with a seq the old one had passed long before.
      const pages = yield* events.waitForStdout((stdout) => stdout.split("ORCHESTRATOR_STARTED").length === 3)
      const seqs = pages.split("\n").filter((line) => line !== "")
        .flatMap((line) => (JSON.parse(line) as { data: { events: ReadonlyArray<{ seq: number }> } }).data.events.map((event) => event.seq))
      expect(seqs).toHaveLength(2)
      expect(yield* events.stderr).toMatch(notes)
      // `--watch` waits as well, and refreshes again from the new one.
      expect(yield* eventually(watcher.stderr, (text) => text.includes("answers again"))).toMatch(
        new RegExp(`${waiting.source}--- the orchestrator answers again ---\n$`)
      )
      const refreshed = (yield* watcher.waitForStdout(() => true)).split("\n").length
      expect(yield* watcher.waitForStdout((stdout) => stdout.split("\n").length > refreshed + 1)).toMatch(/total_agents=1 /)
      yield* watcher.signal("SIGINT")
      yield* follower.signal("SIGINT")
      yield* events.signal("SIGINT")
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  it.live("`up` drops what it cannot show to a reader that stopped reading, keeps its memory, and says how much", () =>
    Effect.gen(function*() {
      const address = yield* ipcAddress
      // 200,000 lines of 1000 bytes: 200 MB that `up` would otherwise hold for its unread standard output.
      const up = yield* unreadUp(process.execPath, [BIN, "up", yield* flood(200), "--address", address])
      yield* untilFloodDone(address, up)
      const rssMegabytes = Number(/VmRSS:\s+(\d+) kB/.exec(Fs.readFileSync(`/proc/${up.pid}/status`, "utf8"))?.[1]) / 1024
      // About 150 MB here, garbage included, whatever the amount; over 400 MB when every line was queued.
      expect(rssMegabytes).toBeLessThan(250)
      const { shown, notShown } = yield* readUntilMarker(up, 200_001)
      expect(notShown).toBeGreaterThan(190_000)
      // Every line either shown or counted, none twice.
      expect(shown + notShown).toBe(200_001)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)

  // `script` runs `up` on a terminal of its own and copies what it shows to a pipe: unread, the terminal stalls as
  // one stopped with Ctrl-S does.
  const hasScript = ChildProcess.spawnSync("script", ["--version"]).status === 0
  it.live.skipIf(!hasScript)("`up` on a terminal that stopped showing keeps answering, and says how much it did not show", () =>
    Effect.gen(function*() {
      const address = yield* ipcAddress
      const command = [process.execPath, BIN, "up", yield* flood(20), "--address", address].map((arg) => JSON.stringify(arg)).join(" ")
      const up = yield* unreadUp("script", ["-qfec", command, "/dev/null"])
      // Answered while the terminal holds what it was given: a blocking write would have stopped everything.
      yield* untilFloodDone(address, up)
      const { shown, notShown } = yield* readUntilMarker(up, 20_001)
      expect(notShown).toBeGreaterThan(0)
      expect(shown + notShown).toBe(20_001)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})

/** An agent `flood` that writes `thousands` x 1000 lines of 1000 bytes, then `flood done`, and stays up. */
const flood = (thousands: number) =>
  writeConfig({
    commandInterface: { enabled: true, allowedCommands: "all" },
    agents: [{
      name: "flood",
      ...node(
        `const line = 'x'.repeat(1000); let n = 0; const batch = () => { for (let i = 0; i < 1000; i++) console.log(line); if (++n < ${thousands}) setImmediate(batch); else console.log('flood done') }; batch(); setInterval(() => {}, 1000)`
      )
    }]
  })

interface UnreadUp {
  readonly pid: number
  readonly stderr: () => string
  /** Standard output from when `read` was first called: until then nobody reads it, and its pipe fills up. */
  readonly read: () => string
}

/** `command args` (an `up`) with standard error read throughout and standard output left unread; killed with the scope. */
const unreadUp = (command: string, args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    // Without colour, whatever the environment running the tests says.
    const { FORCE_COLOR: _forced, ...environment } = process.env
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => ChildProcess.spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...environment, NO_COLOR: "1" } })),
      (child) => Effect.sync(() => child.kill("SIGKILL"))
    )
    const pid = child.pid
    if (pid === undefined) return yield* Effect.die(new Error(`${command} did not start`))
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    let stdout: string | undefined
    const up: UnreadUp = {
      pid,
      stderr: () => stderr,
      read: () => {
        if (stdout === undefined) {
          stdout = ""
          child.stdout.on("data", (chunk: Buffer) => {
            stdout = `${stdout ?? ""}${chunk.toString()}`
          })
        }
        return stdout
      }
    }
    return up
  })

/** Waits until the orchestrator at `address` answers and has kept the flood's last line. */
const untilFloodDone = (address: string, up: UnreadUp) =>
  Effect.gen(function*() {
    const ready = yield* cli(["status", "--wait", "--timeout", "20", "--address", address], { timeout: "25 seconds" })
    expect(ready.code, up.stderr()).toBe(0)
    const done = yield* cli(["logs", "flood", "-n", "1", "--no-prefix", "--address", address]).pipe(
      Effect.tap(() => Effect.sleep("200 millis")),
      Effect.repeat({ until: (result) => result.code !== 0 || result.stdout === "flood done\n", times: 150 })
    )
    expect(done).toMatchObject({ code: 0, stdout: "flood done\n" })
  })

const NOT_SHOWN = /^--- (\d+) lines? not shown here \(they are kept: orchestrate logs\) ---$/

/**
 * Reads `up`'s output until it says what it did not show, and until the lines shown and said not shown add up to
 * `written` (or stop coming): a terminal may drain a little, and say so, before it stalls, and the marker for the
 * rest comes once it is read. Every line is the flood's or such a marker (or, on a terminal, which shows standard
 * error too, one of the orchestrator's own log lines).
 */
const readUntilMarker = (up: UnreadUp, written: number) =>
  Effect.gen(function*() {
    const count = () => {
      const lines = up.read().split(/\r?\n/).filter((line) => line !== "" && !/^\[\d\d:\d\d:\d\d\.\d{3}\] /.test(line))
      return {
        lines,
        shown: lines.filter((line) => line.startsWith("flood | ")).length,
        notShown: lines.reduce((sum, line) => sum + Number(NOT_SHOWN.exec(line)?.[1] ?? 0), 0)
      }
    }
    yield* Effect.sleep("100 millis").pipe(Effect.repeat({
      until: () => {
        const { lines, shown, notShown } = count()
        return lines.some((line) => NOT_SHOWN.test(line)) && shown + notShown >= written
      },
      times: 200
    }))
    const { lines, shown, notShown } = count()
    expect(lines.filter((line) => !line.startsWith("flood | ") && !NOT_SHOWN.test(line))).toEqual([])
    return { shown, notShown }
  })
