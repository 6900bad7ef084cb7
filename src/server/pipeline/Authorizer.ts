/**
 * Authorizing: whether the caller may run a command on the agents its arguments name, decided in one place. In
 * this order, so that a refused command never has its arguments inspected, and a name too long to match patterns
 * against cheaply is refused by the schema before any pattern sees it: the command within the caller's role (the
 * whitelist, narrowed to its principal's role), then its arguments decoded (by the route), then the principal's
 * agent patterns against the agent those arguments name.
 */
import { Result } from "effect"
import { isTargetPattern } from "../../protocol/Commands.ts"
import type { Caller } from "../Principals.ts"
import type { Bound, Route } from "./CommandRouter.ts"
import { ActsOnEveryAgent, type InvalidArguments, NotAllowed, OutsideAgentPatterns, OutsideRole } from "./RequestError.ts"

/** Why `caller` may not act on what the decoded `args` name, if it may not. */
const targetRefusal = (caller: Caller, route: Route, args: ReadonlyArray<unknown>): NotAllowed | undefined => {
  const patterns = caller.agents
  if (patterns === null || route.target === "none") return undefined
  const refuse = (reason: OutsideAgentPatterns | ActsOnEveryAgent) =>
    new NotAllowed({ command: route.command, principal: caller.principal, reason })
  if (route.target === "every-agent") return refuse(new ActsOnEveryAgent({ patterns }))
  // Every target the arguments name literally; patterns and `all` are checked by the handler once expanded, against
  // every agent they match (see `CommandHandlers.ts`).
  const agent = args.find((target): target is string =>
    typeof target === "string" && !isTargetPattern(target) && !caller.mayTarget(target)
  )
  return agent === undefined ? undefined : refuse(new OutsideAgentPatterns({ agent, patterns }))
}

/** The arguments bound to the command, if `caller` may run it on them. */
export const authorize = (
  caller: Caller,
  route: Route,
  args: ReadonlyArray<unknown>
): Result.Result<Bound, NotAllowed | InvalidArguments> => {
  if (!caller.mayRun(route.command)) {
    const listedBy = caller.mayRun("whoami") ? "whoami" : caller.mayRun("commands") ? "commands" : null
    return Result.fail(new NotAllowed({ command: route.command, principal: caller.principal, reason: new OutsideRole({ listedBy }) }))
  }
  const bound = route.bind(args)
  if (Result.isFailure(bound)) return bound
  const refusal = targetRefusal(caller, route, bound.success.args)
  return refusal === undefined ? bound : Result.fail(refusal)
}
