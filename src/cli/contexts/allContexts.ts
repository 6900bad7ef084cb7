/**
 * `--all-contexts` on the read commands (`ps`, `status`, `stats`): the same request to every context at once, each
 * at its own address with its own keys (`--context`, `--address` and the key flags, and their variables, do not
 * apply), and one table of the answers with a CONTEXT column first. A context that cannot be asked or does not
 * answer is one line on stderr, and the others are shown all the same.
 *
 * The exit code is 0 only if every context answered; otherwise it is the worst of what went wrong, by exit.ts's
 * rules: 3 a context did not answer, 2 one's key files cannot be used, 1 one answered with an error.
 *
 * With `--json`: one object keyed by context name, `{"address", "response"}` holding the orchestrator's response
 * envelope exactly as it came (an error envelope too), or `{"address", "error": {"reason", "message"}}` where no
 * response came.
 */
import { Console, Duration, Effect, Option, Result, Schema } from "effect"
import { Flag } from "effect/cli"
import { type BadResponse, CommandClient, type CommandRefused, type Reply, type Unreachable } from "../../client/CommandClient.ts"
import type { ArgsOf, CommandName, ResultOf } from "../../protocol/Commands.ts"
import type { KeyFileError } from "../../security/keys.ts"
import type { ClientCredentials } from "../../security/RequestSignature.ts"
import { ConflictingFlags, NoContexts, UsageError } from "../errors.ts"
import { currentStyle, type Style, table } from "../output.ts"
import { DEFAULT_TIMEOUT_SECONDS, readCredentials, root } from "../root.ts"
import { contextsPath, loadContexts, type SavedContext } from "./ContextsFile.ts"

export const allContextsFlag = Flag.Boolean("all-contexts").pipe(
  Flag.withDefault(false),
  Flag.withDescription(
    "Ask every context ('orchestrate context list') at once, each at its own address with its own keys, and show " +
      "one table with a CONTEXT column; one that does not answer is reported on stderr. Exit 0 only if all answered"
  )
)

/** `--all-contexts` with a flag that keeps one orchestrator in view (`--watch`, `--wait`). */
export const cannotCombine = (flag: string, why: string): Effect.Effect<never, UsageError> =>
  Effect.fail(new UsageError({ reason: new ConflictingFlags({ first: "--all-contexts", second: flag, why }) }))

type Failure = Unreachable | BadResponse | CommandRefused | KeyFileError

const PROBLEMS = {
  unanswered: "unreachable",
  unusable: "its key files cannot be used",
  refused: "answered with an error"
} as const

const ContextFailure = Schema.Struct({ context: Schema.String, problem: Schema.Literals(["unanswered", "unusable", "refused"]) })
type ContextFailure = typeof ContextFailure.Type

const failureFields = { total: Schema.Int, failures: Schema.Array(ContextFailure) }

const summary = (total: number, failures: ReadonlyArray<ContextFailure>): string =>
  `${failures.length} of ${total} contexts failed: ` +
  failures.map(({ context, problem }) => `${context} (${PROBLEMS[problem]})`).join(", ")

/** Some context did not answer (exit 3). */
export class ContextsUnanswered extends Schema.TaggedError<ContextsUnanswered>()("ContextsUnanswered", failureFields) {
  override get message(): string {
    return summary(this.total, this.failures)
  }
}

/** None went unanswered, but some context could not be asked: its key files cannot be used (exit 2). */
export class ContextsUnusable extends Schema.TaggedError<ContextsUnusable>()("ContextsUnusable", failureFields) {
  override get message(): string {
    return summary(this.total, this.failures)
  }
}

/** Every context answered, some with an error (exit 1). */
export class ContextsRefused extends Schema.TaggedError<ContextsRefused>()("ContextsRefused", failureFields) {
  override get message(): string {
    return summary(this.total, this.failures)
  }
}

const problemOf = (failure: Failure): ContextFailure["problem"] =>
  failure._tag === "Unreachable" ? "unanswered" : failure._tag === "KeyFileError" ? "unusable" : "refused"

