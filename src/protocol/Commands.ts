/**
 * The command catalogue: every command the interface knows, with the schema of its arguments (the request's
 * `args` array) and of its result (the response's `data`). The server decodes arguments and encodes results with
 * these; the client and CLI build requests and read results with the same ones.
 */
import { Schema } from "effect"
import {
  AgentState,
  AgentStatus,
  AgentSummary,
  CpuPercent,
  DependencyCondition,
  HistoryEvent,
  OrchestratorStatus,
  stateCountFields
} from "./Model.ts"

export interface CommandSpec<
  Name extends string,
  Args extends Schema.Codec<unknown, ReadonlyArray<unknown>>,
  Result extends Schema.Codec<unknown, unknown>
> {
  readonly name: Name
  /** How the command is called, as `commands` and `--help` show it. */
  readonly usage: string
  readonly summary: string
  /** Whether it changes anything; a client never resends a mutating request without its request id. */
  readonly mutating: boolean
  /** The server stops serving once it has answered: a client sends it once, as a resend would find it stopping. */
  readonly final?: true
  /**
   * What it changes, for callers limited to some agents: `agent`, the agent its first argument names;
   * `every-agent`, all of them at once; `none`, nothing (it only reads, and reading is not limited by agent).
   */
  readonly target: "none" | "agent" | "every-agent"
  readonly args: Args
  readonly result: Result
}

const spec = <
  const Name extends string,
  Args extends Schema.Codec<unknown, ReadonlyArray<unknown>>,
  Result extends Schema.Codec<unknown, unknown>
>(command: CommandSpec<Name, Args, Result>): CommandSpec<Name, Args, Result> => command

const NoArgs = Schema.Tuple([])
/**
 * Bounded because a principal's agent patterns are matched against it before the agent is looked up: a
 * 60,000-character name against `web-*-*x` held the server for 3.3 s.
 */
const AgentName = Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(128))
/** Most targets one control command names: each is matched against every agent. */
export const MAX_TARGETS = 256
/**
 * A control command's targets: one or more agent names, glob patterns (`*` any run of characters, `?` any one) or
 * `all`. `[agent]` alone is the single-target form, answered with `AgentActionResult` as it always was.
 */
const AgentTargets = Schema.TupleWithRest(Schema.Tuple([AgentName]), [AgentName]).check(Schema.isMaxLength(MAX_TARGETS))

export { HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX, LOGS_LIMIT_DEFAULT, LOGS_LIMIT_MAX } from "./pageLimits.ts"

export const HistoryQuery = Schema.Struct({
  limit: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  category: Schema.optionalKey(Schema.String),
  /** Events of any of these categories. */
  categories: Schema.optionalKey(Schema.Array(Schema.String)),
  agent: Schema.optionalKey(Schema.String),
  event: Schema.optionalKey(Schema.String),
  afterSeq: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
}).pipe(Schema.encodeKeys({ afterSeq: "after_seq" }))
export type HistoryQuery = typeof HistoryQuery.Type

/**
 * A page of history, oldest first. Without `after_seq` it holds the newest matching events; with it, the oldest
 * ones after that seq, so a follower can page forward without gaps. `has_more` says whether more events matched
 * than the page holds; `last_seq` is the newest seq in the store (a follower may resume after it when
 * `has_more` is false), `first_seq` the oldest one still retained.
 */
export const HistoryPage = Schema.Struct({
  events: Schema.Array(HistoryEvent),
  count: Schema.Int,
  limit: Schema.Int,
  hasMore: Schema.Boolean,
  capacity: Schema.Int,
  firstSeq: Schema.NullOr(Schema.Int),
  lastSeq: Schema.NullOr(Schema.Int)
}).pipe(Schema.encodeKeys({ hasMore: "has_more", firstSeq: "first_seq", lastSeq: "last_seq" }))
export type HistoryPage = typeof HistoryPage.Type

export const LogStreamName = Schema.Literals(["stdout", "stderr", "orchestrator"])

