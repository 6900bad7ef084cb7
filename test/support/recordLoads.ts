/**
 * Preloaded into a CLI process by a test (`NODE_OPTIONS=--import=<this file>`): appends the URL of every module of
 * dist/ the process loads to the file `$ORCHESTRATE_TEST_LOADS` names, so that the test can tell which path ran
 * (dist/fast.mjs alone, or dist/orchestrate.mjs too) without the CLI printing anything about it.
 */
import * as Fs from "node:fs"
import { registerHooks } from "node:module"

const file = process.env["ORCHESTRATE_TEST_LOADS"]
if (file !== undefined) {
  registerHooks({
    load: (url, context, next) => {
      if (url.includes("/dist/")) Fs.appendFileSync(file, `${url}\n`)
      return next(url, context)
    }
  })
}
