/**
 * Bundles the CLI into dist/orchestrate.mjs (and a chunk for `up`), its one-shot fast path into dist/fast.mjs, and
 * the guardian into dist/guardian.mjs. One tree-shaken file loads several times faster than the sources with the
 * whole `effect` barrel (measured in bench/README.md). zeromq stays external: it is a native addon.
 */
import { build, type BuildOptions } from "esbuild"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.dirname(Path.dirname(fileURLToPath(import.meta.url)))

const common = {
  absWorkingDir: root,
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  minifySyntax: true,
  metafile: true,
  logLevel: "warning"
} satisfies BuildOptions

/**
 * The read commands' fast path (src/cli/fast/main.ts), which bin/orchestrate.js loads first: no effect/cli and no
 * Schema. `status`, `history` and `logs` load their plans from chunks of their own (with effect's DateTime), so
 * that `ps` loads no effect at all; test/cli/fast-bundle.test.ts holds it to that.
 */
export const fastPathOptions = {
  ...common,
  entryPoints: { fast: "src/cli/fast/main.ts" },
  splitting: true,
  chunkNames: "chunks/fast-[name]-[hash]",
  external: ["zeromq"],
  minifyWhitespace: true
} satisfies BuildOptions

export const buildCli = async (options: { readonly verbose?: boolean } = {}): Promise<void> => {
  const cli = await build({
    ...common,
    entryPoints: { orchestrate: "src/cli/main.ts" },
    // `up` is loaded on demand, so the other commands never load the orchestrator or the server.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    external: ["zeromq"],
    // Bundled CommonJS dependencies may call require(); give them one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    minifyWhitespace: true,
    sourcemap: "linked"
  })
  // The guardian (src/orchestrator/guardianMain.ts) is a program of its own, started next to every orchestrator:
  // one standalone file that loads nothing else.
  const guardian = await build({ ...common, entryPoints: { guardian: "src/orchestrator/guardianMain.ts" } })
  const fast = await build(fastPathOptions)
  if (options.verbose === true) {
    for (const [file, output] of Object.entries({ ...cli.metafile.outputs, ...fast.metafile.outputs, ...guardian.metafile.outputs })) {
      if (!file.endsWith(".map")) console.log(`${file}: ${(output.bytes / 1024).toFixed(0)} KiB`)
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli({ verbose: process.argv.includes("--verbose") })
