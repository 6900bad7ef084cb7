/**
 * Runs a process agent: an OS command in its own process group, with its output captured line by line. Every
 * process the run starts is found again when it stops (ProcessTable: its group, its descendants and its invocation
 * marker), so a stop leaves none behind, even one that called `setsid`; and the run's group is registered with the
 * guardian, so none outlives the orchestrator either.
 *
 * It spawns with Node's child_process, not the platform's process service. That service's cleanup counts the
 * zombie members of a process group as alive, and where nothing reaps orphans (a container without an init, these
 * sandboxes) it held every stop's reply back by the grace period plus a second. Here a stop ends as soon as the last
 * of the run's processes has exited.
 */
import { Clock, Deferred, Duration, Effect, Exit, Fiber, Schedule, Schema } from "effect"
import * as NodeChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { messageOf } from "../messageOf.ts"
import type { ProcessAgent } from "./AgentDefinition.ts"
import type { AgentRun, RunHooks, RunOutcome } from "./AgentRun.ts"
import { type Guardian, GuardianError } from "./Guardian.ts"
import { makeOutputPairs, type OutputPair, type OutputSource, readableSource } from "./OutputPipe.ts"
import { readLines } from "./PipeLines.ts"
import { INVOCATION_VARIABLE, isGone, type Member, type ProcessTable, signal, ticksNow } from "./ProcessTable.ts"

/** How long captured output may keep arriving after the process has exited (e.g. from a lingering child). */
const OUTPUT_DRAIN_TIMEOUT = "1 second"

/** How often a stop looks whether the run's processes are gone: the most its reply can lag their exit. */
const STOP_POLL_MILLIS = 10

/** SIGKILL cannot be refused, but a process in uninterruptible sleep (a hung network read) takes its time. */
const KILL_WAIT_MILLIS = 5000

/** The agent's working directory does not exist. */
export class WorkingDirectoryMissing extends Schema.Error<WorkingDirectoryMissing>("effect-orchestrate/LaunchFailed/WorkingDirectoryMissing")({
  _tag: Schema.tag("WorkingDirectoryMissing"),
  cwd: Schema.String
}) {
  override get message(): string {
    return `working directory does not exist: ${this.cwd}`
  }
}

/** The system cannot find the command (ENOENT from spawn). */
export class CommandNotFound extends Schema.Error<CommandNotFound>("effect-orchestrate/LaunchFailed/CommandNotFound")({
  _tag: Schema.tag("CommandNotFound"),
  command: Schema.String,
  cause: Schema.Defect()
}) {
  override get message(): string {
    return `cannot start '${this.command}': command not found (${messageOf(this.cause)})`
  }
}

/** The system refused to start the command for another reason (permissions, limits). */
export class SpawnRefused extends Schema.Error<SpawnRefused>("effect-orchestrate/LaunchFailed/SpawnRefused")({
  _tag: Schema.tag("SpawnRefused"),
  command: Schema.String,
  cause: Schema.Defect()
}) {
  override get message(): string {
    return `cannot start '${this.command}': ${messageOf(this.cause)}`
  }
}

/** The guardian could not be started, and nothing runs unguarded. */
export class Unguarded extends Schema.Error<Unguarded>("effect-orchestrate/LaunchFailed/Unguarded")({
  _tag: Schema.tag("Unguarded"),
  cause: GuardianError
}) {
  override get message(): string {
    return this.cause.message
  }
}

export const LaunchFailureReason = Schema.Union([WorkingDirectoryMissing, CommandNotFound, SpawnRefused, Unguarded])
export type LaunchFailureReason = WorkingDirectoryMissing | CommandNotFound | SpawnRefused | Unguarded

/** A process agent's run could not start; its reason says why. */
export class LaunchFailed extends Schema.TaggedError<LaunchFailed>()("LaunchFailed", {
  reason: LaunchFailureReason
}) {
  override get message(): string {
    return this.reason.message
  }
}

interface Spawned {
  readonly pid: number
  readonly stdout: OutputSource
  readonly stderr: OutputSource
}

/**
 * Spawns the agent's command as the leader of a new process group; `exited` completes with how it ended. Its
 * stdout and stderr are the `output` pairs (closed here once the child has its ends), or Node's pipes without them.
 */
