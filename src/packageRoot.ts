/**
 * This package's root directory, found from wherever the running code sits: in src/ when run from source, in
 * dist/ (or a chunk of it) when bundled.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const NAME = "effect-orchestrate"

const isRoot = (dir: string): boolean => {
  try {
    const manifest: unknown = JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8"))
    return typeof manifest === "object" && manifest !== null && "name" in manifest && manifest.name === NAME
  } catch {
    return false
  }
}

export const packageRoot = (from: string = import.meta.url): string => {
  let dir = Path.dirname(fileURLToPath(from))
  while (!isRoot(dir)) {
    const parent = Path.dirname(dir)
    if (parent === dir) throw new Error(`cannot find the ${NAME} package above ${fileURLToPath(from)}`)
    dir = parent
  }
  return dir
}
