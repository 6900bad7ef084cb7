/**
 * Finds the processes a test started, wherever they ended up: every process inherits its parent's environment, so
 * a variable unique to the test marks exactly them, even after they were re-parented or called `setsid`.
 */
import { Effect } from "effect"
import * as Fs from "node:fs"
import { randomUUID } from "node:crypto"
import { isAlive } from "./cli.ts"

/** A variable to give `orchestrate up` (and so everything it starts) that no other process has. */
export const testMarker = () => ({ ORCH_TEST_RUN: randomUUID() })

/** The live (not zombie) processes whose environment holds `NAME=value` for each entry of `marker`. */
export const markedProcesses = (marker: Readonly<Record<string, string>>): ReadonlyArray<number> => {
  const entries = Object.entries(marker).map(([name, value]) => `\0${name}=${value}\0`)
  return Fs.readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) return []
    try {
      const environ = `\0${Fs.readFileSync(`/proc/${entry}/environ`, "latin1")}`
      return entries.every((wanted) => environ.includes(wanted)) && isAlive(Number(entry)) ? [Number(entry)] : []
    } catch {
      return []
    }
  })
}

/** Polls `check` every 10 ms until `until` holds or `within` milliseconds pass; returns the last value. */
export const pollUntil = <A>(check: () => A, until: (value: A) => boolean, within: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + within
    let value = check()
    while (!until(value) && Date.now() < deadline) {
      yield* Effect.sleep("10 millis")
      value = check()
    }
    return value
  })

/** Kills whatever a test left behind, so that a failed assertion does not leak processes into the next test. */
export const killMarked = (marker: Readonly<Record<string, string>>) =>
  Effect.sync(() => {
    for (const pid of markedProcesses(marker)) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // Gone meanwhile.
      }
    }
  })