const spawnLeader = (
  agent: ProcessAgent,
  invocation: string,
  exited: Deferred.Deferred<RunOutcome>,
  onExit: () => void,
  output: readonly [OutputPair, OutputPair] | undefined
) =>
  Effect.callback<Spawned, LaunchFailed>((resume) => {
    const fail = (reason: LaunchFailureReason) => resume(Effect.fail(new LaunchFailed({ reason })))
    const child = NodeChildProcess.spawn(agent.command, agent.args, {
      cwd: agent.cwd,
      env: { ...process.env, ...agent.env, [INVOCATION_VARIABLE]: invocation },
      stdio: output === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", output[0].child, output[1].child],
      detached: true
    })
    // The child has its copies now (spawn returns once it has exec'd, or failed to): only the child may hold the
    // writing ends, or the read would never see their end.
    for (const pair of output ?? []) pair.child.destroy()
    // Listening before the fiber resumes: a command that exits at once must not end unobserved.
    child.once("exit", (code, signalName) => {
      onExit()
      Deferred.doneUnsafe(
        exited,
        Exit.succeed<RunOutcome>(code === null ? { _tag: "Killed", signal: signalName ?? "a signal" } : { _tag: "Exited", code })
      )
    })
    child.once("error", (cause: NodeJS.ErrnoException) =>
      fail(cause.code === "ENOENT" ? new CommandNotFound({ command: agent.command, cause }) : new SpawnRefused({ command: agent.command, cause })))
    child.once("spawn", () => {
      // Later errors (a signal that cannot be delivered) are not the run's end; its exit is.
      child.on("error", () => {})
      const { pid, stdout, stderr } = child
      if (pid === undefined) fail(new SpawnRefused({ command: agent.command, cause: new Error("the system gave it no process id") }))
      else if (output !== undefined) resume(Effect.succeed({ pid, stdout: output[0].source, stderr: output[1].source }))
      else if (stdout === null || stderr === null) fail(new SpawnRefused({ command: agent.command, cause: new Error("the system gave it no pipes") }))
      else resume(Effect.succeed({ pid, stdout: readableSource(stdout), stderr: readableSource(stderr) }))
    })
  })

/**
 * The two pairs of sockets an agent's stdout and stderr come through (OutputPipe), closed with the run's scope if
 * they were not handed on; or, when they cannot be made, nothing, and the agent gets Node's pipes.
 */
const outputPairs = Effect.acquireRelease(
  makeOutputPairs(2).pipe(
    Effect.map(([stdout, stderr]) => stdout === undefined || stderr === undefined ? undefined : [stdout, stderr] as const),
    Effect.catch((cause) => Effect.as(Effect.logDebug(`an agent's output comes through Node's pipes: ${messageOf(cause)}`), undefined))
  ),
  (pairs) =>
    Effect.sync(() =>
      pairs?.forEach((pair) => {
        pair.child.destroy()
        pair.source.destroy()
      })
    )
)

