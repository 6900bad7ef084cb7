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

const spawnGuardian = (path: string, prefix: string) =>
  Effect.callback<NodeChildProcess.ChildProcess, GuardianError>((resume) => {
    const child = NodeChildProcess.spawn(process.execPath, [path, prefix], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"]
    })
    child.once("error", (cause) => resume(Effect.fail(new GuardianError({ cause }))))
    child.once("spawn", () => {
      child.unref()
      // A write to a guardian that died fails with EPIPE; its exit is handled below, the error needs no crash.
      child.stdin?.on("error", () => {})
      resume(Effect.succeed(child))
    })
  })

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

  // A guardian that dies (killed by an operator, say) is replaced at once and told every live group.
  const adopt = (child: NodeChildProcess.ChildProcess) => {
    current = child
    child.once("exit", (code, signal) => {
      if (closing) return
      Effect.runForkWith(services)(Effect.gen(function*() {
        yield* Effect.logWarning(`the guardian process exited (${signal ?? `code ${code}`}); starting another`)
        adopt(yield* spawnGuardian(path, prefix))
        for (const pgid of groups) send(`+${pgid}`)
      }).pipe(Effect.catch((error) => Effect.logError(error.message))))
    })
  }

  const ensure = yield* Effect.cached(Effect.map(spawnGuardian(path, prefix), adopt))

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
