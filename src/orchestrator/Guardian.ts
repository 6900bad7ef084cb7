/**
 * The orchestrator's side of the guardian (see guardianMain.ts): starts the guardian process, names each agent
 * run with an invocation marker, and tells the guardian which process groups are alive.
 *
 * Agents then die with the orchestrator whatever kills it, without the dying process running any code: the
 * kernel closes the guardian's pipe, and the guardian does the killing. Measured in test/reliability: the last
 * agent process is gone within milliseconds of a SIGKILL of `orchestrate up`.
 *
 * The guardian is spawned with Node's child_process directly, not the platform's process service: it must not be
 * tied to a scope that kills it, it must sit in a session of its own (so a terminal's signals never reach it), and
 * it must not keep this process alive.
 */
import { Effect, Schema, type Scope } from "effect"
import * as NodeChildProcess from "node:child_process"
import { randomBytes } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { messageOf } from "../messageOf.ts"
import { packageRoot } from "../packageRoot.ts"

export class GuardianError extends Schema.TaggedError<GuardianError>()("GuardianError", {
  cause: Schema.Defect()
}) {
  override get message(): string {
    return `cannot start the guardian process that stops agents if the orchestrator dies: ${messageOf(this.cause)}`
  }
}

export interface Guardian {
  /** Starts the guardian process, once; until then nothing may run that it would have to stop. */
  readonly ensure: Effect.Effect<void, GuardianError>
  /** A new, unique invocation marker for a run of `agent`, to put in its environment. */
  readonly invocation: (agent: string) => string
  /** The run led by `pgid` (its process group) has started, or has ended. */
  readonly watch: (pgid: number) => Effect.Effect<void>
  readonly release: (pgid: number) => Effect.Effect<void>
}

/** For an orchestrator with no process agents: nothing to guard. */
export const none: Guardian = {
  ensure: Effect.void,
  invocation: (agent) => agent,
  watch: () => Effect.void,
  release: () => Effect.void
}

/** The bundled guardian, or its source when running from a checkout that has not been built. */
const script = (): string => {
  const root = packageRoot()
  const bundled = Path.join(root, "dist", "guardian.mjs")
  return Fs.existsSync(bundled) ? bundled : Path.join(root, "src", "orchestrator", "guardianMain.ts")
}

/** A guardian that has not said it is ready by then (Node's start-up is ~40 ms) is not working. */
const READY_TIMEOUT = "5 seconds"

/**
 * Starts a guardian and waits until it says `ready` on its stdout: only then is it known to be watching, rather
 * than a process that was spawned and died at once (a broken install, say).
 */
const spawnGuardian = (path: string, prefix: string) =>
  Effect.callback<NodeChildProcess.ChildProcess, GuardianError>((resume) => {
    const child = NodeChildProcess.spawn(process.execPath, [path, prefix], {
      detached: true,
      stdio: ["pipe", "pipe", "ignore"]
    })
    let ready = false
    const fail = (cause: unknown) => {
      child.kill("SIGKILL")
      resume(Effect.fail(new GuardianError({ cause })))
    }
    child.once("error", fail)
    child.once("exit", (code, signal) => fail(new Error(`it exited (${signal ?? `code ${code}`}) before it was ready`)))
    child.stdout?.once("data", () => {
      ready = true
      child.removeAllListeners("exit")
      // It says nothing more; the pipe goes, and with it anything that could keep this process alive.
      child.stdout?.destroy()
      child.unref()
      // A write to a guardian that died fails with EPIPE; its exit is handled by the caller, the error needs no crash.
      child.stdin?.on("error", () => {})
      resume(Effect.succeed(child))
    })
    // Given up on (the timeout below): a guardian that never got ready is no use, and must not linger.
    return Effect.sync(() => {
      if (!ready) child.kill("SIGKILL")
    })
  }).pipe(Effect.timeoutOrElse({
    duration: READY_TIMEOUT,
    orElse: () => Effect.fail(new GuardianError({ cause: new Error(`it did not say it was ready within ${READY_TIMEOUT}`) }))
  }))

