/**
 * `orchestrate reload [config] [--dry-run]`: the orchestrator re-reads its config file (or the one given) and
 * applies what changed, without a restart.
 */
import { Effect, Option, Path } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { ReloadPlan } from "../../protocol/Commands.ts"
import { RELOAD_TIMEOUT_SECONDS } from "../defaults.ts"
import { formatList } from "../format.ts"
import type { Style } from "../output.ts"
import { reason } from "./control.ts"
import { respond } from "../root.ts"

const renderPlan = (plan: ReloadPlan, style: Style): string => {
  const lines = [
    plan.dryRun ? `plan for ${plan.config} (dry run: nothing was changed)` : `reloaded ${plan.config}`,
    `  added      ${formatList(plan.agents.added)}`,
    `  removed    ${formatList(plan.agents.removed)}`,
    `  changed    ${formatList(plan.agents.changed)}${plan.dryRun && plan.agents.changed.length > 0 ? " (would be restarted)" : ""}`,
    `  unchanged  ${formatList(plan.agents.unchanged)}`,
    ...plan.settings.map((change) => `  setting    ${change.key}: ${change.from} -> ${change.to}`),
    ...plan.needsRestart.map((change) =>
      style.yellow(`  not applied (needs a restart of 'up'): ${change.key}: ${change.from} -> ${change.to}`)
    ),
    ...plan.results.map((result) => result.outcome === "failed" ? `${result.agent}: failed: ${result.message}` : result.message)
  ]
  return lines.join("\n")
}

export const reload = Command.make("reload", {
  config: Argument.String("config").pipe(
    Argument.withDescription(
      "The config file to read instead of the one the orchestrator runs (the file 'up' was started with, or the " +
        "last reload's); a path on the orchestrator's machine, a relative one taken from this directory"
    ),
    Argument.optional
  ),
  dryRun: Flag.Boolean("dry-run").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Print the plan and change nothing")
  ),
  reason
}, ({ config, dryRun, reason }) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const file = Option.map(config, (file) => path.resolve(file))
    return yield* respond(
      "reload",
      [{ ...(Option.isSome(file) ? { config: file.value } : {}), ...(dryRun ? { dryRun } : {}) }],
      renderPlan,
      { reason, defaultTimeout: RELOAD_TIMEOUT_SECONDS }
    )
  })).pipe(
    Command.withDescription(
      "Re-read the config file and apply what changed: new agents are started, removed ones stopped, changed ones " +
        "restarted (dependents first, then in dependency order); maxWorkers, agentStopTimeout and heartbeatInterval " +
        "apply at once, and other changed settings (the command interface, history, logs, runMode) are reported " +
        "as needing a restart of 'up'. An invalid config changes nothing and is answered with every problem. " +
        `Waits up to ${RELOAD_TIMEOUT_SECONDS} s for the answer unless --timeout says otherwise.`
    ),
    Command.withExamples([
      { command: "orchestrate reload --dry-run", description: "What a reload of the config file would do" },
      { command: "orchestrate reload", description: "Apply the config file as it is now" },
      { command: "orchestrate reload next.json --reason 'add worker-3'", description: "Apply another file, saying why in the audit trail" }
    ])
  )
