#!/usr/bin/env node
// This file must parse and link on old Node too (14.8+; no named imports of newer APIs), so that a Node that is too
// old says which one is needed instead of failing inside the bundle. Keep the floor in step with `engines.node`.
import * as Fs from "node:fs"
import * as Module from "node:module"

const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `error: orchestrate needs Node.js 22.19 or later, this is ${process.version}: install Node.js 24 (https://nodejs.org), or in the project run "npx orchestrate", which uses the Node 24 that npm install put in node_modules`
  )
  process.exitCode = 2
} else {
  // `up` runs for long, and V8 grows its young generation during the start-up's burst of spawns and never gives it
  // back: about 20 MiB of the 130 that 200 process agents took (bench/README.md, benchmark 12). With semi-spaces of
  // at most 4 MiB they take 112. But with a young generation that small, the first scavenge after start-up sees a
  // low allocation rate and has V8 recompute the old generation's limit from the small heap live early on, so the
  // first full collection lands in whatever comes next, such as an agent's first flood of output (benchmark 8: a
  // 10-40 ms pause, and files on 1.5x -> 2x). An initial old generation of 64 MiB keeps that limit, for 4 MiB more
  // at 200 agents. V8 reads these only from Node's command line, so `up` executes itself again with them, in place
  // (process.execve keeps the pid, the descriptors and the environment), before loading anything. Not when the
  // young generation's limit is already given, on the command line or in NODE_OPTIONS, nor where execve is missing.
  // bench/logs.ts runs its server with the same flags.
  const SEMI_SPACE = "--max-semi-space-size"
  const INITIAL_OLD_SPACE = "--initial-old-space-size"
  // V8 takes `_` for `-` in its flags' names.
  const givenFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].map((flag) => flag.replaceAll("_", "-"))
  /** A failed execve aborts the process rather than throwing: only try one that can run (the binary is still there). */
  const executable = () => {
    try {
      Fs.accessSync(process.execPath, Fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  }
  // The subcommand: the first word that is neither a flag nor the value of a shared flag given before it
  // (`orchestrate --address ipc:///run/o.sock up`).
  const VALUE_FLAGS = ["--address", "--context", "--server-key", "--client-key", "--timeout", "--log-level"]
  const subcommand = () => {
    const args = process.argv.slice(2)
    for (let index = 0; index < args.length; index++) {
      if (VALUE_FLAGS.includes(args[index])) index++
      else if (!args[index].startsWith("-")) return args[index]
    }
    return undefined
  }
  if (
    subcommand() === "up" && typeof process.execve === "function" &&
    process.platform !== "win32" && !givenFlags.some((flag) => flag.startsWith(SEMI_SPACE)) && executable()
  ) {
    const flags = [`${SEMI_SPACE}=4`, ...(givenFlags.some((flag) => flag.startsWith(INITIAL_OLD_SPACE)) ? [] : [`${INITIAL_OLD_SPACE}=64`])]
    process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], process.env)
  }
  // Reuse V8's compiled code across runs (Node >= 22.1): most of a short command's start-up is compiling the bundle.
  Module.enableCompileCache?.()
  // The read commands go through the fast path first (src/cli/fast/main.ts), which prints what the full CLI would
  // without loading effect/cli, and leaves everything else to it, having printed nothing. A command line naming none
  // of them does not even load it (src/cli/fast/argv.ts decides the rest). ORCHESTRATE_NO_FAST_PATH=1 skips it: a
  // switch for debugging and for the tests that compare both paths.
  const READ_COMMANDS = ["ps", "status", "stats", "history", "logs", "commands", "whoami"]
  const args = process.argv.slice(2)
  const tryFastPath = (process.env.ORCHESTRATE_NO_FAST_PATH ?? "") === "" && args.some((arg) => READ_COMMANDS.includes(arg))
  const handled = tryFastPath && await (await import("../dist/fast.mjs")).runFastPath(args, process.env)
  if (!handled) await import("../dist/orchestrate.mjs")
}
