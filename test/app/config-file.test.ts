/**
 * The config file's bounds and how its text is read: every number and duration refused outside its range with a
 * message by path, the settings that must agree, and text that is not JSON, too deep, too large or not an object.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Result, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import {
  checkConfigSize,
  MAX_CONFIG_BYTES,
  MAX_CONFIG_VALUES,
  OrchestratorSettings,
  parseConfigText,
  parseSettings,
  readConfigFile
} from "../../src/app/ConfigFile.ts"
import { describeReadFailure } from "../../src/readFailure.ts"
import { generateKeyPair } from "../../src/security/keys.ts"
import { tempDir } from "../support/files.ts"

/** A config that decodes, with every optional key that holds a number set, so each row only changes its own. */
const base = () => ({
  history: { retention: [{ eventName: "AGENT_HEARTBEAT", keepLast: 3 }] },
  commandInterface: { ipcGroup: 0 },
  // Backoff at both ends of its range, so that initial and max can each reach either end without crossing.
  // Probes of both roles with the checks that hold numbers: a port, and a status range wide open at both ends.
  agents: [{
    name: "a",
    command: "node",
    stopTimeout: 1000,
    backoff: { initial: 0, max: "1 hour" },
    readiness: { tcp: { port: 8080 } },
    liveness: { http: { url: "http://127.0.0.1:8080/healthz", status: [100, 599] } }
  }]
})

const asRecord = (node: unknown): Record<string, unknown> =>
  typeof node === "object" && node !== null && !Array.isArray(node) ? Object.fromEntries(Object.entries(node)) : {}

const setAt = (node: unknown, [head, ...rest]: ReadonlyArray<string | number>, value: unknown): unknown => {
  if (head === undefined) return value
  if (typeof head === "number") {
    const list: Array<unknown> = Array.isArray(node) ? [...node] : []
    list[head] = setAt(list[head], rest, value)
    return list
  }
  const record = asRecord(node)
  return { ...record, [head]: setAt(record[head], rest, value) }
}

/** `base()` with the value at `path` (`agents[0].backoff.initial`) replaced. */
const withValue = (path: string, value: unknown): unknown =>
  setAt(
    base(),
    [...path.matchAll(/([A-Za-z]+)|\[(\d+)\]/g)].map(([, key, index]) => key ?? Number(index)),
    value
  )

/** The problem lines a config gets; empty when it decodes. */
const problems = (config: unknown): ReadonlyArray<string> => {
  const result = parseSettings(config, "test.json")
  return Result.isFailure(result) ? result.failure.problems : []
}

interface Bound {
  readonly path: string
  /** The smallest and the largest value accepted. */
  readonly accepts: readonly [unknown, unknown]
  /** A value just below and one just above, each with the exact line it gets. */
  readonly rejects: readonly [readonly [unknown, string], readonly [unknown, string]]
}

/** The settings every probe has, for both roles. */
const probeBounds = (role: "readiness" | "liveness"): ReadonlyArray<Bound> => {
  const path = `agents[0].${role}`
  return [
    {
      path: `${path}.period`,
      accepts: ["100 millis", "1 hour"],
      rejects: [
        [99, `${path}.period: expected a duration from 100 millis to 1 hour, got 99 millis`],
        ["61 minutes", `${path}.period: expected a duration from 100 millis to 1 hour, got 61 minutes`]
      ]
    },
    {
      path: `${path}.timeout`,
      accepts: [100, "10 minutes"],
      rejects: [
        [99, `${path}.timeout: expected a duration from 100 millis to 10 minutes, got 99 millis`],
        ["11 minutes", `${path}.timeout: expected a duration from 100 millis to 10 minutes, got 11 minutes`]
      ]
    },
    {
      path: `${path}.initialDelay`,
      accepts: [0, "1 hour"],
      rejects: [
        [-1, `${path}.initialDelay: expected a duration from 0 millis to 1 hour, got -1 millis`],
        ["61 minutes", `${path}.initialDelay: expected a duration from 0 millis to 1 hour, got 61 minutes`]
      ]
    },
    {
      path: `${path}.successThreshold`,
      accepts: [1, 100],
      rejects: [
        [0, `${path}.successThreshold: expected an integer from 1 to 100, got 0`],
        [101, `${path}.successThreshold: expected an integer from 1 to 100, got 101`]
      ]
    },
    {
      path: `${path}.failureThreshold`,
      accepts: [1, 100],
      rejects: [
        [0, `${path}.failureThreshold: expected an integer from 1 to 100, got 0`],
        [101, `${path}.failureThreshold: expected an integer from 1 to 100, got 101`]
      ]
    }
  ]
}

