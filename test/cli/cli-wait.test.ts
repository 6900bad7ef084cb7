/**
 * `status --wait` as a deploy script uses it: until every long-running agent (or the one named) is ready, failing
 * at once when one has failed for good, and saying on stderr what it is still waiting for.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cli, spawn } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { eventually } from "../support/orchestrator.ts"

const node = (script: string) => ({ command: process.execPath, args: ["-e", script] })

describe("status --wait", () => {
  it.live("waits for a slow agent's readiness, and fails at once on an agent that has failed", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orch-wait-")
      const address = `ipc://${Path.join(dir, "cmd.sock")}`
      const file = Path.join(dir, "config.json")
      Fs.writeFileSync(file, JSON.stringify({
        commandInterface: { enabled: true },
        agents: [
          { name: "slow", ...node("setTimeout(() => console.log('ready now'), 1500); setInterval(() => {}, 1000)"), readyLine: "^ready now$" },
          { name: "job", ...node("console.log('done')") }
        ]
      }))
      yield* spawn(["up", file, "--address", address, "--quiet"])
      const ready = yield* cli(["status", "--wait", "slow", "--timeout", "20", "--address", address])
      expect(ready.code).toBe(0)
      // Asked as soon as the interface answers: the agent may not even be queued yet.
      expect(ready.stderr).toMatch(/^(waiting for slow \((registered|queued|starting)\)\n)*$/)
      expect(ready.stdout).toContain("running")

      const brokenFile = Path.join(dir, "broken.json")
      const brokenAddress = `ipc://${Path.join(dir, "broken.sock")}`
      Fs.writeFileSync(brokenFile, JSON.stringify({
        commandInterface: { enabled: true },
        agents: [
          { name: "slow", ...node("setTimeout(() => console.log('ready now'), 3000); setInterval(() => {}, 1000)"), readyLine: "^ready now$" },
          { name: "broken", ...node("setTimeout(() => process.exit(4), 500)"), restart: "never" }
        ]
      }))
      yield* spawn(["up", brokenFile, "--address", brokenAddress, "--quiet"])
      const started = Date.now()
      const failed = yield* cli(["status", "--wait", "--timeout", "20", "--address", brokenAddress])
      expect(failed.code).toBe(1)
      expect(failed.stderr.split("\n").filter((line) => line !== "").at(-1)).toBe(
        "error: agent 'broken' is failed: exited with code 4; it will not become ready by waiting"
      )
      expect(failed.stderr).toContain("waiting for ")
      // At once, not after the 20 s timeout, and before `slow` was ready.
      expect(Date.now() - started).toBeLessThan(2900)

      // An agent running again after a crash: its last error is its previous run's, and the table says so.
      const flakyFile = Path.join(dir, "flaky.json")
      const flakyAddress = `ipc://${Path.join(dir, "flaky.sock")}`
      const crashed = Path.join(dir, "crashed")
      Fs.writeFileSync(flakyFile, JSON.stringify({
        commandInterface: { enabled: true },
        agents: [{
          name: "flaky",
          ...node(`const fs = require("fs"); if (!fs.existsSync(${JSON.stringify(crashed)})) { fs.writeFileSync(${JSON.stringify(crashed)}, ""); process.exit(3) } setInterval(() => {}, 1000)`),
          restart: "on-failure",
          backoff: { initial: 0, max: 0 }
        }]
      }))
      yield* spawn(["up", flakyFile, "--address", flakyAddress, "--quiet"])
      // Its first run may count as ready while it lasts: wait for the second.
      const secondRun = Effect.map(cli(["status", "flaky", "--json", "--address", flakyAddress]), ({ stdout }) =>
        stdout === "" ? undefined : (JSON.parse(stdout) as { data?: { state: string; restarts: number } }).data)
      yield* eventually(secondRun, (agent) => agent?.state === "running" && agent.restarts === 1)
      const recovered = yield* cli(["status", "--address", flakyAddress])
      expect(recovered.code).toBe(0)
      expect(recovered.stdout).toMatch(/^flaky\s+running\s.*\s1\s.*previous run: exited with code 3$/m)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
