/**
 * What `orchestrate systemd-unit` prints: a unit file that runs `up` in the foreground under systemd, with its stop
 * timeout derived from the config and `systemctl reload` running `orchestrate reload`. Loaded only when the
 * command runs, as `up`'s code is, since it reads a whole config file.
 *
 * Why the unit stops cleanly and leaves no agent behind: with `KillMode=mixed`, `systemctl stop` sends SIGTERM to
 * `up` alone, which stops the agents itself, dependents first, each within its grace period; a SIGTERM to every
 * process at once (the default `control-group`) would stop them in no order. Once `up` has exited, systemd sends
 * SIGKILL to whatever is left in the unit's cgroup, and the guardian, though in a session of its own, is in that
 * cgroup as everything an agent started is: whatever neither `up` nor the guardian stopped is killed then. If
 * `TimeoutStopSec` runs out first, the whole cgroup gets SIGKILL at once.
 */
import { Config, Console, Effect, FileSystem, Option, Path } from "effect"
import * as Os from "node:os"
import { readConfigFile, resolveConfigPaths, type OrchestratorSettings } from "../../app/ConfigFile.ts"
import { dependencyName } from "../../orchestrator/dependencies.ts"
import { dependentsOf, startOrder } from "../../orchestrator/graph.ts"
import { millis } from "../../orchestrator/OrchestratorConfig.ts"
import { packageRoot } from "../../packageRoot.ts"
import { parseAddress } from "../../protocol/Address.ts"
import { readKeyPair } from "../../security/keys.ts"
import { describeAllowed, resolveAllowed } from "../../server/Whitelist.ts"
import { RELOAD_TIMEOUT_SECONDS } from "../defaults.ts"
import { ConflictingFlags, NotInAUnitFile, UnreadableConfig, UsageError } from "../errors.ts"

/** Per agent stopped: a second beyond its grace period, for a SIGKILL to take effect and its output to drain. */
const KILL_ALLOWANCE_MILLIS = 1000
/** For what a stop does besides stopping agents (flushing logs and the audit file, the guardian's exit), and load. */
const STOP_MARGIN_SECONDS = 5

/** The longest a graceful stop can take, and the chain of agents that makes it so, in the order they stop. */
interface StopBudget {
  readonly seconds: number
  readonly chain: ReadonlyArray<{ readonly name: string; readonly graceMillis: number }>
  readonly interfaceMillis: number
}

/**
 * `up` stops an agent once every agent that depends on it has stopped, and agents with nothing between them at
 * the same time: the longest stop is the chain of dependents whose grace periods (plus the kill allowance) add up
 * to the most. The command interface closes after the last agent, giving requests in flight `shutdownTimeout`.
 */
