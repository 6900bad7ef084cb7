/**
 * Runs an agent's probes for one run: each probe in a loop of its own (after `initialDelay`, one try per
 * `period`), every try bounded by the probe's `timeout`, and each result handed to the caller, which turns it
 * into health (Probe.advance) and acts on it. Tries never overlap for one agent: its probes share one permit, so
 * a slow check cannot have a second one pile up behind it against the same agent.
 *
 * The checks use Node directly (fetch, net, child_process) rather than platform services: the orchestrator's layer
 * would otherwise have to require an HTTP client and a process spawner from every application, for one GET or
 * one short command every few seconds. A try that runs past its timeout is interrupted, which aborts the request,
 * destroys the socket or kills the command's process group, and counts as a failure.
 */
import { Deferred, Duration, Effect, Semaphore } from "effect"
import * as NodeChildProcess from "node:child_process"
import * as Net from "node:net"
import { truncateUtf8 } from "../events/truncate.ts"
import type { ByteLines } from "../logs/ByteLines.ts"
import { messageOf } from "../messageOf.ts"
import type { ProbeRole } from "../protocol/Model.ts"
import type { Probe, ProbeCheck, TryResult } from "./Probe.ts"

/** Longest failing output kept with a probe's state and its events: enough for an error line or a short body. */
const MAX_PROBE_OUTPUT_BYTES = 300

/** Most output an `exec` check collects before it stops listening: a chatty script must not grow memory. */
const MAX_EXEC_OUTPUT = 4096

/** Where an agent's probes run: the agent's working directory and its whole environment. */
export interface ProbeContext {
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Keeps an `exec` check's process group from outliving the orchestrator (the guardian's watch), if given. */
  readonly watch?: (pgid: number) => Effect.Effect<void>
  readonly release?: (pgid: number) => Effect.Effect<void>
}

const passed: TryResult = { _tag: "Passed" }
const failed = (output: string): TryResult => ({ _tag: "Failed", output: truncateUtf8(output, MAX_PROBE_OUTPUT_BYTES) })

/** Replaces `${NAME}` with the agent's environment variable; one that is not set makes the try fail, saying so. */
const expand = (template: string, env: ProbeContext["env"]): { readonly url: string } | { readonly missing: string } => {
  let missing: string | undefined
  const url = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name]
    if (value === undefined) missing ??= name
    return value ?? ""
  })
  return missing === undefined ? { url } : { missing }
}

const httpCheck = (check: Extract<ProbeCheck, { _tag: "http" }>, context: ProbeContext): Effect.Effect<TryResult> => {
  const target = expand(check.url, context.env)
  if ("missing" in target) return Effect.succeed(failed(`\${${target.missing}} is not set in the agent's environment`))
  return Effect.tryPromise({
    // Redirects are not followed: a 3xx is a status like any other (in the default range), as in Kubernetes.
    try: async (signal) => {
      const response = await fetch(target.url, { signal, redirect: "manual" })
      const [min, max] = check.status
      if (response.status >= min && response.status <= max) {
        // Not read: cancelling frees the connection at once.
        await response.body?.cancel()
        return passed
      }
      const body = await response.text()
      return failed(`status ${response.status}${body === "" ? "" : `: ${body}`}`)
    },
    catch: (error) => error
  }).pipe(Effect.catch((error) => Effect.succeed(failed(describeFetchError(error)))))
}

/** fetch hides the reason (ECONNREFUSED, say) in its error's cause. */
const describeFetchError = (error: unknown): string => {
  const cause = error instanceof Error ? error.cause : undefined
  return cause === undefined ? messageOf(error) : `${messageOf(error)}: ${messageOf(cause)}`
}

const tcpCheck = (check: Extract<ProbeCheck, { _tag: "tcp" }>): Effect.Effect<TryResult> =>
  Effect.callback<TryResult>((resume) => {
    const socket = Net.createConnection({ host: check.host, port: check.port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(passed))
    })
    socket.once("error", (error) => {
      socket.destroy()
      resume(Effect.succeed(failed(messageOf(error))))
    })
    // Interrupted by the timeout: the connection attempt must not linger.
    return Effect.sync(() => socket.destroy())
  })

const killGroup = (pid: number) => {
  try {
    process.kill(-pid, "SIGKILL")
  } catch {
    // Already gone.
  }
}