const bounds: ReadonlyArray<Bound> = [
  ...probeBounds("readiness"),
  ...probeBounds("liveness"),
  {
    path: "agents[0].readiness.tcp.port",
    accepts: [1, 65_535],
    rejects: [
      [0, "agents[0].readiness.tcp.port: expected an integer from 1 to 65535, got 0"],
      [65_536, "agents[0].readiness.tcp.port: expected an integer from 1 to 65535, got 65536"]
    ]
  },
  {
    path: "agents[0].liveness.http.status[0]",
    accepts: [100, 599],
    rejects: [
      [99, "agents[0].liveness.http.status[0]: expected an integer from 100 to 599, got 99"],
      [600, "agents[0].liveness.http.status[0]: expected an integer from 100 to 599, got 600"]
    ]
  },
  {
    path: "agents[0].liveness.http.status[1]",
    accepts: [100, 599],
    rejects: [
      [99, "agents[0].liveness.http.status[1]: expected an integer from 100 to 599, got 99"],
      [600, "agents[0].liveness.http.status[1]: expected an integer from 100 to 599, got 600"]
    ]
  },
  {
    path: "maxWorkers",
    accepts: [1, 100_000],
    rejects: [
      [0, "maxWorkers: expected an integer from 1 to 100000, got 0"],
      [100_001, "maxWorkers: expected an integer from 1 to 100000, got 100001"]
    ]
  },
  {
    path: "agentStopTimeout",
    accepts: [0, "1 hour"],
    rejects: [
      [-1, "agentStopTimeout: expected a duration from 0 millis to 1 hour, got -1 millis"],
      ["61 minutes", "agentStopTimeout: expected a duration from 0 millis to 1 hour, got 61 minutes"]
    ]
  },
  {
    path: "heartbeatInterval",
    accepts: ["100 millis", 3_600_000],
    rejects: [
      [0, "heartbeatInterval: expected a duration from 100 millis to 1 hour, got 0 millis"],
      ["2 hours", "heartbeatInterval: expected a duration from 100 millis to 1 hour, got 2 hours"]
    ]
  },
  {
    path: "history.capacity",
    accepts: [1, 1_000_000],
    rejects: [
      [0, "history.capacity: expected an integer from 1 to 1000000, got 0"],
      [1_000_001, "history.capacity: expected an integer from 1 to 1000000, got 1000001"]
    ]
  },
  {
    path: "history.categories.agent",
    accepts: [1, 1_000_000],
    rejects: [
      [0, "history.categories.agent: expected an integer from 1 to 1000000, got 0"],
      [1_000_001, "history.categories.agent: expected an integer from 1 to 1000000, got 1000001"]
    ]
  },
  {
    path: "history.categories.orchestrator",
    accepts: [1, 1_000_000],
    rejects: [
      [0, "history.categories.orchestrator: expected an integer from 1 to 1000000, got 0"],
      [1_000_001, "history.categories.orchestrator: expected an integer from 1 to 1000000, got 1000001"]
    ]
  },
  {
    path: "history.categories.command",
    accepts: [1, 1_000_000],
    rejects: [
      [0, "history.categories.command: expected an integer from 1 to 1000000, got 0"],
      [1_000_001, "history.categories.command: expected an integer from 1 to 1000000, got 1000001"]
    ]
  },
  {
    path: "history.perAgent",
    accepts: [1, 1_000_000],
    rejects: [
      [0, "history.perAgent: expected an integer from 1 to 1000000, got 0"],
      [1_000_001, "history.perAgent: expected an integer from 1 to 1000000, got 1000001"]
    ]
  },
  {
    path: "logs.keepLines",
    accepts: [1, 100_000],
    rejects: [
      [0, "logs.keepLines: expected an integer from 1 to 100000, got 0"],
      [100_001, "logs.keepLines: expected an integer from 1 to 100000, got 100001"]
    ]
  },
  {
    path: "logs.maxBytes",
    accepts: [1024, 1_073_741_824],
    rejects: [
      [1023, "logs.maxBytes: expected an integer from 1024 to 1073741824, got 1023"],
      [1_073_741_825, "logs.maxBytes: expected an integer from 1024 to 1073741824, got 1073741825"]
    ]
  },
  {
    path: "logs.keep",
    accepts: [0, 100],
    rejects: [
      [-1, "logs.keep: expected an integer from 0 to 100, got -1"],
      [101, "logs.keep: expected an integer from 0 to 100, got 101"]
    ]
  },
  {
    path: "logs.flushTimeout",
    accepts: [100, "10 minutes"],
    rejects: [
      [99, "logs.flushTimeout: expected a duration from 100 millis to 10 minutes, got 99 millis"],
      ["11 minutes", "logs.flushTimeout: expected a duration from 100 millis to 10 minutes, got 11 minutes"]
    ]
  },
  {
    path: "history.maxValueBytes",
    accepts: [16, 1_048_576],
    rejects: [
      [15, "history.maxValueBytes: expected an integer from 16 to 1048576, got 15"],
      [1_048_577, "history.maxValueBytes: expected an integer from 16 to 1048576, got 1048577"]
    ]
  },
  {
    path: "history.retention[0].keepLast",
    accepts: [1, 1_000_000],
    rejects: [
      [0, "history.retention[0].keepLast: expected an integer from 1 to 1000000, got 0"],
      [1_000_001, "history.retention[0].keepLast: expected an integer from 1 to 1000000, got 1000001"]
    ]
  },
  {
    path: "commandInterface.shutdownTimeout",
    accepts: [0, "10 minutes"],
    rejects: [
      [-1, "commandInterface.shutdownTimeout: expected a duration from 0 millis to 10 minutes, got -1 millis"],
      ["1 hour", "commandInterface.shutdownTimeout: expected a duration from 0 millis to 10 minutes, got 1 hour"]
    ]
  },
  {
    path: "commandInterface.maxRequestBytes",
    accepts: [256, 16_777_216],
    rejects: [
      [255, "commandInterface.maxRequestBytes: expected an integer from 256 to 16777216, got 255"],
      [16_777_217, "commandInterface.maxRequestBytes: expected an integer from 256 to 16777216, got 16777217"]
    ]
  },
  {
    path: "commandInterface.maxInFlight",
    accepts: [1, 65_536],
    rejects: [
      [0, "commandInterface.maxInFlight: expected an integer from 1 to 65536, got 0"],
      [65_537, "commandInterface.maxInFlight: expected an integer from 1 to 65536, got 65537"]
    ]
  },
  {
    path: "commandInterface.ipcGroup",
    accepts: [0, 4_294_967_294],
    rejects: [
      [-1, "commandInterface.ipcGroup: expected an integer from 0 to 4294967294, got -1"],
      [4_294_967_295, "commandInterface.ipcGroup: expected an integer from 0 to 4294967294, got 4294967295"]
    ]
  },
  {
    path: "commandInterface.authWindow",
    accepts: ["1 second", "10 minutes"],
    rejects: [
      [999, "commandInterface.authWindow: expected a duration from 1 second to 10 minutes, got 999 millis"],
      ["11 minutes", "commandInterface.authWindow: expected a duration from 1 second to 10 minutes, got 11 minutes"]
    ]
  },
  {
    path: "commandInterface.idempotencyTtl",
    accepts: [1000, "24 hours"],
    rejects: [
      [999, "commandInterface.idempotencyTtl: expected a duration from 1 second to 1 day, got 999 millis"],
      ["25 hours", "commandInterface.idempotencyTtl: expected a duration from 1 second to 1 day, got 25 hours"]
    ]
  },
  {
    path: "http.maxEventStreams",
    accepts: [1, 4096],
    rejects: [
      [0, "http.maxEventStreams: expected an integer from 1 to 4096, got 0"],
      [4097, "http.maxEventStreams: expected an integer from 1 to 4096, got 4097"]
    ]
  },
  {
    path: "agents[0].maxRestarts",
    accepts: [0, 1_000_000],
    rejects: [
      [-1, "agents[0].maxRestarts: expected an integer from 0 to 1000000, got -1"],
      [1_000_001, "agents[0].maxRestarts: expected an integer from 0 to 1000000, got 1000001"]
    ]
  },
  {
    path: "agents[0].backoff.initial",
    accepts: [0, "1 hour"],
    rejects: [
      [-1, "agents[0].backoff.initial: expected a duration from 0 millis to 1 hour, got -1 millis"],
      ["61 minutes", "agents[0].backoff.initial: expected a duration from 0 millis to 1 hour, got 61 minutes"]
    ]
  },
  {
    path: "agents[0].backoff.max",
    accepts: [0, "1 hour"],
    rejects: [
      [-1, "agents[0].backoff.max: expected a duration from 0 millis to 1 hour, got -1 millis"],
      ["61 minutes", "agents[0].backoff.max: expected a duration from 0 millis to 1 hour, got 61 minutes"]
    ]
  },
  {
    path: "agents[0].backoff.factor",
    accepts: [1, 10],
    rejects: [
      [0.99, "agents[0].backoff.factor: expected a number from 1 to 10, got 0.99"],
      [10.5, "agents[0].backoff.factor: expected a number from 1 to 10, got 10.5"]
    ]
  },
  {
    path: "agents[0].backoff.resetAfter",
    accepts: ["1 second", "1 day"],
    rejects: [
      [999, "agents[0].backoff.resetAfter: expected a duration from 1 second to 1 day, got 999 millis"],
      ["25 hours", "agents[0].backoff.resetAfter: expected a duration from 1 second to 1 day, got 25 hours"]
    ]
  },
  {
    path: "agents[0].stopTimeout",
    accepts: [0, "1 hour"],
    rejects: [
      [-1, "agents[0].stopTimeout: expected a duration from 0 millis to 1 hour, got -1 millis"],
      ["2 hours", "agents[0].stopTimeout: expected a duration from 0 millis to 1 hour, got 2 hours"]
    ]
  }
]

