/**
 * What the fast path asks and how it prints the answer, per read command: the request's args, the result's decoder
 * and the full CLI's own renderer. `status`, `history` and `logs` hold instants, so their plans (timedPlans.ts)
 * are loaded only when asked for: `ps` never loads effect.
 */
import type { Style } from "../style.ts"
import type { Invocation } from "./argv.ts"
import { type Decoder, FAIL } from "./decoders.ts"
import { plainPlan } from "./plainPlans.ts"

export interface Plan {
  readonly command: Invocation["command"]
  readonly args: ReadonlyArray<unknown>
  /** The answer's text (undefined: nothing to print), once its data decodes; FAIL when the data might not. */
  readonly read: (data: unknown) => ((style: Style) => string | undefined) | typeof FAIL
}

export const plan = <A>(
  command: Invocation["command"],
  args: ReadonlyArray<unknown>,
  decode: Decoder<A>,
  render: (data: A, style: Style) => string | undefined
): Plan => ({
  command,
  args,
  read: (data) => {
    const decoded = decode(data)
    return decoded === FAIL ? FAIL : (style) => render(decoded, style)
  }
})

/** The plan for an invocation; undefined when one of its values is left to the full CLI (a `--since` it refuses). */
export const planOf = async (invocation: Invocation): Promise<Plan | undefined> => {
  switch (invocation.command) {
    case "ps":
    case "stats":
    case "commands":
    case "whoami":
      return plainPlan(invocation.command)
    case "status": {
      const { statusPlan } = await import("./timedPlans.ts")
      return statusPlan(invocation.agent, Date.now())
    }
    case "history": {
      const { historyPlan } = await import("./timedPlans.ts")
      return historyPlan(invocation.filters)
    }
    case "logs": {
      const { logsPlan } = await import("./timedPlans.ts")
      return logsPlan(invocation.logs, Date.now())
    }
  }
}
