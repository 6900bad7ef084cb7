/**
 * `orchestrate token create NAME`: a new bearer token for the HTTP interface, and the `http.tokens` entry that
 * holds its hash. The token is printed once and kept nowhere; the config only ever holds its SHA-256.
 */
import { Console, Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { commandNames, isCommandName } from "../../protocol/Commands.ts"
import { generateToken, tokenSha256 } from "../../security/tokens.ts"
import { AgentPattern, PrincipalSettings } from "../../server/Principals.ts"
import { type AllowedCommands, PresetName } from "../../server/Whitelist.ts"
import { currentStyle, details } from "../output.ts"
import { root } from "../root.ts"

const isPreset = Schema.is(PresetName)
const isAgentPattern = Schema.is(AgentPattern)

const listOf = (text: string): ReadonlyArray<string> => text.split(",").map((item) => item.trim()).filter((item) => item !== "")

const roleOf = (text: string): AllowedCommands => isPreset(text) ? text : listOf(text).filter(isCommandName)

/** A preset, or commands separated by commas, as `role` takes them (and `up --allow`). */
const Role = Schema.String.check(Schema.makeFilter((text: string) => {
  if (isPreset(text)) return true
  const names = listOf(text)
  const unknown = names.filter((name) => !isCommandName(name))
  return (names.length > 0 && unknown.length === 0) ||
    `expected basic, monitoring, all or commands separated by commas (${commandNames.join(", ")})` +
      (unknown.length === 0 ? "" : `; unknown: ${unknown.join(", ")}`)
}))

/** Agent name patterns separated by commas, each as a principal's `agents` takes them. */
const Agents = Schema.String.check(Schema.makeFilter((text: string) => {
  const patterns = listOf(text)
  const bad = patterns.find((pattern) => !isAgentPattern(pattern))
  return patterns.length === 0 ? "expected one or more patterns separated by commas, such as web-*,api"
    : bad === undefined || `expected patterns of 1 to 128 characters with at most 3 '*', got ${JSON.stringify(bad)}`
}))

const create = Command.make("create", {
  name: Argument.String("name").pipe(
    Argument.withSchema(PrincipalSettings.fields.name),
    Argument.withDescription("Who the token is for, as the audit trail and whoami will name it (letters, digits, . _ @ -)")
  ),
  role: Flag.String("role").pipe(
    Flag.withSchema(Role),
    Flag.withDefault("monitoring"),
    Flag.withDescription("What it may run, within commandInterface.allowedCommands: basic, monitoring (the default), all, or commands separated by commas")
  ),
  agents: Flag.String("agents").pipe(
    Flag.withSchema(Agents),
    Flag.optional,
    Flag.withDescription("Only act on agents matching these patterns, separated by commas (web-*,api); shutdown and reload are then refused")
  )
}, ({ name, role, agents }) =>
  Effect.gen(function*() {
    const flags = yield* root
    const token = generateToken()
    const entry = {
      name,
      tokenSha256: tokenSha256(token),
      role: roleOf(role),
      ...(Option.isSome(agents) ? { agents: listOf(agents.value) } : {})
    }
    yield* Console.log(
      flags.json
        ? JSON.stringify({ token, entry })
        : details([
          ["token", `${token}  (shown this once: give it to the client, which sends it as 'Authorization: Bearer <token>')`],
          ["http.tokens entry", JSON.stringify(entry)]
        ], yield* currentStyle)
    )
  })).pipe(
    Command.withDescription(
      "Make a bearer token for the HTTP interface: prints the token (once; it is kept nowhere) and the entry to add to " +
        "the config's http.tokens, which holds only its SHA-256. No orchestrator is needed."
    ),
    Command.withExamples([
      { command: "orchestrate token create grafana", description: "A token for read commands (the monitoring role)" },
      { command: "orchestrate token create deployer --role restart,status --agents 'web-*'", description: "May restart web-* agents only" },
      { command: "orchestrate token create ci --role all --json | jq -r .token", description: "For a script: the token alone" }
    ])
  )

export const token = Command.make("token").pipe(
  Command.withSubcommands([create]),
  Command.withDescription("Bearer tokens for the HTTP interface (http.tokens)")
)