export const LogsQuery = Schema.Struct({
  /** The agents whose lines to read; every agent's when absent. */
  agents: Schema.optionalKey(Schema.Array(AgentName)),
  limit: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /** Only lines written at or after this instant. */
  since: Schema.optionalKey(Schema.DateTimeUtcFromString),
  afterSeq: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  stream: Schema.optionalKey(Schema.Literals(["stdout", "stderr"]))
}).pipe(Schema.encodeKeys({ afterSeq: "after_seq" }))
export type LogsQuery = typeof LogsQuery.Type

export const LogLineRecord = Schema.Struct({
  seq: Schema.Int,
  agent: Schema.String,
  stream: LogStreamName,
  timestamp: Schema.DateTimeUtcFromString,
  line: Schema.String
})
export type LogLineRecord = typeof LogLineRecord.Type

/**
 * A page of agents' lines, oldest first, with the paging rules of `history`: without `after_seq` the newest
 * matching lines; with it, the oldest after that seq. When `has_more` is false, a follower resumes after `last_seq`,
 * the newest seq of any line, so it never sees a line twice, across agent restarts too. Each agent keeps only its
 * last lines: with `after_seq`, `dropped` names the agents that lost matching lines after it (up to where the page
 * ends) before they could be read, so that a follower that fell behind can say so; it is empty otherwise.
 */
export const LogsPage = Schema.Struct({
  lines: Schema.Array(LogLineRecord),
  hasMore: Schema.Boolean,
  lastSeq: Schema.Int,
  dropped: Schema.Array(Schema.String)
}).pipe(Schema.encodeKeys({ hasMore: "has_more", lastSeq: "last_seq" }))
export type LogsPage = typeof LogsPage.Type

export const Stats = Schema.Struct({
  totalAgents: Schema.Int,
  ...stateCountFields,
  /** Agents whose probes say they are unhealthy (any probe past its failure threshold). */
  unhealthy: Schema.Int,
  restarts: Schema.Int,
  maxWorkers: Schema.Int,
  uptimeSeconds: Schema.Finite,
  eventsRecorded: Schema.Int,
  eventsRetained: Schema.Int,
  eventsCapacity: Schema.Int,
  /** Sums over the agents that have the figure (process agents with processes); null when none has. */
  cpuPercent: Schema.NullOr(CpuPercent),
  memoryBytes: Schema.NullOr(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  cpuSeconds: Schema.NullOr(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)))
}).pipe(Schema.encodeKeys({
  totalAgents: "total_agents",
  maxWorkers: "max_workers",
  uptimeSeconds: "uptime_seconds",
  eventsRecorded: "events_recorded",
  eventsRetained: "events_retained",
  eventsCapacity: "events_capacity",
  cpuPercent: "cpu_percent",
  memoryBytes: "memory_bytes",
  cpuSeconds: "cpu_seconds"
}))
export type Stats = typeof Stats.Type

export const DependencyNode = Schema.Struct({
  name: Schema.String,
  state: AgentState,
  dependencies: Schema.Array(Schema.String),
  dependents: Schema.Array(Schema.String),
  /**
   * Each dependency's edge, in `dependencies` order: the condition it must meet before this agent starts, and
   * whether its restarts restart this agent. Absent where the orchestrator does not know them.
   */
  edges: Schema.optionalKey(Schema.Array(Schema.Struct({
    agent: Schema.String,
    condition: DependencyCondition,
    restart: Schema.Boolean
  })))
})
export type DependencyNode = typeof DependencyNode.Type

/** The dependency graph, and the order in which agents start (every agent after its dependencies). */
export const DependencyGraph = Schema.Struct({
  agents: Schema.Array(DependencyNode),
  startOrder: Schema.Array(Schema.String)
}).pipe(Schema.encodeKeys({ startOrder: "start_order" }))
export type DependencyGraph = typeof DependencyGraph.Type

