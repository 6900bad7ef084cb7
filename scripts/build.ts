/**
 * Bundles the CLI into dist/orchestrate.mjs (and a chunk for `up`), its one-shot fast path into dist/fast.mjs, and
 * the guardian into dist/guardian.mjs. One tree-shaken file loads several times faster than the sources with the
 * whole `effect` barrel (measured in bench/README.md). zeromq stays external: it is a native addon. Also the web
 * dashboard (src/web) into dist/web, which the HTTP interface serves at `/`.
 */
import { build, type BuildOptions } from "esbuild"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
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

const WEB = Path.join(root, "dist", "web")
const WEB_ASSETS = Path.join(WEB, "assets")

/** The asset names an index.html refers to. */
const assetsOf = (html: string): ReadonlyArray<string> => [...html.matchAll(/assets\/([\w.-]+)/g)].flatMap((match) => match[1] ?? [])

/** Writes a file whole or not at all: the HTTP interface of a running `up` may be reading it at start-up. */
const writeAtomically = (path: string, content: string | Uint8Array): void => {
  Fs.writeFileSync(`${path}.tmp`, content)
  Fs.renameSync(`${path}.tmp`, path)
}

/**
 * The dashboard: src/web/main.ts bundled for browsers and src/web/styles.css, minified, each file named by its
 * content's hash so that the server may let browsers cache it for a year; the icon likewise; then index.html
 * naming them. Assets no longer named by the new page or the one before it are removed; the one before's are
 * kept for a page still open on it. Returns the outputs and their sizes.
 */
export const buildWeb = async (): Promise<ReadonlyArray<readonly [string, number]>> => {
  Fs.mkdirSync(WEB_ASSETS, { recursive: true })
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: "src/web/main.ts", style: "src/web/styles.css" },
    outdir: WEB_ASSETS,
    entryNames: "[name]-[hash]",
    bundle: true,
    platform: "browser",
    format: "esm",
    target: ["chrome111", "firefox113", "safari16.4"],
    minify: true,
    metafile: true,
    legalComments: "none",
    logLevel: "warning"
  })
  const outputs = Object.entries(result.metafile.outputs)
  const script = outputs.find(([, output]) => output.entryPoint === "src/web/main.ts")
  const style = outputs.find(([, output]) => output.entryPoint === "src/web/styles.css")?.[0]
  if (script === undefined || style === undefined) throw new Error("the web build made no script or no stylesheet")
  const icon = Fs.readFileSync(Path.join(root, "src/web/favicon.svg"))
  const iconName = `favicon-${createHash("sha256").update(icon).digest("hex").slice(0, 8)}.svg`
  writeAtomically(Path.join(WEB_ASSETS, iconName), icon)
  const html = Fs.readFileSync(Path.join(root, "src/web/index.html"), "utf8")
    .replace("{{script}}", Path.basename(script[0]))
    .replace("{{style}}", Path.basename(style))
    .replace("{{icon}}", iconName)
  const index = Path.join(WEB, "index.html")
  const previous = Fs.existsSync(index) ? Fs.readFileSync(index, "utf8") : ""
  writeAtomically(index, html)
  const keep = new Set([...assetsOf(html), ...assetsOf(previous)])
  for (const name of Fs.readdirSync(WEB_ASSETS)) {
    if (!keep.has(name) && !name.endsWith(".tmp")) Fs.rmSync(Path.join(WEB_ASSETS, name), { force: true })
  }
  return [
    ...outputs.map(([file, output]) => [Path.relative(root, Path.resolve(root, file)), output.bytes] as const),
    [Path.relative(root, Path.join(WEB_ASSETS, iconName)), icon.length],
    [Path.relative(root, index), Buffer.byteLength(html)]
  ]
}

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
  const web = await buildWeb()
  if (options.verbose === true) {
    for (const [file, output] of Object.entries({ ...cli.metafile.outputs, ...fast.metafile.outputs, ...guardian.metafile.outputs })) {
      if (!file.endsWith(".map")) console.log(`${file}: ${(output.bytes / 1024).toFixed(0)} KiB`)
    }
    for (const [file, bytes] of web) console.log(`${file}: ${(bytes / 1024).toFixed(1)} KiB`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli({ verbose: process.argv.includes("--verbose") })
