/**
 * The plans of `ps`, `stats`, `commands` and `whoami`: no args, and the renderers of the full CLI's commands.
 */
import { renderCommands, renderWhoami } from "../commands/infoRender.ts"
import { render as renderPs } from "../commands/psRender.ts"
import { render as renderStats } from "../commands/statsRender.ts"
import { type Plan, plan } from "./plan.ts"
import { commandsResult, psResult, statsResult, whoamiResult } from "./results.ts"

export const plainPlan = (command: "ps" | "stats" | "commands" | "whoami"): Plan => {
  switch (command) {
    case "ps":
      return plan(command, [], psResult, renderPs)
    case "stats":
      return plan(command, [], statsResult, renderStats)
    case "commands":
      return plan(command, [], commandsResult, renderCommands)
    case "whoami":
      return plan(command, [], whoamiResult, renderWhoami)
  }
}
