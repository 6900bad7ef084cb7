/**
 * Headless Chromium for the dashboard's tests: Debian's browser driven by playwright-core (playwright's own browser
 * download cannot work on these machines), one browser per test file and a fresh context per page, so that no
 * sessionStorage carries over from one test to the next. Every console error and uncaught page error is kept, so
 * that a test can fail on them; screenshots are saved as artifacts under test-artifacts/browser/.
 */
import { Context, Effect, Exit, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { expect } from "vitest"
import { packageRoot } from "../../../src/packageRoot.ts"

const DEBIAN_CHROMIUM = "/usr/bin/chromium"

export const ARTIFACTS = Path.join(packageRoot(), "test-artifacts", "browser")

/** The browser to drive: `$CHROMIUM_PATH`, else Debian's; a clear error when there is none. */
export const chromiumPath = (): string => {
  const configured = process.env["CHROMIUM_PATH"]
  const path = configured === undefined || configured === "" ? DEBIAN_CHROMIUM : configured
  if (!Fs.existsSync(path)) {
    throw new Error(
      `The browser tests drive Chromium, and there is none at ${path}` +
        (path === DEBIAN_CHROMIUM ? "" : " (from CHROMIUM_PATH)") +
        ": install Debian's (apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome executable"
    )
  }
  return path
}

/** One headless Chromium, closed with the layer. */
export class Chromium extends Context.Service<Chromium, Browser>()("test/browser/Chromium") {
  static readonly layer = Layer.effect(
    Chromium,
    Effect.acquireRelease(
      // `--no-sandbox`: the tests run as root, where Chromium refuses its sandbox.
      Effect.promise(() => chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] })),
      (browser) => Effect.promise(() => browser.close())
    )
  )
}

/** A console error or an uncaught exception of the page. */
export interface PageProblem {
  readonly kind: "console" | "pageerror"
  readonly text: string
  /** The resource or script it is about, when the browser says. */
  readonly url: string
}

export interface BrowserPage {
  readonly page: Page
  readonly context: BrowserContext
  /** Every problem so far, oldest first. */
  readonly problems: () => ReadonlyArray<PageProblem>
  /** How many times a document was loaded: 1 for a page that never reloaded. */
  readonly loads: () => number
}

export interface PageOptions {
  readonly viewport?: { readonly width: number; readonly height: number }
  readonly colorScheme?: "light" | "dark"
}

/** A page in a context of its own, closed with the scope. */
export const openPage = (options: PageOptions = {}) =>
  Effect.gen(function*() {
    const browser = yield* Chromium
    const context = yield* Effect.acquireRelease(
      Effect.promise(() =>
        browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 }, colorScheme: options.colorScheme ?? "light" })
      ),
      (context) => Effect.promise(() => context.close())
    )
    const page = yield* Effect.promise(() => context.newPage())
    // Fail fast and say what was awaited, rather than at the test's timeout.
    page.setDefaultTimeout(15_000)
    const problems: Array<PageProblem> = []
    let loads = 0
    page.on("console", (message) => {
      if (message.type() === "error") problems.push({ kind: "console", text: message.text(), url: message.location().url })
    })
    page.on("pageerror", (error) => problems.push({ kind: "pageerror", text: error.stack ?? error.message, url: page.url() }))
    page.on("load", () => loads++)
    // A failed test leaves what the page showed then, to be looked at, as test-artifacts/browser/failed-<test>.png.
    const test = (expect.getState().currentTestName ?? "test").replace(/[^A-Za-z0-9]+/g, "-").slice(0, 80)
    yield* Effect.addFinalizer((exit) =>
      Exit.isFailure(exit) ? Effect.ignore(screenshot(page, `failed-${test}`)) : Effect.void
    )
    return { page, context, problems: () => [...problems], loads: () => loads } satisfies BrowserPage
  })

/**
 * What the browser logs for a response with this status to a request for a path starting with `path`: Chromium
 * reports every failed load as a console error, even one the page expects and handles (a 401 before the login).
 */
export const failedLoad = (status: number, path: string) => (problem: PageProblem): boolean =>
  problem.kind === "console" && problem.text.includes(`status of ${status}`) && new URL(problem.url).pathname.startsWith(path)

/** The problems none of `expected` accounts for, one line each, to compare with `[]`. */
export const unexpectedProblems = (
  session: BrowserPage,
  ...expected: ReadonlyArray<(problem: PageProblem) => boolean>
): ReadonlyArray<string> =>
  session.problems()
    .filter((problem) => !expected.some((isExpected) => isExpected(problem)))
    .map((problem) => `${problem.kind}: ${problem.text}${problem.url === "" ? "" : ` (${problem.url})`}`)

/** Saves what the page shows as test-artifacts/browser/NAME.png (the whole page unless `fullPage: false`). */
export const screenshot = (page: Page, name: string, options: { readonly fullPage?: boolean; readonly path?: string } = {}) =>
  Effect.promise(async () => {
    const path = options.path ?? Path.join(ARTIFACTS, `${name}.png`)
    Fs.mkdirSync(Path.dirname(path), { recursive: true })
    await page.screenshot({ path, fullPage: options.fullPage ?? true, animations: "disabled" })
    return path
  })
