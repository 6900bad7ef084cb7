import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { tempDir } from "../support/files.ts"

describe("examples/embedded.ts", () => {
  it.live("composes the orchestrator, its agents and the command interface in an application's layers", () =>
    Effect.scoped(Effect.gen(function*() {
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const example = Path.join(packageRoot(), "examples", "embedded.ts")
      // A socket of its own, so that two runs (or a developer's own) never collide.
      const address = `ipc://${Path.join(yield* tempDir("orch-embedded-"), "embedded.sock")}`
      const handle = yield* spawner.spawn(ChildProcess.make(process.execPath, [example], {
        stderr: "inherit",
        env: { EMBEDDED_ADDRESS: address },
        extendEnv: true
      }))
      const [output, code] = yield* Effect.all(
        [handle.stdout.pipe(Stream.decodeText(), Stream.mkString), handle.exitCode],
        { concurrency: "unbounded" }
      )
      expect(code).toBe(0)
      expect(output).toContain(`command interface listening on ${address} (allowed: monitoring)`)
      expect(output).toContain("consumed job 5")
      expect(output).toContain("finished: every agent completed")
    })).pipe(Effect.provide(NodeServices.layer)))
})
