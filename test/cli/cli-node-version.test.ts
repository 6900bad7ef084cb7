/**
 * The CLI under a Node that is too old (what `#!/usr/bin/env node` finds on a machine whose system Node is old, as
 * for a globally linked `orchestrate`): one line naming the Node it needs and how to get it, exit 2, no stack trace.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { packageRoot } from "../../src/packageRoot.ts"
import { BIN } from "../support/cli.ts"

/** The machine's own Node, not the one the tests run on. */
const SYSTEM_NODE = process.env["SYSTEM_NODE"] ?? "/usr/bin/node"

/** `engines.node` of package.json, `>=22.19`: the floor the binary must name. */
const floor = (): string => {
  const manifest: unknown = JSON.parse(Fs.readFileSync(Path.join(packageRoot(), "package.json"), "utf8"))
  const engines = typeof manifest === "object" && manifest !== null && "engines" in manifest ? manifest.engines : undefined
  const range = typeof engines === "object" && engines !== null && "node" in engines ? engines.node : undefined
  const match = typeof range === "string" ? /^>=(\d+)\.(\d+)$/.exec(range) : null
  if (match === null) throw new Error(`package.json engines.node is not of the form >=MAJOR.MINOR: ${String(range)}`)
  return `${match[1]}.${match[2]}`
}

const olderThan = (version: string, min: string): boolean => {
  const [major = 0, minor = 0] = version.split(".").map(Number)
  const [minMajor = 0, minMinor = 0] = min.split(".").map(Number)
  return major < minMajor || (major === minMajor && minor < minMinor)
}

/** The system Node's version, or why this machine cannot run the check. */
const systemNode = (min: string): { readonly version: string } | { readonly skip: string } => {
  if (!Fs.existsSync(SYSTEM_NODE)) return { skip: `no system Node at ${SYSTEM_NODE}` }
  const version = spawnSync(SYSTEM_NODE, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim()
  return olderThan(version, min)
    ? { version }
    : { skip: `the system Node at ${SYSTEM_NODE} is v${version}, not older than ${min}` }
}

describe("orchestrate under a Node that is too old", () => {
  it("prints one line naming the Node it needs and how to get it, and exits 2", (ctx) => {
    const min = floor()
    const system = systemNode(min)
    if ("skip" in system) return ctx.skip(system.skip)
    const run = spawnSync(SYSTEM_NODE, [BIN, "--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 15_000 })
    expect({ code: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      code: 2,
      stdout: "",
      stderr: `error: orchestrate needs Node.js ${min} or later, this is v${system.version}: install Node.js 24 (https://nodejs.org), or in the project run "npx orchestrate", which uses the Node 24 that npm install put in node_modules\n`
    })
  })
})