const stopBudget = (settings: OrchestratorSettings): StopBudget => {
  const nodes = settings.agents.map((agent) => ({ name: agent.name, dependencies: agent.dependsOn.map(dependencyName) }))
  const grace = new Map(settings.agents.map((agent) => [agent.name, millis(agent.stopTimeout ?? settings.agentStopTimeout)]))
  const dependents = dependentsOf(nodes)
  const order = startOrder(nodes)
  // Dependents first: each agent's stop ends after the latest of its dependents', plus its own.
  const stopOrder = [...(order._tag === "Success" ? order.success : nodes.map((node) => node.name))].reverse()
  const ends = new Map<string, number>()
  const after = new Map<string, string>()
  for (const name of stopOrder) {
    let start = 0
    for (const dependent of dependents.get(name) ?? []) {
      const end = ends.get(dependent) ?? 0
      if (end > start) {
        start = end
        after.set(name, dependent)
      }
    }
    ends.set(name, start + (grace.get(name) ?? 0) + KILL_ALLOWANCE_MILLIS)
  }
  let last: string | undefined
  for (const [name, end] of ends) if (last === undefined || end > (ends.get(last) ?? 0)) last = name
  const chain: Array<{ name: string; graceMillis: number }> = []
  for (let name = last; name !== undefined; name = after.get(name)) chain.unshift({ name, graceMillis: grace.get(name) ?? 0 })
  const interfaceMillis = settings.commandInterface.enableCommandInterface ? millis(settings.commandInterface.shutdownTimeout) : 0
  const agentsMillis = last === undefined ? 0 : ends.get(last) ?? 0
  return { seconds: Math.ceil((agentsMillis + interfaceMillis) / 1000) + STOP_MARGIN_SECONDS, chain, interfaceMillis }
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`

/** `text` as comment lines of at most 120 characters. */
const comment = (text: string): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = "#"
  for (const word of text.split(" ")) {
    if (line.length + 1 + word.length > 120) {
      lines.push(line)
      line = "#"
    }
    line += ` ${word}`
  }
  return [...lines, line]
}

/** The derivation of `TimeoutStopSec`, for the unit to say. */
const explainBudget = (budget: StopBudget): ReadonlyArray<string> => {
  const chainMillis = budget.chain.reduce((sum, { graceMillis }) => sum + graceMillis + KILL_ALLOWANCE_MILLIS, 0)
  const chain = budget.chain.length === 0
    ? "There are no agents."
    : `The longest chain of agents stopped one after the other (an agent stops once its dependents have) is ` +
      `${budget.chain.map(({ name, graceMillis }) => `${name} (${seconds(graceMillis)})`).join(", ")}: their grace ` +
      `periods plus ${seconds(KILL_ALLOWANCE_MILLIS)} each for a SIGKILL, ${seconds(chainMillis)}.`
  return comment(
    `TimeoutStopSec is the longest graceful stop. ${chain} Then ${seconds(budget.interfaceMillis)} for the command ` +
      `interface's requests in flight (commandInterface.shutdownTimeout), and ${STOP_MARGIN_SECONDS} s of margin.`
  )
}

/** Where `orchestrate reload` can reach the interface `up` binds, or why it cannot. */
const reloadAddress = (settings: OrchestratorSettings): { readonly address: string } | { readonly why: string } => {
  const commandInterface = settings.commandInterface
  if (!commandInterface.enableCommandInterface) {
    return { why: "the config does not enable the command interface (commandInterface.enabled)" }
  }
  const allowed: ReadonlyArray<string> = resolveAllowed(commandInterface.allowedCommands)
  if (!allowed.includes("reload")) {
    return { why: `the command interface does not allow 'reload' (allowedCommands: ${describeAllowed(commandInterface.allowedCommands)})` }
  }
  const endpoint = parseAddress(commandInterface.commandAddress)
  if (endpoint === undefined || endpoint.transport !== "tcp") {
    return endpoint?.transport === "ipc"
      ? { address: commandInterface.commandAddress }
      : { why: `${commandInterface.commandAddress} can be reached only from inside the orchestrator's process` }
  }
  if (endpoint.port === "*") return { why: `${commandInterface.commandAddress} has its port picked anew at every start` }
  // Bound on every interface: reached on loopback.
  const host = endpoint.host === "*" || endpoint.host === "0.0.0.0" ? "127.0.0.1" : endpoint.host === "::" ? "::1" : endpoint.host
  return { address: `tcp://${host.includes(":") ? `[${host}]` : host}:${endpoint.port}` }
}

// Every control character, a line break among them, would end or break a unit file line.
const CONTROL = /[\u0000-\u001f\u007f]/

const checked = (what: string, value: string): Effect.Effect<string, UsageError> =>
  CONTROL.test(value) ? Effect.fail(new UsageError({ reason: new NotInAUnitFile({ what, value }) })) : Effect.succeed(value)

/** `%` starts a specifier in every value systemd reads. */
const specifiersEscaped = (text: string): string => text.replaceAll("%", "%%")

/** One word of an `Exec*=` line: quoted if need be, `$` doubled as it would start a variable. */
const word = (text: string): string => {
  const bare = /^[A-Za-z0-9_@+=:,./-]+$/.test(text)
  const quoted = bare ? text : `"${text.replaceAll("\\", "\\\\").replaceAll("\"", "\\\"")}"`
  return specifiersEscaped(quoted).replaceAll("$", "$$$$")
}

const commandLine = (words: ReadonlyArray<string>): string => words.map(word).join(" ")