/** The path of every number and duration in decoded settings, in JSON names, with indexes kept. */
const numericPaths = (value: unknown, path = ""): ReadonlyArray<string> => {
  if (typeof value === "number" || Duration.isDuration(value)) return [path]
  if (Array.isArray(value)) return value.flatMap((item, index) => numericPaths(item, `${path}[${index}]`))
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => numericPaths(item, path === "" ? key : `${path}.${key}`))
  }
  return []
}

describe("config bounds", () => {
  it("the base config decodes, so a row's problem is its own", () => {
    expect(problems(base())).toEqual([])
  })

  it("every number and duration the settings hold has a row", () => {
    const decoded = Schema.decodeUnknownSync(OrchestratorSettings)(base())
    expect([...numericPaths(decoded)].sort()).toEqual(bounds.map((bound) => bound.path).sort())
  })

  for (const { path, accepts, rejects } of bounds) {
    it(`${path}: accepts ${JSON.stringify(accepts)}, rejects just outside with a message by path`, () => {
      for (const value of accepts) expect(problems(withValue(path, value))).toEqual([])
      for (const [value, line] of rejects) expect(problems(withValue(path, value))).toEqual([line])
    })
  }

  it("a duration that is not one says how to write one", () => {
    expect(problems({ heartbeatInterval: "5 parsecs" })).toEqual([
      `heartbeatInterval: expected a duration such as 2000 or "2 seconds", got "5 parsecs"`
    ])
    expect(problems({ heartbeatInterval: true })).toEqual(["heartbeatInterval: Expected number | string, got true"])
    expect(problems({ maxWorkers: 2.5 })).toEqual(["maxWorkers: expected an integer from 1 to 100000, got 2.5"])
  })

  it("reports every problem at once, bounds beside other problems in the same agent list and struct", () => {
    expect(problems({
      heartbeatInterval: 0,
      history: { capacity: 0, retention: [{ eventName: "", keepLast: 0 }] },
      commandInterface: { address: "nope", authWindow: "1 day" },
      agents: [{ name: "-a", command: "node" }, { name: "b", command: "node", stopTimeout: "1 day", maxRestarts: -1 }]
    })).toEqual([
      "heartbeatInterval: expected a duration from 100 millis to 1 hour, got 0 millis",
      "history.capacity: expected an integer from 1 to 1000000, got 0",
      `history.retention[0].eventName: Expected a value with a length of at least 1, got ""`,
      "history.retention[0].keepLast: expected an integer from 1 to 1000000, got 0",
      "commandInterface.address: expected a ZeroMQ address such as tcp://127.0.0.1:5570, ipc:///run/orchestrate.sock or inproc://name, got 'nope'",
      "commandInterface.authWindow: expected a duration from 1 second to 10 minutes, got 1 day",
      `agents[0].name: expected an agent name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got "-a"`,
      "agents[1].maxRestarts: expected an integer from 0 to 1000000, got -1",
      "agents[1].stopTimeout: expected a duration from 0 millis to 1 hour, got 1 day"
    ])
  })
})