/** Replacements for a guardian that keeps dying are spaced out, doubling up to this. */
const MAX_RESPAWN_DELAY_MILLIS = 5000

/** A guardian that lived this long was working: the next replacement, if any, is at once again. */
const MIN_HEALTHY_LIFE_MILLIS = 10_000

/** How long a clean stop waits for the guardian's last sweep, which finds nothing when every agent has stopped. */
const SWEEP_WAIT = "1 second"

/**
 * A guardian for this orchestrator, started by `ensure` (so that an orchestrator which never runs an agent, such as
 * one whose command interface cannot bind, never starts one). Closing the scope lets it go: it sweeps and exits.
 */
export const make: Effect.Effect<Guardian, never, Scope.Scope> = Effect.gen(function*() {
  const prefix = `${randomBytes(8).toString("hex")}:`
  const path = script()
  const groups = new Set<number>()
  let runs = 0
  let closing = false
  let current: NodeChildProcess.ChildProcess | undefined
  const services = yield* Effect.context<never>()

  const send = (line: string) => {
    current?.stdin?.write(`${line}\n`)
  }

  // A guardian that dies (killed by an operator, say) is replaced and told every live group: at once the first
  // time, then with a doubling delay while replacements keep failing or dying young. Meanwhile no new agent starts
  // (`ensure`).
  let respawnDelay = 0
  let earlyDeaths = 0
  const adopt = (child: NodeChildProcess.ChildProcess) => {
    if (closing) {
      child.stdin?.end()
      return
    }
    current = child
    const adoptedAt = performance.now()
    child.once("exit", (code, signal) => {
      current = undefined
      if (closing) return
      // One that keeps dying soon after it was ready is as broken as one that never gets ready: the first such
      // death is replaced at once, the next ones with a growing delay; a guardian that lived a while resets it.
      earlyDeaths = performance.now() - adoptedAt < MIN_HEALTHY_LIFE_MILLIS ? earlyDeaths + 1 : 0
      respawnDelay = earlyDeaths <= 1 ? 0 : Math.min(MAX_RESPAWN_DELAY_MILLIS, 100 * 2 ** (earlyDeaths - 2))
      Effect.runForkWith(services)(Effect.gen(function*() {
        yield* Effect.logWarning(`the guardian process exited (${signal ?? `code ${code}`}); starting another`)
        for (;;) {
          if (respawnDelay > 0) yield* Effect.sleep(respawnDelay)
          if (closing) return
          const next = yield* Effect.result(spawnGuardian(path, prefix))
          if (next._tag === "Success") {
            adopt(next.success)
            for (const pgid of groups) send(`+${pgid}`)
            return
          }
          respawnDelay = Math.min(MAX_RESPAWN_DELAY_MILLIS, Math.max(100, respawnDelay * 2))
          yield* Effect.logError(`${next.failure.message}; trying again in ${respawnDelay} ms`)
        }
      }))
    })
  }

  const started = yield* Effect.cached(Effect.map(spawnGuardian(path, prefix), adopt))
  const ensure = Effect.flatMap(started, () =>
    current === undefined
      ? Effect.fail(new GuardianError({ cause: new Error("the guardian process died and has not been replaced yet") }))
      : Effect.void)

  yield* Effect.addFinalizer(() =>
    Effect.suspend(() => {
      closing = true
      const child = current
      if (child === undefined) return Effect.void
      const exited = Effect.callback<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.stdin?.end()
      })
      return Effect.ignore(Effect.timeout(exited, SWEEP_WAIT))
    })
  )

  return {
    ensure,
    invocation: (agent) => `${prefix}${agent}:${++runs}`,
    watch: (pgid) =>
      Effect.sync(() => {
        groups.add(pgid)
        send(`+${pgid}`)
      }),
    release: (pgid) =>
      Effect.sync(() => {
        groups.delete(pgid)
        send(`-${pgid}`)
      })
  } satisfies Guardian
})