/** A quoted `Environment=` assignment. */
const assignment = (name: string, value: string): string =>
  `"${specifiersEscaped(`${name}=${value}`).replaceAll("\\", "\\\\").replaceAll("\"", "\\\"")}"`

export interface UnitRequest {
  readonly config: Option.Option<string>
  readonly user: boolean
  readonly runAs: Option.Option<string>
  /** `--server-key`, `--client-key`: what `systemctl reload` authenticates with at a CURVE interface. */
  readonly serverKey: Option.Option<string>
  readonly clientKey: Option.Option<string>
}

/** The user a system unit runs as: the one asked for, the one who ran sudo, or the one running this. */
const unitUser = (runAs: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isSome(runAs)) return runAs.value
    const sudoUser = yield* Config.option(Config.String("SUDO_USER")).pipe(Effect.orDie)
    return process.getuid?.() === 0 && Option.isSome(sudoUser) && sudoUser.value !== "" ? sudoUser.value : Os.userInfo().username
  })

/** `PATH` as this shell has it, absolute entries only, the running Node's directory first: what agents' commands need. */
const searchPath = (nodeDirectory: string) =>
  Effect.gen(function*() {
    const path = yield* Config.String("PATH").pipe(Config.withDefault("/usr/local/bin:/usr/bin:/bin"), Effect.orDie)
    return [...new Set([nodeDirectory, ...path.split(":").filter((entry) => entry.startsWith("/"))])].join(":")
  })

const exists = (path: string) => FileSystem.FileSystem.use((fs) => fs.exists(path).pipe(Effect.orElseSucceed(() => false)))

type CurveSettings = NonNullable<OrchestratorSettings["commandInterface"]["curve"]>

/**
 * Why the principal whose key pair `clientKey` holds may not reload, if it may not: so that no unit gets an
 * `ExecReload` bound to fail. A file this user cannot read may be the unit's user's: nothing is said then.
 */
const principalRefusal = Effect.fnUntraced(function*(curve: CurveSettings, clientKey: string) {
  const pair = yield* Effect.option(readKeyPair(clientKey))
  if (Option.isNone(pair)) return undefined
  const principal = curve.principals.find((candidate) => candidate.publicKey === pair.value.publicKey)
  if (principal === undefined) return `--client-key ${clientKey} is the key pair of none of the config's principals`
  if (!resolveAllowed(principal.role).includes("reload")) {
    return `principal '${principal.name}' (--client-key) may not reload (its role: ${describeAllowed(principal.role)})`
  }
  // A reload acts on every agent, which a principal limited to some may not.
  return principal.agents === undefined ? undefined : `principal '${principal.name}' (--client-key) may act only on some agents, and a reload acts on every one`
})

/**
 * The `ExecReload=` line (and the start timeout that bounds it), or why the unit can have none. At a CURVE
 * interface, reload authenticates with `--client-key` and the server's public key: `--server-key`, else the
 * `.pub` beside the config's key file, else the key file itself (only its public half is read).
 */
const reloadLines = Effect.fnUntraced(function*(
  settings: OrchestratorSettings,
  request: UnitRequest,
  command: ReadonlyArray<string>,
  budget: StopBudget
) {
  const path = yield* Path.Path
  const target = reloadAddress(settings)
  if ("why" in target) return target
  const curve = settings.commandInterface.curve
  const keys: Array<string> = []
  if (curve !== undefined) {
    if (Option.isNone(request.clientKey)) {
      return { why: "the command interface uses CURVE: give --client-key, the key pair file of a principal allowed to reload" }
    }
    const refused = yield* principalRefusal(curve, path.resolve(request.clientKey.value))
    if (refused !== undefined) return { why: refused }
    const publicKeyFile = `${curve.keyFile}.pub`
    const serverKey = Option.isSome(request.serverKey)
      ? (yield* exists(request.serverKey.value)) ? path.resolve(request.serverKey.value) : request.serverKey.value
      : (yield* exists(publicKeyFile)) ? publicKeyFile : curve.keyFile
    keys.push(
      "--server-key",
      yield* checked("--server-key", serverKey),
      "--client-key",
      yield* checked("--client-key", path.resolve(request.clientKey.value))
    )
  }
  // A reload stops and starts the agents that changed: give it as long as a stop may take, and at least reload's
  // own default.
  const reloadSeconds = Math.max(RELOAD_TIMEOUT_SECONDS, budget.seconds)
  const address = yield* checked("the address", target.address)
  return {
    lines: [
      `ExecReload=${commandLine([...command, "reload", "--address", address, ...keys, "--timeout", String(reloadSeconds), "--reason", "systemctl reload"])}`,
      "# systemd bounds ExecReload by TimeoutStartSec: longer than reload's own --timeout, so that reload reports first.",
      `TimeoutStartSec=${reloadSeconds + 10}`
    ]
  }
})