describe("probes", () => {
  const agent = (fields: Record<string, unknown>) => ({ agents: [{ name: "a", command: "node", ...fields }] })

  it("a probe has exactly one check", () => {
    expect(problems(agent({ readiness: { period: 1000 } }))).toEqual([
      "agents[0].readiness: expected exactly one check of http, tcp, exec, line, got none"
    ])
    expect(problems(agent({ liveness: { tcp: { port: 1 }, exec: { command: "true" } } }))).toEqual([
      "agents[0].liveness: expected exactly one check of http, tcp, exec, line, got tcp and exec"
    ])
  })

  it("readyLine and readiness are refused together, readyLine being shorthand for the other", () => {
    expect(problems(agent({ readyLine: "up", readiness: { line: "up" } }))).toEqual([
      `agents[0].readyLine: readyLine is a shorthand for a readiness probe { "line": ... }: give readyLine or readiness, not both`
    ])
  })

  it("an http status range must not be upside down; a line must be a regular expression", () => {
    expect(problems(agent({ readiness: { http: { url: "http://x/", status: [500, 200] } } }))).toEqual([
      "agents[0].readiness.http.status: expected [min, max] with min at most max, got [500, 200]"
    ])
    expect(problems(agent({ readiness: { line: "(" } }))).toEqual([
      "agents[0].readiness.line: expected a regular expression: Invalid regular expression: /(/: Unterminated group"
    ])
  })

  it("defaults: period 5 s, timeout 1 s, no initial delay, thresholds 1 and 3, statuses 200 to 399", () => {
    const decoded = Schema.decodeUnknownSync(OrchestratorSettings)(agent({ readiness: { http: { url: "http://x/" } } }))
    const readiness = decoded.agents[0]?.readiness
    expect(readiness?.http?.status).toEqual([200, 399])
    expect(readiness === undefined ? [] : [readiness.period, readiness.timeout, readiness.initialDelay].map(Duration.toMillis))
      .toEqual([5000, 1000, 0])
    expect([readiness?.successThreshold, readiness?.failureThreshold]).toEqual([1, 3])
  })
})

