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
  await import("../dist/orchestrate.mjs")
}
