#!/usr/bin/env node
// This file must parse and link on old Node too (14.8+; no named imports of newer APIs), so that a Node that is too
// old says which one is needed instead of failing inside the bundle. Keep the floor in step with `engines.node`.
import * as Module from "node:module"

const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `error: orchestrate needs Node.js 22.19 or later, this is ${process.version}: install Node.js 24 (https://nodejs.org), or in the project run "npx orchestrate", which uses the Node 24 that npm install put in node_modules`
  )
  process.exitCode = 2
} else {
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