export const printUnit = Effect.fnUntraced(function*(request: UnitRequest) {
  if (request.user && Option.isSome(request.runAs)) {
    return yield* new UsageError({
      reason: new ConflictingFlags({ first: "--user", second: "--run-as", why: "a user unit runs as the user whose service manager runs it" })
    })
  }
  const path = yield* Path.Path
  const root = packageRoot()
  const config = yield* checked("the config file", path.resolve(Option.getOrElse(request.config, () => path.join(root, "examples", "demo.json"))))
  const directory = path.dirname(config)
  const settings = resolveConfigPaths(
    yield* readConfigFile(config).pipe(
      Effect.catchTag("PlatformError", (cause) => Effect.fail(new UsageError({ reason: new UnreadableConfig({ path: config, cause }) })))
    ),
    directory
  )
  // The Node running this and the CLI's own script, by absolute path: what `npx orchestrate` or a linked
  // `orchestrate` resolve to now, and what systemd can start without a PATH search.
  const command = [yield* checked("the node binary", process.execPath), yield* checked("the CLI", path.join(root, "bin", "orchestrate.js"))]
  const searchPathValue = yield* checked("PATH", yield* searchPath(path.dirname(process.execPath)))
  const user = request.user ? undefined : yield* checked("--run-as", yield* unitUser(request.runAs))
  const budget = stopBudget(settings)
  const reload = yield* reloadLines(settings, request, command, budget)

  const lines = [
    `# Written by 'orchestrate systemd-unit' for ${specifiersEscaped(config)}; write it again when its stop timeouts change.`,
    "[Unit]",
    `Description=${specifiersEscaped(`orchestrate up ${config}`)}`,
    ...(request.user ? [] : ["After=network-online.target", "Wants=network-online.target"]),
    "",
    "[Service]",
    "Type=exec",
    ...(user === undefined ? [] : [`User=${specifiersEscaped(user)}`]),
    `WorkingDirectory=${specifiersEscaped(directory)}`,
    "# What agents' commands are looked up in: this shell's PATH, the running Node's directory first.",
    `Environment=${assignment("PATH", searchPathValue)}`,
    "# up binds where the config says and reload goes where this unit says, whatever the service manager's environment holds.",
    "UnsetEnvironment=ORCHESTRATE_ADDRESS ORCHESTRATE_CONTEXT ORCHESTRATE_SERVER_KEY ORCHESTRATE_CLIENT_KEY",
    `ExecStart=${commandLine([...command, "up", config])}`,
    ...("why" in reload ? [`# No ExecReload: ${reload.why}.`] : reload.lines),
    "# SIGTERM to up alone, which stops the agents in dependency order; then SIGKILL to whatever is left in the",
    "# unit's cgroup: the guardian (in a session of its own, but in this cgroup) and anything an agent left behind.",
    "KillMode=mixed",
    ...explainBudget(budget),
    `TimeoutStopSec=${budget.seconds}`,
    "Restart=on-failure",
    "RestartSec=5",
    "# Exit code 2 is a config, key file or address up cannot use: restarting would fail the same way.",
    "RestartPreventExitStatus=2",
    "SyslogIdentifier=orchestrate",
    "",
    "[Install]",
    `WantedBy=${request.user ? "default.target" : "multi-user.target"}`
  ]
  yield* Console.log(lines.join("\n"))
  if ("why" in reload) yield* Console.error(`note: no ExecReload in this unit: ${reload.why}`)
})