describe("dependsOn", () => {
  const agents = (...list: ReadonlyArray<Record<string, unknown>>) => ({
    agents: list.map((fields) => ({ command: "node", ...fields }))
  })

  it("takes names and edges with a condition (ready by default) and a restart setting (false by default)", () => {
    const decoded = Schema.decodeUnknownSync(OrchestratorSettings)(agents(
      { name: "db" },
      { name: "migrate", dependsOn: ["db"] },
      { name: "api", dependsOn: [{ agent: "migrate", condition: "completed_successfully" }, { agent: "db", restart: true }] }
    ))
    expect(decoded.agents.map((agent) => agent.dependsOn)).toEqual([
      [],
      ["db"],
      [{ agent: "migrate", condition: "completed_successfully", restart: false }, { agent: "db", condition: "ready", restart: true }]
    ])
  })

  it("refuses an unknown condition, a missing agent and an unknown key, by path", () => {
    const lines = problems(agents(
      { name: "db" },
      { name: "api", dependsOn: ["db", { agent: "db", condition: "healthy" }, { condition: "started" }, { agent: "db", wait: 1 }] }
    ))
    expect(lines.some((line) => line.startsWith("agents[1].dependsOn[1].condition: ") && line.includes("completed_successfully")))
      .toBe(true)
    expect(lines.some((line) => line.startsWith("agents[1].dependsOn[2].agent: "))).toBe(true)
    expect(lines.some((line) => line.startsWith("agents[1].dependsOn[3].wait: "))).toBe(true)
    expect(lines.every((line) => line.startsWith("agents[1].dependsOn["))).toBe(true)
  })

  it("an unknown dependency and a cycle are found in both forms", () => {
    expect(problems(agents({ name: "api", dependsOn: ["db", { agent: "cache" }] }))).toEqual([
      "agents[0].dependsOn[0]: agent 'api' depends on unknown agent 'db'",
      "agents[0].dependsOn[1].agent: agent 'api' depends on unknown agent 'cache'"
    ])
    expect(problems(agents({ name: "db" }, { name: "api", dependsOn: ["db", { agent: "cache", condition: "started" }] }))).toEqual([
      "agents[1].dependsOn[1].agent: agent 'api' depends on unknown agent 'cache'"
    ])
    expect(problems(agents({ name: "a", dependsOn: [{ agent: "b" }] }, { name: "b", dependsOn: ["a"] }))).toEqual([
      "agents: dependency cycle: a -> b -> a"
    ])
  })

  it("every problem of the graph at once: each name used again, each unknown dependency, a cycle", () => {
    expect(problems(agents(
      { name: "a", dependsOn: ["ghost"] },
      { name: "a" },
      { name: "b", dependsOn: ["c"] },
      { name: "c", dependsOn: ["b", "phantom"] },
      { name: "a" }
    ))).toEqual([
      "agents[1].name: agent name 'a' is used more than once",
      "agents[4].name: agent name 'a' is used more than once",
      "agents[0].dependsOn[0]: agent 'a' depends on unknown agent 'ghost'",
      "agents[3].dependsOn[1]: agent 'c' depends on unknown agent 'phantom'",
      "agents: dependency cycle: b -> c -> b"
    ])
  })
})

