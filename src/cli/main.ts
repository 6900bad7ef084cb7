/**
 * The `orchestrate` command-line tool.
 */
import { NodeServices } from "@effect/platform-node"
import { Console, Effect, Layer, Logger } from "effect"
import { CliOutput, Command } from "effect/cli"
import packageJson from "../../package.json" with { type: "json" }
import { audit } from "./commands/audit.ts"
import { commands, dependencies, whoami } from "./commands/info.ts"
import { history } from "./commands/history.ts"
import { logs } from "./commands/logs.ts"
import { keygen } from "./commands/keygen.ts"
import { pause, restart, resume, shutdown, start, stop } from "./commands/control.ts"
import { ps } from "./commands/ps.ts"
import { reload } from "./commands/reload.ts"
import { stats } from "./commands/stats.ts"
import { status } from "./commands/status.ts"
import { systemdUnit } from "./commands/systemdUnit.ts"
import { token } from "./commands/token.ts"
import { up } from "./commands/up.ts"
import { context } from "./contexts/contextCommand.ts"
import { root } from "./root.ts"
import { runMain } from "./runMain.ts"
import { withEquivalents } from "./suggestions.ts"

/** A usage error is one line on stderr and a pointer to the help, not the whole help text. */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function*() {
        for (const error of event.errors) yield* Console.error(`error: ${withEquivalents(error).message}`)
        yield* Console.error(`Run '${event.commandPath.join(" ")} --help' for usage.`)
      })
      : CliOutput.defaultPresenter.present(event)
})

const cli = root.pipe(
  Command.withSubcommands([
    up, ps, status, stats, history, logs, dependencies, commands, whoami, start, stop, restart, pause, resume, reload, shutdown, keygen, token, audit,
    context, systemdUnit
  ]),
  Command.run({ version: packageJson.version })
)

cli.pipe(
  Effect.provide(Layer.mergeAll(NodeServices.layer, presenter, Layer.succeed(Logger.LogToStderr, true))),
  runMain
)
