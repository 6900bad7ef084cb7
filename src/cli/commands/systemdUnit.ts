/**
 * `orchestrate systemd-unit [config] [--user]`: prints a systemd unit that runs `up` for a config file, for the
 * system's own service manager to start at boot, stop, restart on failure and reload (systemdUnitFile.ts).
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { root } from "../root.ts"

export const systemdUnit = Command.make("systemd-unit", {
  config: Argument.String("config").pipe(
    Argument.withDescription("The config file 'up' is to run (default: the demo, examples/demo.json); read to check it"),
    Argument.optional
  ),
  user: Flag.Boolean("user").pipe(
    Flag.withDefault(false),
    Flag.withDescription("A user unit (WantedBy=default.target, for systemctl --user) instead of a system one")
  ),
  runAs: Flag.String("run-as").pipe(
    Flag.optional,
    Flag.withDescription("For a system unit: the user up runs as (User=; default: you, or under sudo $SUDO_USER)")
  )
}, ({ config, user, runAs }) =>
  Effect.gen(function*() {
    const flags = yield* root
    const { printUnit } = yield* Effect.promise(() => import("./systemdUnitFile.ts"))
    return yield* printUnit({ config, user, runAs, serverKey: flags.serverKey, clientKey: flags.clientKey })
  })).pipe(
  Command.withDescription(
    "Print a systemd unit that runs 'up' for a config file in the foreground: KillMode=mixed (SIGTERM to up, which " +
      "stops the agents in order; SIGKILL to whatever is left), TimeoutStopSec from the config's stop timeouts, " +
      "ExecReload running 'orchestrate reload' at the config's command interface (with CURVE, give --client-key), " +
      "Restart=on-failure, the config's directory as the working directory and this shell's PATH. A config that " +
      "cannot be read or is invalid exits 2."
  ),
  Command.withExamples([
    {
      command: "orchestrate systemd-unit /etc/orchestrate/services.json --run-as svc | sudo tee /etc/systemd/system/orchestrate.service",
      description: "A system unit; then: sudo systemctl daemon-reload && sudo systemctl enable --now orchestrate"
    },
    {
      command: "orchestrate systemd-unit services.json --user > ~/.config/systemd/user/orchestrate.service",
      description: "A user unit; then: systemctl --user daemon-reload && systemctl --user enable --now orchestrate"
    },
    {
      command: "orchestrate systemd-unit services.json --client-key ~/.config/orchestrate/ops.key",
      description: "For a CURVE interface: the key systemctl reload authenticates with"
    }
  ])
)
