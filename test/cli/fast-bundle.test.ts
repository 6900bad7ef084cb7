/**
 * What the fast path loads, from esbuild's metafile of its bundle (scripts/build.ts): `ps`, `stats`, `commands` and
 * `whoami` load no module of effect at all; `status`, `history` and `logs` add effect's DateTime (their instants),
 * and never effect/cli or Schema, whose loading is what the fast path exists to avoid; the CURVE code (and
 * node:crypto) comes only with keys.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { build, type Metafile } from "esbuild"
import { packageRoot } from "../../src/packageRoot.ts"
import { fastPathOptions } from "../../scripts/build.ts"

/** The inputs of an output and of every output it imports statically, as it is loaded. */
const loadedBy = (metafile: Metafile, output: string): ReadonlySet<string> => {
  const inputs = new Set<string>()
  const visit = (file: string, seen: Set<string>) => {
    if (seen.has(file)) return
    seen.add(file)
    const entry = metafile.outputs[file]
    if (entry === undefined) return
    for (const input of Object.keys(entry.inputs)) inputs.add(input)
    for (const imported of entry.imports) if (imported.kind === "import-statement") visit(imported.path, seen)
  }
  visit(output, new Set())
  return inputs
}

const outputOf = (metafile: Metafile, entryPoint: string): string => {
  const found = Object.entries(metafile.outputs).find(([, output]) => output.entryPoint === entryPoint)
  if (found === undefined) throw new Error(`no output for ${entryPoint}`)
  return found[0]
}

describe("the fast path's bundle", () => {
  it.live("ps loads no effect; status, history and logs only effect's DateTime and what it needs, never effect/cli or Schema", () =>
    Effect.gen(function*() {
      const { metafile } = yield* Effect.promise(() => build({ ...fastPathOptions, absWorkingDir: packageRoot(), write: false }))
      const plain = loadedBy(metafile, outputOf(metafile, "src/cli/fast/main.ts"))
      const timed = new Set([...plain, ...loadedBy(metafile, outputOf(metafile, "src/cli/fast/timedPlans.ts"))])
      const curve = new Set([...plain, ...loadedBy(metafile, outputOf(metafile, "src/cli/fast/credentials.ts"))])
      expect([...plain].filter((input) => input.includes("node_modules/"))).toEqual([])
      expect([...plain]).toContain("src/cli/commands/psRender.ts")
      // node:crypto (a few ms to load) only with keys to sign with.
      expect([...plain]).not.toContain("src/security/curve.ts")
      expect([...curve]).toContain("src/security/signing.ts")
      expect([...curve].filter((input) => input.includes("node_modules/"))).toEqual([])
      const effect = [...timed].filter((input) => input.includes("node_modules/effect/"))
      expect(effect).toContain("node_modules/effect/dist/DateTime.js")
      expect(effect.filter((input) => /\/(cli|Schema|SchemaAST|SchemaParser)[/.]/.test(input))).toEqual([])
      expect([...timed].filter((input) => input.includes("node_modules/") && !input.includes("node_modules/effect/"))).toEqual([])
    }))
})
