import { NodeServices } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { cli, startUp, UpServer, upServer } from "../support/cli.ts"
import { configFile } from "../support/files.ts"

const CONFIG = Path.join(packageRoot(), "test", "fixtures", "cli.json")

const run = (args: ReadonlyArray<string>) => UpServer.use(({ address }) => cli([...args, "--address", address]))

describe("control commands with several targets (real up)", () => {
  layer(upServer([CONFIG]), { timeout: 30_000, excludeTestServices: true })("orchestrate", (it) => {
    it.effect("prints one line per agent, in dependency order", () =>
      Effect.gen(function*() {
        yield* run(["status", "--wait", "web", "--timeout", "20"])
        const stopped = yield* run(["stop", "ticker", "web"])
        expect(stopped.code).toBe(0)
        expect(stopped.stdout.trim().split("\n")).toEqual([
          expect.stringMatching(/^Agent 'web' stopped/),
          expect.stringMatching(/^Agent 'ticker' stopped/)
        ])
        const started = yield* run(["start", "w*", "t?cker"])
        expect(started.code).toBe(0)
        expect(started.stdout.trim().split("\n")).toEqual([
          expect.stringMatching(/^Agent 'ticker' (started|is already)/),
          // Started as soon as it may be: queued here until ticker is ready.
          expect.stringMatching(/^Agent 'web' (started|queued)/)
        ])
        yield* run(["status", "--wait", "web", "--timeout", "20"])
        const paused = yield* run(["pause", "all"])
        expect(paused.code).toBe(0)
        expect(paused.stdout).toContain("job: refused: cannot pause agent 'job': it is completed\n")
        expect(paused.stdout).toContain("Agent 'web' paused\n")
        expect(paused.stdout).toContain("Agent 'ticker' paused\n")
        expect(paused.stdout.trim().split("\n")).toHaveLength(3)
        const restarted = yield* run(["restart", "all"])
        expect(restarted.code).toBe(0)
        const restartedLines = restarted.stdout.trim().split("\n")
        expect(restartedLines).toHaveLength(3)
        // Restarts, each counted as one (web waits for ticker to be ready again).
        expect(restartedLines).toEqual(["Agent 'ticker' restarted", "Agent 'web' queued: waiting for its dependencies", "Agent 'job' restarted"])
        const counted = JSON.parse((yield* run(["ps", "--json"])).stdout) as { data: { agents: ReadonlyArray<{ name: string; restarts: number }> } }
        expect(counted.data.agents.map(({ name, restarts }) => [name, restarts]).sort()).toEqual([["job", 1], ["ticker", 1], ["web", 1]])
        // One name: the reply as before.
        expect((yield* run(["stop", "web"])).stdout).toMatch(/^Agent 'web' stopped\n$/)
        const missing = yield* run(["stop", "web", "nope-*"])
        expect(missing.code).toBe(1)
        expect(missing.stderr).toContain("no agent matches 'nope-*'")
      }))
  })
})

describe("a control command some of whose targets fail (real up)", () => {
  it.live("ends the error's first line with the code, and lists each target's outcome after it", () =>
    Effect.gen(function*() {
      const file = yield* configFile({
        commandInterface: { enabled: true, allowedCommands: "all" },
        agents: [
          { name: "good", command: "sleep", args: ["600"] },
          { name: "bad", command: "orchestrate-test-no-such-program", restart: "never" }
        ]
      }, "orch-multi-")
      const { address } = yield* startUp([file, "--quiet"])
      const started = yield* cli(["start", "good", "bad", "--address", address])
      expect(started.code).toBe(1)
      const lines = started.stderr.trimEnd().split("\n")
      expect(lines[0]).toBe("error: Failed to execute command: start: 1 of 2 agents failed (bad) (500)")
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(/^good: /),
        expect.stringMatching(/^bad: failed: .*no-such-program/)
      ])
      expect(lines.at(-1)).not.toMatch(/\(500\)$/)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)), 60_000)
})
