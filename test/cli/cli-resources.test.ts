/**
 * Resource usage over the real CLI and `orchestrate up`: what `ps`, `status` and `stats` say real processes use,
 * checked against what /proc says of them, and `ps --watch`.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { packageRoot } from "../../src/packageRoot.ts"
import { BIN, cli, spawn, startUp, UpServer, upServer } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"
import { onTerminalRunning } from "../support/terminal.ts"

const CONFIG = Path.join(packageRoot(), "test", "fixtures", "resources.json")

/** `ps --json`'s agents, as the wire spells them. */
const PsReply = Schema.fromJsonString(Schema.Struct({
  data: Schema.Struct({
    agents: Schema.Array(Schema.Struct({
      name: Schema.String,
      state: Schema.String,
      pid: Schema.NullOr(Schema.Number),
      cpu_percent: Schema.NullOr(Schema.Number),
      memory_bytes: Schema.NullOr(Schema.Number)
    }))
  })
}))
type PsAgent = (typeof PsReply.Type)["data"]["agents"][number]

const StatusReply = Schema.fromJsonString(Schema.Struct({
  data: Schema.Struct({ cpu_percent: Schema.NullOr(Schema.Number), cpu_seconds: Schema.NullOr(Schema.Number) })
}))

const psAt = (address: string) =>
  Effect.map(cli(["ps", "--json", "--address", address]), (result) => {
    const agents = Schema.decodeUnknownSync(PsReply)(result.stdout).data.agents
    return (name: string): PsAgent => {
      const agent = agents.find((candidate) => candidate.name === name)
      if (agent === undefined) throw new Error(`no agent '${name}' in ${result.stdout}`)
      return agent
    }
  })

/** The fields of /proc/<pid>/stat after the command name; undefined once the process is gone. */
const statFields = (pid: number): ReadonlyArray<string> | undefined => {
  try {
    const text = Fs.readFileSync(`/proc/${pid}/stat`, "latin1")
    return text.slice(text.lastIndexOf(")") + 2).split(" ")
  } catch {
    return undefined
  }
}

const childrenOf = (parent: number): ReadonlyArray<number> =>
  Fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => Number(statFields(pid)?.[1]) === parent)

/** How long ago a process started, in seconds (/proc counts in clock ticks of 1/100 s since boot). */
const ageOf = (pid: number): number => {
  const started = Number(statFields(pid)?.[19] ?? Number.NaN) / 100
  return Number(Fs.readFileSync("/proc/uptime", "latin1").split(" ")[0]) - started
}

/** utime + stime of a process and its children, in seconds, as /proc says now. */
const cpuOfTree = (leader: number): number =>
  [leader, ...childrenOf(leader)].reduce((sum, pid) => {
    const fields = statFields(pid)
    return sum + (fields === undefined ? 0 : (Number(fields[11]) + Number(fields[12])) / 100)
  }, 0)

