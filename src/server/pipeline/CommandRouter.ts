/**
 * Routing to the command: a command name to its route, which decodes the request's arguments with the command's
 * schema, runs its handler and encodes its result with the command's schema (or its fast encoder). Built once per
 * server, so every decoder and encoder is made once, not per request.
 */
import { Effect, Result, Schema } from "effect"
import { type CommandName, Commands, commandNames, type ResultOf } from "../../protocol/Commands.ts"
import { fastEncoders } from "../../protocol/fastEncode.ts"
import type { Handlers, Reply } from "../CommandHandlers.ts"
import type { Caller } from "../Principals.ts"
import { type CommandFailure, InvalidArguments } from "./RequestError.ts"

/** A command's result as JSON text, and what to do once it has been sent (only `shutdown` has something). */
export interface Executed {
  readonly json: string
  readonly afterReply: Effect.Effect<void> | undefined
}

/** Arguments decoded for a command: as decoded (for the authorizer to look at), and bound to the command's run. */
export interface Bound {
  readonly args: ReadonlyArray<unknown>
  readonly run: (caller: Caller) => Effect.Effect<Executed, CommandFailure>
}

export interface Route {
  readonly command: CommandName
  readonly mutating: boolean
  /** What the command acts on, for callers limited to some agents (see `protocol/Commands.ts`). */
  readonly target: "none" | "agent" | "every-agent"
  /** The arguments decoded with the command's schema, ready to run. */
  readonly bind: (args: ReadonlyArray<unknown>) => Result.Result<Bound, InvalidArguments>
}

// Every problem at once, unknown keys refused (a typo must not be silently ignored), the offending value quoted.
const strict = { errors: "all", onExcessProperty: "error", reportInput: true } as const

const makeRoute = <K extends CommandName>(command: K, handler: Handlers[K]): Route => {
  const spec: Commands[K] = Commands[command]
  const decodeArgs = Schema.decodeUnknownResult(spec.args, strict)
  // Most requests have no arguments (`ps`, `stats`...), and decoding none always gives the same: done once.
  const noArgs = decodeArgs([])
  const fast: ((result: ResultOf<K>) => unknown) | undefined = fastEncoders[command]
  const encodeResult = Schema.encodeResult(spec.result)
  // A result that does not fit its own schema is a bug in the handler: a defect, reported as 500. A command with a
  // fast encoder (the ones sent most) is encoded in one step fewer, and one whose handler encoded it is sent as is.
  const execute = (run: Effect.Effect<Reply<ResultOf<K>>, CommandFailure>): Effect.Effect<Executed, CommandFailure> =>
    fast !== undefined
      ? Effect.map(run, (reply): Executed => ({
        json: "encoded" in reply ? reply.encoded : JSON.stringify(fast(reply.data)),
        afterReply: reply.afterReply
      }))
      : Effect.flatMap(run, (reply) => {
        if ("encoded" in reply) return Effect.succeed<Executed>({ json: reply.encoded, afterReply: reply.afterReply })
        const encoded = encodeResult(reply.data)
        return Result.isSuccess(encoded)
          ? Effect.succeed<Executed>({ json: JSON.stringify(encoded.success), afterReply: reply.afterReply })
          : Effect.die(encoded.failure)
      })
  return {
    command,
    mutating: spec.mutating,
    target: spec.target,
    bind: (args) => {
      const decoded = args.length === 0 ? noArgs : decodeArgs(args)
      if (Result.isFailure(decoded)) return Result.fail(new InvalidArguments({ command, cause: decoded.failure }))
      const typed = decoded.success
      return Result.succeed({
        args: typed,
        run: (caller) => execute(handler(typed, caller))
      })
    }
  }
}

/** The route of each command the catalogue knows, over `handlers`: undefined for a name it does not know. */
export const makeRouter = (handlers: Handlers): (command: string) => Route | undefined => {
  const routes = new Map<string, Route>(commandNames.map((command) => [command, makeRoute(command, handlers[command])]))
  return (command) => routes.get(command)
}
