/**
 * Runs a process agent: an OS command in its own process group (so that stopping it also stops whatever it
 * started), with its output captured line by line.
 */
import { type Duration, Effect, Fiber, Option, type PlatformError, Schedule, Schema, Stream } from "effect"
import * as Fs from "node:fs"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import type { ProcessAgent } from "./AgentDefinition.ts"
import type { AgentRun, RunHooks, RunOutcome } from "./AgentRun.ts"
import * as LiveProcesses from "./liveProcesses.ts"

/** Longest output line kept whole; longer ones are split, so a line without an end cannot exhaust memory. */
export const MAX_LINE_LENGTH = 8192

/** How long captured output may keep arriving after the process has exited (e.g. from a lingering child). */
const OUTPUT_DRAIN_TIMEOUT = "1 second"

export class LaunchFailed extends Schema.TaggedError<LaunchFailed>()("LaunchFailed", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** Splits a stream of text chunks into lines, calling `onLine` for each; a final unterminated line counts too. */
const forEachLine = <E>(
  text: Stream.Stream<string, E>,
  onLine: (line: string) => Effect.Effect<void>
): Effect.Effect<void, E> =>
  Effect.suspend(() => {
    let pending = ""
    const emit = (lines: ReadonlyArray<string>) => Effect.forEach(lines, onLine, { discard: true })
    return text.pipe(
      Stream.runForEach((chunk) => {
        const lines: Array<string> = []
        let rest = pending + chunk
        for (let end = rest.indexOf("\n"); end !== -1; end = rest.indexOf("\n")) {
          lines.push(rest.slice(0, end > 0 && rest[end - 1] === "\r" ? end - 1 : end))
          rest = rest.slice(end + 1)
        }
        while (rest.length > MAX_LINE_LENGTH) {
          lines.push(rest.slice(0, MAX_LINE_LENGTH))
          rest = rest.slice(MAX_LINE_LENGTH)
        }
        pending = rest
        return emit(lines)
      }),
      Effect.andThen(Effect.suspend(() => pending === "" ? Effect.void : emit([pending])))
    )
  })

const SIGNAL = /signal: '(\w+)'/

/** A PlatformError's own message names only the operation; the underlying Node error says what happened. */
const underlying = (error: PlatformError.PlatformError): string =>
  error.reason.cause instanceof Error ? error.reason.cause.message : error.message

const describeSpawnFailure = (error: PlatformError.PlatformError): string =>
  error.reason._tag === "NotFound" ? `command not found (${underlying(error)})` : underlying(error)

/** A process ended by a signal makes `exitCode` fail; say which signal. */
const describeExitFailure = (error: PlatformError.PlatformError): string => {
  const signal = SIGNAL.exec(underlying(error))?.[1]
  return signal === undefined ? underlying(error) : `killed by ${signal}`
}

export const launchProcess = Effect.fnUntraced(function*(
  agent: ProcessAgent,
  hooks: RunHooks,
  options: { readonly heartbeatInterval: Duration.Duration; readonly grace: Duration.Duration }
) {
  if (!Fs.existsSync(agent.cwd)) {
    return yield* new LaunchFailed({ detail: `working directory does not exist: ${agent.cwd}` })
  }
  const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
  const handle = yield* spawner.spawn(ChildProcess.make(agent.command, agent.args, {
    cwd: agent.cwd,
    env: agent.env ?? {},
    extendEnv: true,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // Used if the run's scope closes before `stop` had its say (e.g. interrupted while starting).
    killSignal: "SIGTERM",
    forceKillAfter: options.grace
  })).pipe(Effect.mapError((error) => new LaunchFailed({ detail: `cannot start '${agent.command}': ${describeSpawnFailure(error)}` })))
  const pid = handle.pid
  LiveProcesses.register(pid)
  yield* Effect.addFinalizer(() => Effect.sync(() => LiveProcesses.unregister(pid)))
  yield* hooks.started(pid)

  const onLine = (stream: "stdout" | "stderr") => (line: string) =>
    agent.readyLine !== undefined && agent.readyLine.test(line)
      ? Effect.andThen(hooks.output(stream, line), hooks.ready)
      : hooks.output(stream, line)
  const pumps = yield* Effect.forEach(
    [["stdout", handle.stdout], ["stderr", handle.stderr]] as const,
    ([stream, bytes]) => Effect.forkScoped(Effect.ignore(forEachLine(bytes.pipe(Stream.decodeText()), onLine(stream))))
  )
  if (agent.readyLine === undefined) yield* hooks.ready

  yield* Effect.forkScoped(
    handle.isRunning.pipe(
      Effect.flatMap((alive) => alive ? hooks.heartbeat : Effect.void),
      Effect.ignore,
      Effect.repeat(Schedule.spaced(options.heartbeatInterval))
    )
  )

  const outcome: Effect.Effect<RunOutcome> = handle.exitCode.pipe(
    Effect.map((code): RunOutcome => ({ _tag: "Exited", code })),
    Effect.catch((error) => Effect.succeed<RunOutcome>({ _tag: "Crashed", error: describeExitFailure(error) })),
    Effect.tap(() => Effect.forEach(pumps, (pump) => Effect.timeoutOption(Fiber.join(pump), OUTPUT_DRAIN_TIMEOUT)))
  )

  const signalGroup = (signal: NodeJS.Signals) =>
    Effect.sync(() => {
      try {
        process.kill(-pid, signal)
      } catch {
        // The group is gone: nothing left to signal.
      }
    })

  const run: AgentRun = {
    outcome,
    stop: (grace) =>
      Effect.gen(function*() {
        yield* signalGroup("SIGTERM")
        // A paused (SIGSTOPped) process only acts on SIGTERM once it runs again.
        yield* signalGroup("SIGCONT")
        if (Option.isSome(yield* Effect.timeoutOption(outcome, grace))) return { forced: false }
        yield* signalGroup("SIGKILL")
        yield* outcome
        return { forced: true }
      }),
    pause: signalGroup("SIGSTOP"),
    resume: signalGroup("SIGCONT")
  }
  return run
})
