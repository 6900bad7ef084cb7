/**
 * The CLI's one-shot fast path: `orchestrate ps`, `status`, `stats`, `history`, `logs`, `commands` and `whoami`
 * without loading effect/cli, its command tree or Schema, which take most of a short command's time (about 120 ms
 * of loading against Node's 35, bench/README.md #4). bin/orchestrate.js runs it first (dist/fast.mjs); it returns
 * false, having printed nothing, whenever it cannot be sure to do exactly what the full CLI does, and the full CLI
 * (dist/orchestrate.mjs) then runs instead: for anything argv.ts does not take (help, usage errors included), a
 * target it cannot settle (target.ts), a handshake failure, or an answer it cannot read as certainly valid. It is
 * not a second CLI: the renderers, the messages, the exit codes, the request and the socket handling are the full
 * CLI's own modules; test/cli/fast-path.test.ts compares both paths' output byte for byte.
 *
 * A read command asked twice (here, then by the full CLI after an answer it could not read) changes nothing but
 * the audit trail, which records both requests.
 */
import { CONNECTION_REFUSED, formatMillis, noAnswerWithin, refusedWith, requestFrame, unreachableAt } from "../../client/wire.ts"
import { DEFAULT_TIMEOUT_SECONDS } from "../defaults.ts"
import { errorLine, ExitCode } from "../exitCode.ts"
import { EXIT_GRACE_MILLIS, ignoreOutputErrors, SHUTDOWN_SIGNALS } from "../processEnd.ts"
import type { Style } from "../style.ts"
import { parseInvocation } from "./argv.ts"
import { FAIL } from "./decoders.ts"
import { type Plan, planOf } from "./plan.ts"
import { requestId } from "./requestId.ts"
import { decodeEnvelope } from "./response.ts"
import { styleFor } from "./terminal.ts"
import { type Target, targetOf } from "./target.ts"
import { type Exchange, exchange } from "./transport.ts"

type Environment = Readonly<Record<string, string | undefined>>

/** How an invocation ends: what it prints (each text a line, as `console.log` writes it) and its exit code. */
interface Ending {
  readonly stdout?: string
  /** The failure's message, said as every failure of the CLI is (exitCode.ts). */
  readonly failure?: string
  readonly code: ExitCode
}

/** How the outcome of the exchange ends the invocation; undefined leaves it to the full CLI. */
const endingOf = (outcome: Exchange, plan: Plan, json: boolean, target: Target, budgetMillis: number, style: Style): Ending | undefined => {
  switch (outcome._tag) {
    case "Unsure":
      return undefined
    case "Interrupted":
      // As the full CLI ends when a signal interrupts it: at once, quietly, successfully.
      return { code: ExitCode.ok }
    case "ConnectionRefused":
      return { failure: unreachableAt(CONNECTION_REFUSED, target.address), code: ExitCode.unreachable }
    case "NoAnswer":
      return { failure: unreachableAt(noAnswerWithin(formatMillis(budgetMillis)), target.address), code: ExitCode.unreachable }
    case "Answered": {
      const envelope = decodeEnvelope(outcome.raw)
      if (envelope === undefined) return undefined
      // An error response is printed exactly with --json too, before the failure is said.
      if (envelope.status === "error") {
        return { ...(json ? { stdout: outcome.raw } : {}), failure: refusedWith(envelope.error, envelope.code), code: ExitCode.failed }
      }
      const text = plan.read(envelope.data)
      if (text === FAIL) return undefined
      const rendered = json ? outcome.raw : text(style)
      return { ...(rendered === undefined ? {} : { stdout: rendered }), code: ExitCode.ok }
    }
  }
}

/** Runs the invocation if the fast path takes it, and says whether it did; false means nothing was printed. */
export const runFastPath = async (argv: ReadonlyArray<string>, env: Environment): Promise<boolean> => {
  const invocation = parseInvocation(argv, env)
  if (invocation === undefined) return false
  const target = targetOf(invocation.shared, env)
  if (target === undefined) return false
  const curve = target.keys === undefined ? undefined : (await import("./credentials.ts")).curveFor(target.keys)
  if (target.keys !== undefined && curve === undefined) return false
  const plan = await planOf(invocation)
  if (plan === undefined) return false
  const zmq = await import("zeromq")
  const budgetMillis = invocation.shared.timeoutMillis ?? DEFAULT_TIMEOUT_SECONDS * 1000
  const interrupt = new AbortController()
  const onSignal = () => interrupt.abort()
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal)
  const outcome = await exchange(zmq, {
    address: target.address,
    credentials: curve?.credentials,
    body: requestFrame({ command: plan.command, args: plan.args }, requestId()),
    sign: curve?.sign,
    budgetMillis,
    signal: interrupt.signal
  }).finally(() => {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal)
  })
  const style = styleFor(env, process.stdout.isTTY === true)
  const ending = endingOf(outcome, plan, invocation.shared.json, target, budgetMillis, style)
  if (ending === undefined) return false
  ignoreOutputErrors()
  // What `console.log` of one string writes, as the full CLI prints, without setting up `console` for it.
  if (ending.stdout !== undefined) process.stdout.write(`${ending.stdout}\n`)
  if (ending.failure !== undefined) process.stderr.write(`${errorLine(ending.failure)}\n`)
  process.exitCode = ending.code
  // Let Node exit on its own so piped output is flushed, but never hang on a stray handle.
  setTimeout(() => process.exit(), EXIT_GRACE_MILLIS).unref()
  return true
}