export const launchProcess = Effect.fn("ProcessRun.launch")(function*(
  agent: ProcessAgent,
  hooks: RunHooks,
  options: {
    readonly heartbeatInterval: Duration.Duration
    readonly grace: Duration.Duration
    readonly guardian: Guardian
    readonly processes: ProcessTable
  }
) {
  if (!Fs.existsSync(agent.cwd)) {
    return yield* new LaunchFailed({ reason: new WorkingDirectoryMissing({ cwd: agent.cwd }) })
  }
  const { guardian, processes } = options
  // Nothing runs before the guardian does: an agent that cannot be guarded does not start.
  yield* guardian.ensure.pipe(Effect.mapError((cause) => new LaunchFailed({ reason: new Unguarded({ cause }) })))
  const invocation = guardian.invocation(agent.name)
  const exited = yield* Deferred.make<RunOutcome>()
  const isRunning = Effect.map(Deferred.isDone(exited), (done) => !done)

  // Set by the leader's exit: after it, its pid and group id may be reused by a process that is not ours.
  let leaderExitedAt: number | undefined
  const runOf = (leader: number) => ({ leader, invocation, leaderExitedAt })

  /** Whether the run's process group still holds processes of ours, so that signalling it reaches only them. */
  const groupIsOurs = (leader: number, members: ReadonlyArray<Member>) =>
    leaderExitedAt === undefined || members.some((member) => member.pgid === leader)

  /**
   * Signals each process of the run once: the group as a whole (while it is ours), and by pid each member outside
   * it. A process signalled twice may take the second SIGTERM for an impatient operator's "now, please".
   */
  const signalOnce = (members: ReadonlyArray<Member>, names: ReadonlyArray<NodeJS.Signals>, leader: number) => {
    const group = groupIsOurs(leader, members)
    for (const name of names) {
      if (group) signal(-leader, name)
      for (const member of members) if (!group || member.pgid !== leader) signal(member.pid, name)
    }
  }

  /** Waits until the leader has exited and every one of `members` is gone; false if `deadline` came first. */
  const allGone = (members: ReadonlyArray<Member>, deadline: number): Effect.Effect<boolean> =>
    Effect.gen(function*() {
      for (;;) {
        if (!(yield* isRunning) && members.every((member) => isGone(member.pid))) return true
        if ((yield* Clock.currentTimeMillis) >= deadline) return false
        yield* Effect.sleep(STOP_POLL_MILLIS)
      }
    })

  // Set once a stop has found nothing left, so that the scope's release need not look again.
  let settled = false

  /**
   * Stops every process of the run: SIGTERM (and SIGCONT, for a paused one) to each as it is found, then SIGKILL
   * to whatever is left after `grace`. Says whether it had to kill.
   */
  const terminate = (leader: number, grace: Duration.Duration) =>
    Effect.gen(function*() {
      if (settled) return { forced: false }
      const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(grace)
      const asked = new Set<number>()
      while ((yield* Clock.currentTimeMillis) < deadline) {
        const members = processes.membersOf(runOf(leader))
        if (members.length === 0 && !(yield* isRunning)) {
          settled = true
          return { forced: false }
        }
        const fresh = members.filter((member) => !asked.has(member.pid))
        if (fresh.length > 0) {
          // The first time, the group and whoever is outside it; after that, only those new since (a process
          // started while its parent stops), each by pid, so that no one is asked twice.
          if (asked.size === 0) signalOnce(fresh, ["SIGTERM", "SIGCONT"], leader)
          else for (const member of fresh) for (const name of ["SIGTERM", "SIGCONT"] as const) signal(member.pid, name)
          for (const member of fresh) asked.add(member.pid)
        }
        // Gone in time: look once more, for anything they started while stopping.
        if (!(yield* allGone(members, deadline))) break
      }
      const killDeadline = (yield* Clock.currentTimeMillis) + KILL_WAIT_MILLIS
      let forced = false
      while ((yield* Clock.currentTimeMillis) < killDeadline) {
        const members = processes.membersOf(runOf(leader))
        if (members.length === 0 && !(yield* isRunning)) {
          settled = true
          break
        }
        forced = true
        signalOnce(members, ["SIGKILL"], leader)
        if (!(yield* allGone(members, killDeadline))) break
      }
      return { forced }
    }).pipe(Effect.withSpan("ProcessRun.terminate", { attributes: { agent: agent.name } }))

  const output = yield* outputPairs
  const { pid, stdout, stderr } = yield* Effect.acquireRelease(
    spawnLeader(agent, invocation, exited, () => {
      leaderExitedAt = ticksNow()
    }, output),
    // Whatever the run leaves when it ends (processes its leader left behind, or everything, if the scope closes
    // before a stop had its say) is stopped too.
    ({ pid }) => Effect.andThen(terminate(pid, options.grace), guardian.release(pid))
  )
  yield* guardian.watch(pid)
  yield* hooks.started(pid)

  const services = yield* Effect.context<never>()
  const pumps = yield* Effect.forEach(
    [["stdout", stdout], ["stderr", stderr]] as const,
    ([stream, source]) => Effect.forkScoped(readLines(source, (lines) => hooks.output(stream, lines), services))
  )
  // A readiness probe (`readyLine` among them: a `line` probe reads the lines through `hooks.output`) decides when
  // the agent is ready; without one it is as soon as it has started.
  if (agent.readiness === undefined) yield* hooks.ready

  yield* Effect.forkScoped(
    isRunning.pipe(
      Effect.flatMap((alive) => alive ? hooks.heartbeat : Effect.void),
      Effect.repeat(Schedule.spaced(options.heartbeatInterval))
    )
  )

  const outcome: Effect.Effect<RunOutcome> = Deferred.await(exited).pipe(
    Effect.tap(() => Effect.forEach(pumps, (pump) => Effect.timeoutOption(Fiber.join(pump), OUTPUT_DRAIN_TIMEOUT)))
  )

  const signalRun = (name: NodeJS.Signals) => Effect.sync(() => signalOnce(processes.membersOf(runOf(pid)), [name], pid))

  const run: AgentRun = {
    outcome,
    // A leader that even SIGKILL has not ended (stuck in uninterruptible sleep) must not hold the stop for ever.
    stop: (grace) => Effect.tap(terminate(pid, grace), () => Effect.timeoutOption(outcome, KILL_WAIT_MILLIS)),
    pause: signalRun("SIGSTOP"),
    resume: signalRun("SIGCONT"),
    processes: () => runOf(pid)
  }
  return run
})