export const CommandInfo = Schema.Struct({
  name: Schema.String,
  usage: Schema.String,
  summary: Schema.String,
  mutating: Schema.Boolean,
  allowed: Schema.Boolean
})
export const CommandList = Schema.Struct({
  allowed: Schema.Array(Schema.String),
  known: Schema.Array(CommandInfo)
})
export type CommandList = typeof CommandList.Type

/** Who the caller is to the server, and what it may do there. */
export const Identity = Schema.Struct({
  /** The principal's name; null when the server does not authenticate callers (CURVE off). */
  principal: Schema.NullOr(Schema.String),
  keyFingerprint: Schema.NullOr(Schema.String),
  allowed: Schema.Array(Schema.String),
  /** The agent name patterns it may act on; null for any agent. */
  agents: Schema.NullOr(Schema.Array(Schema.String))
}).pipe(Schema.encodeKeys({ keyFingerprint: "key_fingerprint" }))
export type Identity = typeof Identity.Type

export const Message = Schema.Struct({ message: Schema.String })
export type Message = typeof Message.Type

export const AgentActionResult = Schema.Struct({ message: Schema.String, agent: AgentStatus })
export type AgentActionResult = typeof AgentActionResult.Type

/**
 * What became of one target of a control command naming several: `done`, `already` in the state asked for, or
 * `refused` because its state does not allow the action (`reason` says why, as the error's tag, e.g.
 * `InvalidTransition`), or `failed` (the command then fails as a whole, saying which, and the reply is an error).
 */
export const TargetOutcome = Schema.Literals(["done", "already", "refused", "failed"])
export type TargetOutcome = typeof TargetOutcome.Type

export const TargetResult = Schema.Struct({
  agent: Schema.String,
  outcome: TargetOutcome,
  message: Schema.String,
  reason: Schema.optionalKey(Schema.String)
})
export type TargetResult = typeof TargetResult.Type

/** The answer to a control command naming several targets (or a pattern): one result per agent, in the order run. */
export const MultiActionResult = Schema.Struct({ results: Schema.Array(TargetResult) })
export type MultiActionResult = typeof MultiActionResult.Type

/** `reload`'s argument: another config file than the one `up` was started from, and whether only to plan. */
export const ReloadArgs = Schema.Struct({
  /** A path on the orchestrator's machine; absolute, or relative to the orchestrator's working directory. */
  config: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(4096))),
  dryRun: Schema.optionalKey(Schema.Boolean)
}).pipe(Schema.encodeKeys({ dryRun: "dry_run" }))
export type ReloadArgs = typeof ReloadArgs.Type

/** A setting whose value differs between the running config and the new one, each value as JSON text. */
export const SettingChange = Schema.Struct({ key: Schema.String, from: Schema.String, to: Schema.String })
export type SettingChange = typeof SettingChange.Type

/**
 * What a reload does, or did: agents added, removed, changed (anything in their definition: restarted with the new
 * one, unless stopped on request) and unchanged; settings applied at once; settings that need a restart of `up`,
 * reported and not applied. `results` is each agent's outcome, in the order applied (empty for a dry run).
 */
export const ReloadPlan = Schema.Struct({
  config: Schema.String,
  dryRun: Schema.Boolean,
  agents: Schema.Struct({
    added: Schema.Array(Schema.String),
    removed: Schema.Array(Schema.String),
    changed: Schema.Array(Schema.String),
    unchanged: Schema.Array(Schema.String)
  }),
  settings: Schema.Array(SettingChange),
  needsRestart: Schema.Array(SettingChange),
  results: Schema.Array(TargetResult)
}).pipe(Schema.encodeKeys({ dryRun: "dry_run", needsRestart: "needs_restart" }))
export type ReloadPlan = typeof ReloadPlan.Type

/** Whether a control command's targets are exactly one agent name (not a pattern, not `all`). */
export const isSingleTarget = (targets: ReadonlyArray<string>): targets is readonly [string] =>
  targets.length === 1 && !isTargetPattern(targets[0] ?? "")

