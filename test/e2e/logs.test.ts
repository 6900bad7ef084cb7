/**
 * Agents' logs through the real `orchestrate up` and the real CLI: kept apart from the audit trail, followed without
 * gaps across restarts, printed byte for byte, written to files, and shown by `up` itself.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cli, spawn, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { ask, reqClient } from "../support/zmq.ts"

const node = (script: string) => ({ command: process.execPath, args: ["-e", script] })

const writeConfig = (config: unknown) =>
  Effect.map(tempDir("orch-logs-"), (dir) => {
    const file = Path.join(dir, "config.json")
    Fs.writeFileSync(file, JSON.stringify(config))
    return file
  })

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
      expect(broken.stderr).toContain("every agent has finished")
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