/** What one context said, or why it said nothing. */
interface Asked<A> {
  readonly context: string
  readonly address: string
  readonly result: Result.Result<Reply<A>, Failure>
}

/** How a command's answer becomes rows of the one table, the CONTEXT column left out. */
export interface ContextsView<K extends CommandName> {
  /** The column names, or how to name them from an answer (the first context's that answered). */
  readonly headers: ReadonlyArray<string> | ((data: ResultOf<K>) => ReadonlyArray<string>)
  readonly rows: (data: ResultOf<K>, style: Style) => ReadonlyArray<ReadonlyArray<string>>
}

const credentialsOf = ({ serverKey, clientKey }: SavedContext): Effect.Effect<ClientCredentials | undefined, KeyFileError> =>
  serverKey === undefined || clientKey === undefined ? Effect.succeed(undefined) : readCredentials(serverKey, clientKey)

/** The `--json` document, built around the response texts so that each envelope is exactly what came. */
const jsonOf = <A>(asked: ReadonlyArray<Asked<A>>): string => {
  const entry = ({ address, result }: Asked<A>): string => {
    const at = `"address":${JSON.stringify(address)}`
    if (Result.isSuccess(result)) return `{${at},"response":${result.success.raw}}`
    const failure = result.failure
    if (failure._tag === "CommandRefused") return `{${at},"response":${failure.raw}}`
    const reason = failure._tag === "KeyFileError" ? failure._tag : failure.reason._tag
    return `{${at},"error":${JSON.stringify({ reason, message: failure.message })}}`
  }
  return `{${asked.map((one) => `${JSON.stringify(one.context)}:${entry(one)}`).join(",")}}`
}

const tableOf = <K extends CommandName>(asked: ReadonlyArray<Asked<ResultOf<K>>>, view: ContextsView<K>, style: Style) => {
  const answers = asked.flatMap(({ context, result }) => Result.isSuccess(result) ? [{ context, data: result.success.data }] : [])
  const [first] = answers
  const headers = typeof view.headers === "function" ? first === undefined ? [] : view.headers(first.data) : view.headers
  return table(
    ["CONTEXT", ...headers],
    answers.flatMap(({ context, data }) => view.rows(data, style).map((row) => [context, ...row])),
    style
  )
}

export const askAllContexts = <K extends CommandName>(command: K, args: ArgsOf<K>, view: ContextsView<K>) =>
  Effect.gen(function*() {
    const flags = yield* root
    const document = yield* loadContexts()
    const contexts = Object.entries(document.contexts).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    if (contexts.length === 0) return yield* new UsageError({ reason: new NoContexts({ path: yield* contextsPath }) })
    const timeout = Duration.seconds(Option.getOrElse(flags.timeout, () => DEFAULT_TIMEOUT_SECONDS))
    const asked = yield* Effect.forEach(contexts, ([context, saved]) =>
      credentialsOf(saved).pipe(
        Effect.flatMap((credentials) =>
          CommandClient.make({ address: saved.address, timeout, ...(credentials === undefined ? {} : { credentials }) })
            .call(command, args)
        ),
        Effect.result,
        Effect.map((result): Asked<ResultOf<K>> => ({ context, address: saved.address, result }))
      ), { concurrency: "unbounded" })

    const answered = asked.some(({ result }) => Result.isSuccess(result))
    if (flags.json) yield* Console.log(jsonOf(asked))
    else if (answered) yield* Console.log(tableOf(asked, view, yield* currentStyle))
    const failures: Array<ContextFailure> = []
    for (const { context, result } of asked) {
      if (Result.isSuccess(result)) continue
      yield* Console.error(`error: context '${context}': ${result.failure.message}`)
      failures.push({ context, problem: problemOf(result.failure) })
    }
    if (failures.length > 0) {
      const failed = { total: asked.length, failures }
      const has = (problem: ContextFailure["problem"]) => failures.some((failure) => failure.problem === problem)
      return yield* has("unanswered")
        ? new ContextsUnanswered(failed)
        : has("unusable")
        ? new ContextsUnusable(failed)
        : new ContextsRefused(failed)
    }
  }).pipe(Effect.withSpan(`cli.${command}.allContexts`))