/** Whether a target names agents by pattern: `all`, or a name with `*` or `?`. */
export const isTargetPattern = (target: string): boolean => target === "all" || /[*?]/.test(target)

const agentAction = <const Name extends string>(name: Name, summary: string) =>
  spec({
    name,
    usage: `${name} <agent|pattern|all>...`,
    summary,
    mutating: true,
    target: "agent",
    args: AgentTargets,
    result: Schema.Union([AgentActionResult, MultiActionResult])
  })

export const Commands = {
  ps: spec({
    name: "ps",
    usage: "ps",
    summary: "List agents with their state and pid",
    mutating: false,
    target: "none",
    args: NoArgs,
    result: Schema.Struct({ agents: Schema.Array(AgentSummary) })
  }),
  status: spec({
    name: "status",
    usage: "status [agent]",
    summary: "The orchestrator's status, or one agent's detail",
    mutating: false,
    target: "none",
    args: Schema.Tuple([Schema.optionalKey(AgentName)]),
    result: Schema.Union([OrchestratorStatus, AgentStatus])
  }),
  stats: spec({
    name: "stats",
    usage: "stats",
    summary: "Counts of agents by state, workers, uptime and events",
    mutating: false,
    target: "none",
    args: NoArgs,
    result: Stats
  }),
  history: spec({
    name: "history",
    usage: "history [{limit, category, categories, agent, event, after_seq}]",
    summary: "Recorded events, oldest first, filtered",
    mutating: false,
    target: "none",
    args: Schema.Tuple([Schema.optionalKey(HistoryQuery)]),
    result: HistoryPage
  }),
  logs: spec({
    name: "logs",
    usage: "logs [{agents, limit, since, after_seq, stream}]",
    summary: "Agents' output lines, oldest first, filtered",
    mutating: false,
    target: "none",
    args: Schema.Tuple([Schema.optionalKey(LogsQuery)]),
    result: LogsPage
  }),
  dependencies: spec({
    name: "dependencies",
    usage: "dependencies",
    summary: "The agents' dependency graph and start order",
    mutating: false,
    target: "none",
    args: NoArgs,
    result: DependencyGraph
  }),
  commands: spec({
    name: "commands",
    usage: "commands",
    summary: "The commands this caller may run, and all the interface knows",
    mutating: false,
    target: "none",
    args: NoArgs,
    result: CommandList
  }),
  whoami: spec({
    name: "whoami",
    usage: "whoami",
    summary: "Who the server takes the caller for, and what it may do",
    mutating: false,
    target: "none",
    args: NoArgs,
    result: Identity
  }),
  start: agentAction("start", "Start a stopped, completed or failed agent"),
  stop: agentAction("stop", "Stop an agent (SIGTERM, then SIGKILL after the grace period)"),
  restart: agentAction("restart", "Stop an agent, then start it again"),
  pause: agentAction("pause", "Pause a running agent"),
  resume: agentAction("resume", "Resume a paused agent"),
  reload: spec({
    name: "reload",
    usage: "reload [{config, dry_run}]",
    summary: "Re-read the config file and apply what changed: add, remove and restart agents",
    mutating: true,
    target: "every-agent",
    args: Schema.Tuple([Schema.optionalKey(ReloadArgs)]),
    result: ReloadPlan
  }),
  shutdown: spec({
    name: "shutdown",
    usage: "shutdown",
    summary: "Stop every agent, then the orchestrator",
    mutating: true,
    final: true,
    target: "every-agent",
    args: NoArgs,
    result: Message
  })
} as const

export type Commands = typeof Commands
export type CommandName = keyof Commands
export type ArgsOf<K extends CommandName> = Commands[K]["args"]["Type"]
export type ResultOf<K extends CommandName> = Commands[K]["result"]["Type"]

export const isCommandName = (name: string): name is CommandName => Object.hasOwn(Commands, name)

/** Every command name, in catalogue order. */
export const commandNames: ReadonlyArray<CommandName> = Object.keys(Commands).filter(isCommandName)
