/**
 * The logging of the fiber that builds a service, for the work the service does later on behalf of its callers:
 * a command's request sets its interface's log level and `component` for its own logs, and neither must carry over
 * to what the request causes (an agent's run, the events it records).
 */
import { Context, Effect, References } from "effect"

export const currentLogging = Effect.gen(function*() {
  return Context.make(References.CurrentLogAnnotations, yield* References.CurrentLogAnnotations).pipe(
    Context.add(References.CurrentLogSpans, yield* References.CurrentLogSpans),
    Context.add(References.MinimumLogLevel, yield* References.MinimumLogLevel)
  )
})