describe("settings that must agree", () => {
  const agent = (backoff: Record<string, unknown>) => ({ agents: [{ name: "a", command: "node", backoff }] })

  it("backoff.max below backoff.initial is refused at backoff.max", () => {
    expect(problems(agent({ initial: "2 seconds", max: "1 second" }))).toEqual([
      "agents[0].backoff.max: expected at least initial (2 seconds), got 1 second"
    ])
  })

  it("an initial above the default max says that max defaulted", () => {
    expect(problems(agent({ initial: "1 minute" }))).toEqual([
      "agents[0].backoff.max: expected at least initial (1 minute), got 30 seconds (max defaults to 30 seconds)"
    ])
  })

  it("max equal to initial, and no delay at all, are fine", () => {
    expect(problems(agent({ initial: "5 seconds", max: 5000 }))).toEqual([])
    expect(problems(agent({ initial: 0, max: 0 }))).toEqual([])
  })
})

describe("CURVE principals bounds", () => {
  const principal = (extra: Record<string, unknown> = {}) => ({
    name: "ops",
    publicKey: generateKeyPair().publicKey,
    role: "all",
    ...extra
  })
  const curve = (principals: ReadonlyArray<unknown>) => ({ commandInterface: { curve: { keyFile: "server.key", principals } } })

  it("1 to 1000 principals", () => {
    expect(problems(curve([]))).toEqual(["commandInterface.curve.principals: expected 1 to 1000 principals, got 0"])
    const many = Array.from({ length: 1001 }, (_, index) => principal({ name: `p${index}` }))
    expect(problems(curve(many))).toEqual(["commandInterface.curve.principals: expected 1 to 1000 principals, got 1001"])
    expect(problems(curve(many.slice(0, 1000)))).toEqual([])
  })

  it("1 to 64 agent patterns, each of 1 to 128 characters with at most 3 '*'", () => {
    const at = "commandInterface.curve.principals[0].agents"
    expect(problems(curve([principal({ agents: [] })]))).toEqual([`${at}: expected 1 to 64 patterns, got 0`])
    expect(problems(curve([principal({ agents: Array.from({ length: 65 }, (_, index) => `web-${index}`) })])))
      .toEqual([`${at}: expected 1 to 64 patterns, got 65`])
    expect(problems(curve([principal({ agents: ["a*b*c*d*"] })]))).toEqual([
      `${at}[0]: expected a pattern of 1 to 128 characters with at most 3 '*', got "a*b*c*d*"`
    ])
    expect(problems(curve([principal({ agents: [""] })]))).toEqual([
      `${at}[0]: expected a pattern of 1 to 128 characters with at most 3 '*', got ""`
    ])
    expect(problems(curve([principal({ agents: ["x".repeat(129)] })]))).toEqual([
      `${at}[0]: expected a pattern of 1 to 128 characters with at most 3 '*', got "${"x".repeat(129)}"`
    ])
    expect(problems(curve([principal({ agents: ["*-web-*-*", "x".repeat(128), "?"] })]))).toEqual([])
  })
})