const execCheck = (check: Extract<ProbeCheck, { _tag: "exec" }>, context: ProbeContext): Effect.Effect<TryResult> =>
  Effect.gen(function*() {
    const child = yield* Effect.sync(() =>
      NodeChildProcess.spawn(check.command, check.args, {
        cwd: context.cwd,
        env: context.env,
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group, so that a timeout kills whatever the command started too.
        detached: true
      }))
    const pid = child.pid
    if (pid !== undefined && context.watch !== undefined) yield* context.watch(pid)
    const outcome = Effect.callback<TryResult>((resume) => {
      let output = ""
      const collect = (chunk: Buffer) => {
        if (output.length < MAX_EXEC_OUTPUT) output += chunk.toString("utf8")
      }
      child.stdout?.on("data", collect)
      child.stderr?.on("data", collect)
      child.once("error", (error) => resume(Effect.succeed(failed(`cannot run '${check.command}': ${messageOf(error)}`))))
      child.once("close", (code, signal) => {
        const text = output.trim()
        resume(Effect.succeed(
          code === 0
            ? passed
            : failed(`${code === null ? `killed by ${signal ?? "a signal"}` : `exited with code ${code}`}${text === "" ? "" : `: ${text}`}`)
        ))
      })
      return Effect.sync(() => {
        if (pid !== undefined && child.exitCode === null && child.signalCode === null) killGroup(pid)
      })
    })
    return yield* outcome.pipe(Effect.ensuring(
      pid !== undefined && context.release !== undefined ? context.release(pid) : Effect.void
    ))
  })

/** One try of a check, without its timeout. `seen` tells a `line` check whether a matching line has come. */
const runCheck = (check: ProbeCheck, context: ProbeContext, seen: Effect.Effect<boolean>): Effect.Effect<TryResult> => {
  switch (check._tag) {
    case "http":
      return httpCheck(check, context)
    case "tcp":
      return tcpCheck(check)
    case "exec":
      return execCheck(check, context)
    case "line":
      return Effect.map(seen, (matched) => matched ? passed : failed(`no line has matched /${check.pattern.source}/ yet`))
  }
}

/** One try with its timeout: past it, the check is interrupted and the try fails. */
const tryProbe = (probe: Probe, context: ProbeContext, seen: Effect.Effect<boolean>): Effect.Effect<TryResult> =>
  runCheck(probe.check, context, seen).pipe(
    Effect.timeoutOrElse({
      duration: probe.timeout,
      orElse: () => Effect.succeed(failed(`timed out after ${Duration.format(probe.timeout)}`))
    })
  )

export interface ProbeCallbacks {
  /** Whether to skip the try: a paused agent cannot answer, and is not to be killed for it. */
  readonly skip: Effect.Effect<boolean>
  readonly tried: (role: ProbeRole, result: TryResult) => Effect.Effect<void>
}

export interface ProbeRunner {
  /** Lines the agent wrote, for its `line` probes; at once, as an agent's output is kept (RunHooks.output). */
  readonly observe: (lines: ReadonlyArray<ByteLines>) => void
  /** Runs the probes until interrupted. */
  readonly run: (callbacks: ProbeCallbacks) => Effect.Effect<void>
}

const anyLineMatches = (lines: ByteLines, pattern: RegExp): boolean => {
  for (let index = 0; index < lines.count; index++) if (pattern.test(lines.text(index))) return true
  return false
}

/**
 * The runner of one run's probes. Made before the run is launched, so that a `line` probe sees the run's first
 * lines; started once the run is.
 */
export const makeProbeRunner = Effect.fnUntraced(function*(
  probes: { readonly readiness: Probe | undefined; readonly liveness: Probe | undefined },
  context: ProbeContext
) {
  const permit = yield* Semaphore.make(1)
  const roles = ([["readiness", probes.readiness], ["liveness", probes.liveness]] as const).flatMap(([role, probe]) =>
    probe === undefined ? [] : [{ role, probe, seen: Deferred.makeUnsafe<void>() }]
  )
  const lineProbes = roles.flatMap((entry) => entry.probe.check._tag === "line" ? [{ pattern: entry.probe.check.pattern, seen: entry.seen }] : [])

  // A line becomes text here only while a probe still waits for one to match.
  const observe = (lines: ReadonlyArray<ByteLines>): void => {
    for (const { pattern, seen } of lineProbes) {
      if (!Deferred.isDoneUnsafe(seen) && lines.some((run) => anyLineMatches(run, pattern))) Deferred.doneUnsafe(seen, Effect.void)
    }
  }

  const loop = (entry: (typeof roles)[number], callbacks: ProbeCallbacks) =>
    Effect.gen(function*() {
      const { role, probe, seen } = entry
      const matched = Deferred.isDone(seen)
      // A readiness `line` probe waits for its line, as `readyLine` always has: an agent still starting is not
      // failing. As liveness, a line that has not come counts against it, bounding how long it may take.
      const waitForLine = role === "readiness" && probe.check._tag === "line"
      yield* Effect.sleep(probe.initialDelay)
      for (;;) {
        if (waitForLine) yield* Deferred.await(seen)
        if (!(yield* callbacks.skip)) {
          const result = yield* permit.withPermit(tryProbe(probe, context, matched))
          yield* callbacks.tried(role, result)
        }
        yield* Effect.sleep(probe.period)
      }
    })

  const runner: ProbeRunner = {
    observe,
    run: (callbacks) => Effect.asVoid(Effect.forEach(roles, (entry) => loop(entry, callbacks), { concurrency: "unbounded", discard: true }))
  }
  return runner
})
