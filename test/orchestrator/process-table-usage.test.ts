/**
 * ProcessTable.usageOf over real processes: what a sample finds of a run, including what a sample that skips the
 * processes found in no run last time must still find.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeChildProcess from "node:child_process"
import { makeProcessTable, type Run } from "../../src/orchestrator/ProcessTable.ts"
import { processState } from "../support/cli.ts"
import { eventually } from "../support/orchestrator.ts"

/** A shell leading a process group of its own, killed (with its group) when the scope closes. */
const groupLeader = (script: string) =>
  Effect.acquireRelease(
    Effect.sync(() => NodeChildProcess.spawn("sh", ["-c", script], { detached: true, stdio: ["pipe", "ignore", "ignore"] })),
    (child) =>
      Effect.sync(() => {
        try {
          process.kill(-(child.pid ?? 0), "SIGKILL")
        } catch {
          // Gone already.
        }
      })
  ).pipe(Effect.flatMap((child) => child.pid === undefined ? Effect.die(new Error("no pid")) : Effect.succeed({ child, pid: child.pid })))

const pidsOf = (members: ReadonlyArray<{ readonly pid: number }> | undefined) => (members ?? []).map((member) => member.pid).sort()

describe("process table: usage", () => {
  it.live("finds a run's leader with its CPU time and memory, and a child it starts after samples began", () =>
    Effect.gen(function*() {
      const table = makeProcessTable()
      // The shell starts a child once it reads a line.
      const { child, pid } = yield* groupLeader("read line; sleep 100 & wait")
      const run: Run = { leader: pid, invocation: "test:leader:1" }
      // Once the shell has replaced the forked copy of this process (exec) and holds memory of its own.
      const [first] = yield* eventually(Effect.sync(() => table.usageOf([run])), ([found]) => (found?.[0]?.rssPages ?? 0) > 0)
      expect(pidsOf(first)).toEqual([pid])
      expect(first?.[0]?.rssPages).toBeGreaterThan(0)
      expect(first?.[0]?.startTicks).toBeGreaterThan(0)
      expect(first?.[0]?.cpuTicks).toBeGreaterThanOrEqual(0)
      // This sample skips what the last found in no run (this test's own process, say).
      expect(pidsOf(table.usageOf([run])[0])).toEqual([pid])

      child.stdin.write("go\n")
      const [members] = yield* eventually(Effect.sync(() => table.usageOf([run])), ([found]) => (found?.length ?? 0) === 2)
      expect(members?.length).toBe(2)
      expect(pidsOf(members)).not.toContain(process.pid)
    }))

  it.live("a run handed over after a sample took its leader for no run's is found at once", () =>
    Effect.gen(function*() {
      const table = makeProcessTable()
      const a = yield* groupLeader("exec sleep 100")
      const b = yield* groupLeader("exec sleep 100")
      const runA: Run = { leader: a.pid, invocation: "test:a:1" }
      const runB: Run = { leader: b.pid, invocation: "test:b:1" }
      // B is running, but its run is not known yet: this sample counts it among the processes of no run.
      expect(pidsOf(table.usageOf([runA])[0])).toEqual([a.pid])
      const [ofA, ofB] = table.usageOf([runA, runB])
      expect(pidsOf(ofA)).toEqual([a.pid])
      expect(pidsOf(ofB)).toEqual([b.pid])
    }))

  it.live("a run whose leader has exited has no processes, and a dead pid is no error", () =>
    Effect.gen(function*() {
      const table = makeProcessTable()
      const { pid } = yield* groupLeader("exit 0")
      const run: Run = { leader: pid, invocation: "test:gone:1" }
      yield* eventually(Effect.sync(() => processState(pid)), (state) => state === undefined || state === "Z")
      expect(table.usageOf([run])).toEqual([[]])
      expect(table.usageOf([{ leader: 2 ** 22 + 1, invocation: "test:never:1" }])).toEqual([[]])
    }))
})