// Real processes and real time: the test services (TestClock) are left out.
layer(upServer([CONFIG]), { timeout: 60_000, excludeTestServices: true })("resource usage from a running orchestrator", (it) => {
  const run = (args: ReadonlyArray<string>) => UpServer.use(({ address }) => cli([...args, "--address", address]))

  it.effect("ps --json: a busy agent has cpu_percent over 10 and memory_bytes, a sleeping one a low cpu_percent, a finished one null", () =>
    Effect.gen(function*() {
      const { address } = yield* UpServer
      // Each agent has a figure once a sample has been taken while it ran.
      const agentOf = yield* psAt(address).pipe(Effect.repeat({
        // A sample taken just after `busy` started may show it at 0: ask until it is seen busy.
        until: (agentOf) =>
          ["busy", "idle", "churn"].every((name) => agentOf(name).cpu_percent !== null) && (agentOf("busy").cpu_percent ?? 0) > 10 &&
          agentOf("job").state === "completed",
        times: 80
      }))
      const busy = agentOf("busy")
      expect(busy.cpu_percent).toBeGreaterThan(10)
      expect(busy.memory_bytes).toBeGreaterThan(0)
      const idle = agentOf("idle")
      expect(idle.cpu_percent).toBeLessThan(5)
      expect(idle.memory_bytes).toBeGreaterThan(0)
      // Its processes come and go every 50 ms: whatever is there when sampled is counted, and nothing breaks.
      expect(agentOf("churn").memory_bytes).toBeGreaterThan(0)
      expect(agentOf("job")).toMatchObject({ pid: null, cpu_percent: null, memory_bytes: null })
    }))

  it.effect("ps shows CPU% and MEM; status <agent> and stats show CPU and memory", () =>
    Effect.gen(function*() {
      const table = (yield* run(["ps"])).stdout.trimEnd().split("\n")
      expect(table[0]).toMatch(/^NAME\s+STATE\s+HEALTH\s+PID\s+CPU%\s+MEM\s+UPTIME\s+RESTARTS$/)
      expect(table.find((line) => line.startsWith("busy "))).toMatch(/^busy\s+running\s+-\s+\d+\s+\d+\.\d\s+\d+\.\d MiB\s+(\d+m )?\d+s\s+0$/)
      expect(table.find((line) => line.startsWith("job "))).toMatch(/^job\s+completed\s+-\s+-\s+-\s+-\s+-\s+0$/)

      const status = (yield* run(["status", "busy"])).stdout
      expect(status).toMatch(/^cpu\s+\d+\.\d%, (\d+\.\d\ds|\d+m \d+s) in all$/m)
      expect(status).toMatch(/^memory\s+\d+\.\d MiB$/m)

      const stats = yield* run(["stats"])
      expect(stats.stdout).toMatch(/^cpu\s+\d+\.\d%, (\d+\.\d\ds|\d+m \d+s) in all$/m)
      expect(stats.stdout).toMatch(/^memory\s+\d+\.\d MiB$/m)
      const totals = JSON.parse((yield* run(["stats", "--json"])).stdout)
      expect(totals.data).toMatchObject({ cpu_percent: expect.any(Number), memory_bytes: expect.any(Number), cpu_seconds: expect.any(Number) })
      expect(totals.data.cpu_percent).toBeGreaterThan(10)
    }))

  it.effect("ps --watch prints the table after its time on every refresh when piped, until Ctrl-C", () =>
    Effect.gen(function*() {
      const { address } = yield* UpServer
      const watcher = yield* spawn(["ps", "--watch", "--interval", "0.2", "--address", address])
      const stamp = /^\d{4}-\d\d-\d\dT[\d:.]+Z 4 agents$/gm
      yield* watcher.waitForStdout((stdout) => (stdout.match(stamp) ?? []).length >= 3)
      yield* watcher.signal("SIGINT")
      const { code, stdout } = yield* watcher.exit()
      expect(code).toBe(0)
      const blocks = stdout.trimEnd().split(/\n(?=\d{4}-)/)
      expect(blocks.length).toBeGreaterThanOrEqual(3)
      for (const block of blocks) {
        const [time = "", header = "", ...rows] = block.split("\n")
        expect(time).toMatch(/^\S+ 4 agents$/)
        expect(header).toMatch(/^NAME\s+STATE\s+HEALTH\s+PID\s+CPU%\s+MEM\s+UPTIME\s+RESTARTS$/)
        expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(["busy", "idle", "churn", "job"])
      }
    }))

  it.effect("ps --watch redraws in place on a terminal", () =>
    Effect.gen(function*() {
      const { address } = yield* UpServer
      // Each refresh goes back over the 5 lines drawn before (the header and 4 agents) and clears the screen below.
      const redraws = (screen: string) => screen.split("\u001b[5A\u001b[J").length - 1
      const terminal = yield* onTerminalRunning([process.execPath, BIN, "ps", "--watch", "--interval", "0.2", "--address", address], { NO_COLOR: "1" })
      const screen = yield* terminal.waitForStdout((screen) => redraws(screen) >= 3)
      expect(screen).toMatch(/NAME\s+STATE\s+HEALTH\s+PID\s+CPU%\s+MEM/)
    }))

  it.effect("a stopped agent has no CPU% or memory, and keeps the CPU seconds it used", () =>
    Effect.gen(function*() {
      const { address } = yield* UpServer
      expect((yield* run(["stop", "busy"])).code).toBe(0)
      expect((yield* psAt(address))("busy")).toMatchObject({ state: "stopped", cpu_percent: null, memory_bytes: null })
      const status = Schema.decodeUnknownSync(StatusReply)((yield* run(["status", "busy", "--json"])).stdout).data
      expect(status.cpu_percent).toBeNull()
      expect(status.cpu_seconds).toBeGreaterThan(0)
    }))
})

