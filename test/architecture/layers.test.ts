/**
 * Imports point down the layers only, so that each folder can change without the ones below it noticing:
 * protocol, events and security at the bottom; the ports between the orchestrator and the server, which never
 * import each other; the client beside the server; the config file's composition root above both; the CLI on top,
 * and beside it the web dashboard, which runs in a browser and so takes nothing but types, from the protocol.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"

/** What each part of src/ may import, besides itself and the files at src/'s top level (settings, packageRoot). */
const allowed: Record<string, ReadonlyArray<string>> = {
  "(top)": [],
  protocol: [],
  zmq: [],
  events: ["protocol"],
  logs: [],
  security: ["protocol"],
  ports: ["protocol", "logs"],
  orchestrator: ["protocol", "events", "logs", "security", "ports"],
  server: ["protocol", "events", "logs", "security", "ports", "zmq"],
  client: ["protocol", "security", "zmq"],
  app: ["protocol", "events", "logs", "security", "ports", "orchestrator", "server"],
  cli: ["protocol", "events", "logs", "security", "ports", "orchestrator", "server", "client", "app"],
  web: ["protocol"]
}

/** index.ts is the public entry: it re-exports from everywhere. */
const ENTRY = "index.ts"

const IMPORT = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g

/** The part of src/ a file belongs to: its first folder, or `(top)` for a file directly in src/. */
const partOf = (relative: string): string => relative.includes("/") ? relative.slice(0, relative.indexOf("/")) : "(top)"

export interface Violation {
  readonly file: string
  readonly imports: string
}

/** Every import of a file in `files` (paths relative to src/, with their text) that points up or sideways. */
export const violations = (files: ReadonlyArray<{ readonly path: string; readonly text: string }>): ReadonlyArray<Violation> =>
  files.flatMap(({ path, text }) => {
    if (path === ENTRY) return []
    const from = partOf(path)
    return [...text.matchAll(IMPORT)].flatMap((match) => {
      const target = Path.posix.normalize(Path.posix.join(Path.posix.dirname(path), match[1] ?? ""))
      const to = partOf(target)
      // Outside src/ (package.json) is no layer.
      const outside = target.startsWith("../")
      const ok = outside || to === from || (to === "(top)" && target !== ENTRY) || (allowed[from] ?? []).includes(to)
      return ok ? [] : [{ file: path, imports: target }]
    })
  })

const sources = (dir: string, prefix = ""): ReadonlyArray<{ readonly path: string; readonly text: string }> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`
    if (entry.isDirectory()) return sources(Path.join(dir, entry.name), relative)
    return entry.name.endsWith(".ts") ? [{ path: relative, text: Fs.readFileSync(Path.join(dir, entry.name), "utf8") }] : []
  })

/** Static imports and re-exports but `import type` (a bare `import "x"` too), and dynamic `import("x")`. */
const VALUE_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?from\s*)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/gm

/** The imports of src/web that would put code other than its own into the page: any but `import type`. */
export const webValueImports = (files: ReadonlyArray<{ readonly path: string; readonly text: string }>): ReadonlyArray<Violation> =>
  files.flatMap(({ path, text }) =>
    partOf(path) !== "web" ? [] : [...text.matchAll(VALUE_IMPORT)].flatMap((match) => {
      const specifier = match[1] ?? match[2] ?? ""
      // A package (effect, say) is code from outside too.
      if (!specifier.startsWith(".")) return [{ file: path, imports: specifier }]
      const target = Path.posix.normalize(Path.posix.join(Path.posix.dirname(path), specifier))
      return partOf(target) === "web" ? [] : [{ file: path, imports: target }]
    }))

describe("layers", () => {
  it("every import in src/ points down the layers", () => {
    const files = sources(Path.join(packageRoot(), "src"))
    expect(files.length).toBeGreaterThan(50)
    expect(files.map((file) => partOf(file.path)).filter((part) => !(part in allowed))).toEqual([])
    expect(violations(files)).toEqual([])
    expect(webValueImports(files)).toEqual([])
  })

  it("finds a value imported into the web page from outside src/web", () => {
    expect(webValueImports([
      { path: "web/wire.ts", text: `import type { AgentStatus } from "../protocol/Model.ts"\nexport type { Health } from "../protocol/Model.ts"` },
      { path: "web/main.ts", text: `import { api } from "./api.ts"\nimport { Schema } from "effect"` },
      { path: "web/views/x.ts", text: `import { isFinished } from "../../protocol/Model.ts"` },
      { path: "web/views/y.ts", text: `import "../../protocol/Model.ts"\nimport "./y.css"\nconst later = () => import("effect")` },
      { path: "cli/main.ts", text: `import { Schema } from "effect"` }
    ])).toEqual([
      { file: "web/main.ts", imports: "effect" },
      { file: "web/views/x.ts", imports: "protocol/Model.ts" },
      { file: "web/views/y.ts", imports: "protocol/Model.ts" },
      { file: "web/views/y.ts", imports: "effect" }
    ])
  })

  it("finds an import against the direction, static or dynamic", () => {
    expect(violations([
      { path: "orchestrator/Orchestrator.ts", text: `import { CommandServer } from "../server/CommandServer.ts"` },
      { path: "protocol/issues.ts", text: `import { redact } from "../security/redact.ts"` },
      { path: "server/CommandHandlers.ts", text: `const graph = await import("../orchestrator/graph.ts")` },
      { path: "events/EventStore.ts", text: `import { withDefault } from "../settings.ts"` },
      { path: "cli/main.ts", text: `import { up } from "./commands/up.ts"` },
      { path: "settings.ts", text: `import { Model } from "./protocol/Model.ts"` }
    ])).toEqual([
      { file: "orchestrator/Orchestrator.ts", imports: "server/CommandServer.ts" },
      { file: "protocol/issues.ts", imports: "security/redact.ts" },
      { file: "server/CommandHandlers.ts", imports: "orchestrator/graph.ts" },
      { file: "settings.ts", imports: "protocol/Model.ts" }
    ])
  })
})