describe("config text", () => {
  const textProblems = (text: string): ReadonlyArray<string> => {
    const result = parseConfigText(text, "test.json")
    return Result.isFailure(result) ? result.failure.problems : []
  }

  it("decodes a valid config", () => {
    const result = parseConfigText(JSON.stringify({ maxWorkers: 3 }), "test.json")
    expect(Result.isSuccess(result) && result.success.maxWorkers).toBe(3)
  })

  it("text that is not JSON is a config error that says so", () => {
    const [line, ...rest] = textProblems(`{"maxWorkers": 3,}`)
    expect(rest).toEqual([])
    expect(line).toMatch(/^not valid JSON: .*position 17/)
    expect(textProblems("")).toEqual(["not valid JSON: Unexpected end of JSON input"])
  })

  it("the error names its source", () => {
    const result = parseConfigText("[]", "/etc/orchestrate.json")
    expect(Result.isFailure(result) && result.failure.message).toBe(
      "invalid config /etc/orchestrate.json:\n  (root): expected an object of settings, got an array"
    )
  })

  it("a top level that is not an object", () => {
    expect(textProblems("null")).toEqual(["(root): expected an object of settings, got null"])
    expect(textProblems("[1, 2]")).toEqual(["(root): expected an object of settings, got an array"])
    expect(textProblems(`"x"`)).toEqual(["(root): expected an object of settings, got a string"])
    expect(textProblems("3")).toEqual(["(root): expected an object of settings, got a number"])
  })

  it("100,000 levels of nesting are refused before decoding, with where it starts", () => {
    // Built as text: JSON.stringify itself recurses once per level.
    const deep = (levels: number) => `${`{"a":`.repeat(levels)}1${"}".repeat(levels)}`
    expect(textProblems(deep(100_000))).toEqual(["a.a.a.a…: nested deeper than 32 levels"])
    expect(textProblems(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)).toEqual([
      "[0][0][0][0]…: nested deeper than 32 levels"
    ])
    expect(textProblems(`{"agents":[{"name":"a","command":"node","env":{"x":${deep(100_000)}}}]}`)).toEqual([
      "agents[0].env.x…: nested deeper than 32 levels"
    ])
  })

  it("32 levels are decoded; 33 are not", () => {
    const deep = (levels: number) => `${`{"a":`.repeat(levels)}1${"}".repeat(levels)}`
    expect(textProblems(deep(32))).toEqual(["a: unexpected key"])
    expect(textProblems(deep(33))).toEqual(["a.a.a.a…: nested deeper than 32 levels"])
  })

  it("lists ten problems, and counts the rest in words that fit their number", () => {
    const agents = (count: number) => `{"agents":[${Array.from({ length: count }, () => "1").join(",")}]}`
    expect(textProblems(agents(11)).slice(9)).toEqual(["agents[9]: Expected object, got 1", "and 1 more problem"])
    expect(textProblems(agents(12)).slice(9)).toEqual(["agents[9]: Expected object, got 1", "and 2 more problems"])
  })

  it("more than 250,000 values are refused before decoding, which would make an issue for each", () => {
    // The top-level object, the agents array, and its items: exactly the limit, then one more.
    const agents = (count: number) => `{"agents":[${Array.from({ length: count }, () => "1").join(",")}]}`
    expect(textProblems(agents(MAX_CONFIG_VALUES - 2))).toEqual([
      "agents[0]: Expected object, got 1",
      "agents[1]: Expected object, got 1",
      "agents[2]: Expected object, got 1",
      "agents[3]: Expected object, got 1",
      "agents[4]: Expected object, got 1",
      "agents[5]: Expected object, got 1",
      "agents[6]: Expected object, got 1",
      "agents[7]: Expected object, got 1",
      "agents[8]: Expected object, got 1",
      "agents[9]: Expected object, got 1",
      "and 249988 more problems"
    ])
    expect(textProblems(agents(MAX_CONFIG_VALUES - 1))).toEqual([
      "(root): more than 250000 JSON values (objects, arrays, strings, numbers, …); a config may hold at most 250000"
    ])
  })

  it("more than 16 MiB is refused, unparsed", () => {
    expect(textProblems(" ".repeat(MAX_CONFIG_BYTES + 1))).toEqual([
      "the text is 16777217 characters; a config may be at most 16 MiB (16777216 bytes)"
    ])
    const tooLarge = checkConfigSize(2 ** 30, "big.json")
    expect(Result.isFailure(tooLarge) && tooLarge.failure.problems).toEqual([
      "the file is 1073741824 bytes; a config may be at most 16 MiB (16777216 bytes)"
    ])
    expect(Result.isSuccess(checkConfigSize(MAX_CONFIG_BYTES, "big.json"))).toBe(true)
  })
})

describe("a config file that cannot be read", () => {
  /** Why `readConfigFile(path)` could not read it, in the words the CLI and a reload use. */
  const unreadable = (path: string) =>
    readConfigFile(path).pipe(
      Effect.flip,
      Effect.map((error) => error._tag === "PlatformError" ? describeReadFailure(error) : `not a read failure: ${error.message}`)
    )

  it.effect("a directory, a path through a file, a file that is not there: each says which", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("orchestrate-unreadable-")
      const file = Path.join(dir, "orchestrate.json")
      Fs.writeFileSync(file, "{}")
      expect(yield* unreadable(dir)).toBe("it is a directory")
      expect(yield* unreadable(Path.join(file, "orchestrate.json"))).toBe("a directory in its path is a file")
      expect(yield* unreadable(Path.join(dir, "missing.json"))).toBe("no such file")
    }).pipe(Effect.provide(NodeServices.layer)))
})
