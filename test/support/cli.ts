/**
 * Runs the real `orchestrate` binary as a child process.
 */
import { NodeServices } from "@effect/platform-node"
import { Context, type Duration, Effect, Fiber, Layer, Option, type Scope, Stream, SubscriptionRef } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { tempDir } from "./files.ts"

export const BIN = Path.join(packageRoot(), "bin", "orchestrate.js")

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const text = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  stream.pipe(Stream.decodeText(), Stream.mkString, Effect.orElseSucceed(() => ""))

/** Colour off unless `env` says otherwise, whatever the environment running the tests forces. */
const command = (file: string, args: ReadonlyArray<string>, env: Record<string, string>, cwd?: string) =>
  ChildProcess.make(file, args, {
    ...(cwd === undefined ? {} : { cwd }),
    env: { NO_COLOR: "1", FORCE_COLOR: "", ...env },
    extendEnv: true,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })

/** Runs `orchestrate args...` to completion (at most `timeout`), with colour off unless `env` says otherwise. */
export const cli = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string>; readonly timeout?: Duration.Input; readonly cwd?: string } = {}
): Effect.Effect<CliResult, never, ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.scoped(Effect.gen(function*() {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const handle = yield* Effect.orDie(spawner.spawn(command(process.execPath, [BIN, ...args], options.env ?? {}, options.cwd)))
    const [stdout, stderr, code] = yield* Effect.all(
      [text(handle.stdout), text(handle.stderr), Effect.orDie(handle.exitCode)],
      { concurrency: "unbounded" }
    ).pipe(Effect.timeoutOrElse({
      duration: options.timeout ?? "20 seconds",
      orElse: () => Effect.die(new Error(`orchestrate ${args.join(" ")} did not finish`))
    }))
    return { code, stdout, stderr }
  }))

/** A running process whose output is collected as it comes. */
export interface Running {
  readonly pid: number
  readonly stdout: Effect.Effect<string>
  readonly stderr: Effect.Effect<string>
  /** Waits until the standard output so far satisfies `until`, and returns it; dies after `timeout`. */
  readonly waitForStdout: (until: (stdout: string) => boolean, timeout?: Duration.Input) => Effect.Effect<string>
  readonly signal: (signal: NodeJS.Signals) => Effect.Effect<void>
  /** Waits for the process to exit, and returns its code and output. */
  readonly exit: (timeout?: Duration.Input) => Effect.Effect<CliResult>
}

/** Starts `file args...` in the background; it is killed when the scope closes if it still runs. */
export const spawnCommand = (
  file: string,
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string> } = {}
): Effect.Effect<Running, never, ChildProcessSpawner.ChildProcessSpawner | Scope.Scope> =>
  Effect.gen(function*() {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const handle = yield* Effect.orDie(spawner.spawn(command(file, args, options.env ?? {})))
    const collect = <E>(stream: Stream.Stream<Uint8Array, E>) =>
      Effect.gen(function*() {
        // A SubscriptionRef, so that a test can wait for some output without polling for it.
        const collected = yield* SubscriptionRef.make("")
        const fiber = yield* Effect.forkScoped(
          stream.pipe(
            Stream.decodeText(),
            Stream.runForEach((chunk) => SubscriptionRef.update(collected, (all) => all + chunk)),
            Effect.ignore
          )
        )
        return { collected, fiber }
      })
    const out = yield* collect(handle.stdout)
    const err = yield* collect(handle.stderr)
    const name = [file, ...args].join(" ")
    return {
      pid: handle.pid,
      stdout: SubscriptionRef.get(out.collected),
      stderr: SubscriptionRef.get(err.collected),
      waitForStdout: (until, timeout = "20 seconds") =>
        SubscriptionRef.changes(out.collected).pipe(
          Stream.filter(until),
          // The changes of a SubscriptionRef never end: the head is there once `until` holds.
          Stream.runHead,
          Effect.map(Option.getOrThrow),
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () =>
              Effect.flatMap(SubscriptionRef.get(out.collected), (stdout) =>
                Effect.die(new Error(`${name} did not print what was awaited within ${String(timeout)}; it printed:\n${stdout}`)))
          })
        ),
      signal: (signal) => Effect.sync(() => process.kill(handle.pid, signal)),
      exit: (timeout = "20 seconds") =>
        Effect.gen(function*() {
          const code = yield* Effect.orDie(handle.exitCode)
          yield* Fiber.join(out.fiber)
          yield* Fiber.join(err.fiber)
          return { code, stdout: yield* SubscriptionRef.get(out.collected), stderr: yield* SubscriptionRef.get(err.collected) }
        }).pipe(Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.die(new Error(`${name} did not exit`))
        }))
    }
  })

/** Starts `orchestrate args...` in the background; it is killed when the scope closes if it still runs. */
export const spawn = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string> } = {}
): Effect.Effect<Running, never, ChildProcessSpawner.ChildProcessSpawner | Scope.Scope> =>
  spawnCommand(process.execPath, [BIN, ...args], options)

/** A fresh ipc address in a temporary directory removed with the scope: no port to collide on. */
export const ipcAddress = tempDir().pipe(Effect.map((dir) => `ipc://${Path.join(dir, "cmd.sock")}`))

/**
 * `orchestrate up` running in the background on a fresh ipc address, ready to answer. It is stopped when the
 * scope closes, if a test has not stopped it already.
 */
export const startUp = (args: ReadonlyArray<string>, options: { readonly env?: Record<string, string> } = {}) =>
  Effect.gen(function*() {
    const address = yield* ipcAddress
    const up = yield* spawn(["up", ...args, "--address", address], options)
    // Answering is enough: whether its agents become ready is for each test to see (`status --wait` would
    // wait for every agent's readiness, which some tests' agents never reach on purpose).
    const deadline = Date.now() + 20_000
    for (;;) {
      const answered = yield* cli(["ps", "--timeout", "1", "--address", address], options)
      if (answered.code === 0) return { address, up }
      if (Date.now() > deadline) {
        return yield* Effect.die(new Error(`orchestrate up did not answer:\n${answered.stderr}\n${yield* up.stderr}`))
      }
      yield* Effect.sleep("100 millis")
    }
  })

/** The state letter of a process from /proc, or undefined once it is gone; a zombie (`Z`) is dead. */
export const processState = (pid: number): string | undefined => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
  } catch {
    return undefined
  }
}

export const isAlive = (pid: number): boolean => {
  const state = processState(pid)
  return state !== undefined && state !== "Z"
}

export class UpServer extends Context.Service<UpServer, { readonly address: string }>()("test/UpServer") {}

/** A test layer: one `orchestrate up` for a block of tests, with Node's services for running the CLI. */
export const upServer = (args: ReadonlyArray<string>) =>
  Layer.effect(UpServer, Effect.map(startUp(args), ({ address }) => ({ address }))).pipe(
    Layer.provideMerge(NodeServices.layer)
  )