describe("resource usage of an agent with children", () => {
  it.live("sums the agent's processes: a shell's two busy children", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const config = Path.join(dir, "children.json")
      const busyChild = `'${process.execPath}' -e 'for (;;) {}'`
      Fs.writeFileSync(config, JSON.stringify({
        commandInterface: { enabled: true, allowedCommands: "all" },
        agents: [
          { name: "one", command: "sh", args: ["-c", `${busyChild} & wait`] },
          { name: "two", command: "sh", args: ["-c", `${busyChild} & ${busyChild} & wait`] }
        ]
      }))
      const { address } = yield* startUp([config])
      // Until a sample has seen the children at work (the first may come before the shell has forked them): the
      // shells themselves wait and use nothing, so neither gets there unless its children are counted. A sample is
      // at most a second old, so one given once the children are 2 s old saw both of them, started in full.
      const agentOf = yield* psAt(address).pipe(Effect.repeat({
        until: (agentOf) =>
          [["one", 1], ["two", 2]].every(([name, children]) => {
            const agent = agentOf(String(name))
            if (agent.pid === null) return false
            const forked = childrenOf(agent.pid)
            return forked.length === children && forked.every((child) => ageOf(child) >= 2) && (agent.cpu_percent ?? 0) > 10
          }),
        times: 80
      }))
      const one = agentOf("one")
      const two = agentOf("two")
      expect(one.cpu_percent).toBeGreaterThan(10)
      expect(two.cpu_percent).toBeGreaterThan(10)
      // Each child is a Node of some 40 MiB: two of them hold about twice what one does.
      expect(two.memory_bytes ?? 0).toBeGreaterThan(1.5 * (one.memory_bytes ?? Number.POSITIVE_INFINITY))

      // Its CPU seconds are the sum over the shell and both children at the moment of a fresh sample: between
      // what /proc says just before the request and just after it. A sample less than a second old is reused,
      // so ask until one is fresh.
      const leader = two.pid ?? 0
      const bracket = Effect.gen(function*() {
        const before = cpuOfTree(leader)
        const oneChild = cpuOfTree(childrenOf(leader)[0] ?? 0)
        const status = Schema.decodeUnknownSync(StatusReply)((yield* cli(["status", "two", "--json", "--address", address])).stdout)
        return { before, oneChild, seconds: status.data.cpu_seconds ?? 0, after: cpuOfTree(leader) }
      })
      const tick = 0.01 + 1e-9
      const sampled = yield* bracket.pipe(Effect.repeat({
        until: ({ before, seconds, after }) => seconds >= before - tick && seconds <= after + tick,
        times: 20
      }))
      expect(sampled.seconds).toBeGreaterThanOrEqual(sampled.before - tick)
      expect(sampled.seconds).toBeLessThanOrEqual(sampled.after + tick)
      // Far more than one child alone had used by then.
      expect(sampled.seconds).toBeGreaterThan(sampled.oneChild * 1.3)
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)
})
