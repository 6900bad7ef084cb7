/**
 * `orchestrate systemd-unit` through the real CLI binary: the unit's keys and values as systemd reads them,
 * `systemd-analyze verify` on it where that program exists, and its ExecStart and ExecReload lines run for real.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { BIN, cli, spawnCommand } from "../support/cli.ts"
import { curveFixture } from "../support/curve.ts"
import { tempDir } from "../support/files.ts"
import { freePort } from "../support/net.ts"
import { killMarked, testMarker } from "../support/processes.ts"

type Unit = Readonly<Record<string, Readonly<Record<string, ReadonlyArray<string>>>>>

/**
 * A unit file as systemd reads it: `[Section]` lines, `Key=value` lines (a key may repeat), `#` and `;` comments
 * and blank lines; anything else is not a unit file.
 */
const parseUnit = (text: string): Unit => {
  const sections: Record<string, Record<string, Array<string>>> = {}
  let section: Record<string, Array<string>> | undefined
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const header = /^\[([A-Za-z]+)\]$/.exec(line)
    if (header?.[1] !== undefined) {
      section = sections[header[1]] = {}
      continue
    }
    const entry = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (entry?.[1] === undefined || entry[2] === undefined || section === undefined) {
      throw new Error(`line ${index + 1} is not a unit file line: ${raw}`)
    }
    ;(section[entry[1]] ??= []).push(entry[2])
  }
  return sections
}

/** A value with its specifiers and variables undone: `%%` is `%`, `$$` is `$`. */
const literal = (value: string): string => value.replaceAll("%%", "%").replaceAll("$$", "$")

/** An Exec or Environment line split into words as systemd splits it: by spaces, double quotes with `\` escapes. */
const words = (line: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  let at = 0
  while (at < line.length) {
    if (line[at] === " ") {
      at++
      continue
    }
    let word = ""
    if (line[at] === "\"") {
      for (at++; at < line.length && line[at] !== "\""; at++) word += line[at] === "\\" ? line[++at] : line[at]
      at++
    } else {
      for (; at < line.length && line[at] !== " "; at++) word += line[at]
    }
    out.push(literal(word))
  }
  return out
}

const only = (unit: Unit, section: string, key: string): string | undefined => {
  const values = unit[section]?.[key]
  if (values !== undefined && values.length !== 1) throw new Error(`${key} appears ${values.length} times`)
  return values?.[0]
}

const hasSystemdAnalyze = ChildProcess.spawnSync("systemd-analyze", ["--version"]).status === 0

/** `systemd-analyze verify` on the unit: exit 0 and not a word on stderr (it warns about bad lines but exits 0). */
const verify = (text: string, dir: string, options: { readonly user?: boolean } = {}) => {
  const file = Path.join(dir, "orchestrate-test.service")
  Fs.writeFileSync(file, text)
  const runtime = Path.join(dir, "runtime")
  Fs.mkdirSync(runtime, { mode: 0o700, recursive: true })
  const result = ChildProcess.spawnSync("systemd-analyze", [...(options.user === true ? ["--user"] : []), "verify", file], {
    encoding: "utf8",
    // A user manager needs a runtime directory, even offline.
    env: { ...process.env, XDG_RUNTIME_DIR: runtime }
  })
  return { code: result.status, stderr: result.stderr }
}

const writeConfig = (file: string, settings: Record<string, unknown>) => {
  Fs.writeFileSync(file, JSON.stringify(settings))
  return file
}

const sleeper = (name: string, extra: Record<string, unknown> = {}) => ({ name, command: "sleep", args: ["600"], ...extra })

describe("orchestrate systemd-unit", () => {
  it.live("a system unit: what systemd reads, TimeoutStopSec from the stop timeouts, and its command lines work", () =>
    Effect.gen(function*() {
      // A space and a % in the path: both must survive systemd's reading of the lines.
      const dir = Path.join(yield* tempDir(), "my services %i")
      Fs.mkdirSync(dir)
      const port = yield* freePort
      const config = writeConfig(Path.join(dir, "services.json"), {
        agentStopTimeout: 4000,
        commandInterface: { enabled: true, address: `tcp://*:${port}`, allowedCommands: "all", shutdownTimeout: 3000, allowInsecureNetwork: true },
        agents: [
          sleeper("db", { stopTimeout: 3000 }),
          sleeper("api", { dependsOn: ["db"], stopTimeout: "7 seconds" }),
          sleeper("worker", { dependsOn: [{ agent: "api", condition: "started" }] }),
          sleeper("lone", { stopTimeout: 2000 })
        ]
      })
      const printed = yield* cli(["systemd-unit", config])
      expect(printed).toMatchObject({ code: 0, stderr: "" })
      const unit = parseUnit(printed.stdout)
      expect(Object.keys(unit)).toEqual(["Unit", "Service", "Install"])
      expect(literal(only(unit, "Unit", "Description") ?? "")).toBe(`orchestrate up ${config}`)
      expect(only(unit, "Unit", "After")).toBe("network-online.target")
      expect(only(unit, "Unit", "Wants")).toBe("network-online.target")
      expect(only(unit, "Service", "Type")).toBe("exec")
      // Whoever ran it (systemd-analyze warns about nobody).
      expect(only(unit, "Service", "User")).toBe(Os.userInfo().username)
      expect(only(parseUnit((yield* cli(["systemd-unit", config, "--run-as", "daemon"])).stdout), "Service", "User")).toBe("daemon")
      expect(literal(only(unit, "Service", "WorkingDirectory") ?? "")).toBe(dir)
      const [path, ...others] = words(only(unit, "Service", "Environment") ?? "")
      expect(others).toEqual([])
      expect(path?.startsWith(`PATH=${Path.dirname(process.execPath)}:`)).toBe(true)
      expect(path?.split(":").every((entry) => entry.replace(/^PATH=/, "").startsWith("/"))).toBe(true)
      expect(only(unit, "Service", "UnsetEnvironment")).toBe(
        "ORCHESTRATE_ADDRESS ORCHESTRATE_CONTEXT ORCHESTRATE_SERVER_KEY ORCHESTRATE_CLIENT_KEY"
      )
      const execStart = words(only(unit, "Service", "ExecStart") ?? "")
      expect(execStart).toEqual([process.execPath, BIN, "up", config])
      // Bound on every interface, reached on loopback.
      const execReload = words(only(unit, "Service", "ExecReload") ?? "")
      expect(execReload).toEqual([
        process.execPath, BIN, "reload", "--address", `tcp://127.0.0.1:${port}`, "--timeout", "120", "--reason", "systemctl reload"
      ])
      expect(only(unit, "Service", "TimeoutStartSec")).toBe("130")
      expect(only(unit, "Service", "KillMode")).toBe("mixed")
      // worker 4 s, then api 7 s, then db 3 s, each plus 1 s (17 s); lone alone is 3 s; then the interface's 3 s
      // and 5 s of margin.
      expect(only(unit, "Service", "TimeoutStopSec")).toBe("25")
      expect(printed.stdout).toContain("worker (4 s), api (7 s), db (3 s)")
      expect(only(unit, "Service", "Restart")).toBe("on-failure")
      expect(only(unit, "Service", "RestartPreventExitStatus")).toBe("2")
      expect(only(unit, "Install", "WantedBy")).toBe("multi-user.target")
      if (hasSystemdAnalyze) expect(verify(printed.stdout, dir)).toEqual({ code: 0, stderr: "" })

      // The lines as systemd would run them: up comes up, reload applies a changed config, SIGTERM stops it all.
      const marker = testMarker()
      yield* Effect.addFinalizer(() => killMarked(marker))
      const [node, ...startArgs] = execStart
      const up = yield* spawnCommand(node ?? "", startArgs, { env: marker })
      const address = `tcp://127.0.0.1:${port}`
      for (let tries = 0; ; tries++) {
        if ((yield* cli(["ps", "--address", address, "--timeout", "1"])).code === 0) break
        if (tries > 100) throw new Error(`up did not answer:\n${yield* up.stderr}`)
        yield* Effect.sleep("100 millis")
      }
      writeConfig(config, { ...JSON.parse(Fs.readFileSync(config, "utf8")), agents: [sleeper("extra")] })
      const [reloadNode, ...reloadArgs] = execReload
      const reloaded = yield* (yield* spawnCommand(reloadNode ?? "", reloadArgs)).exit()
      expect(reloaded).toMatchObject({ code: 0, stderr: "" })
      expect(reloaded.stdout).toContain(`reloaded ${config}`)
      const ps = yield* cli(["ps", "--address", address, "--json"])
      expect(JSON.parse(ps.stdout)).toMatchObject({ data: { agents: [{ name: "extra" }] } })
      yield* up.signal("SIGTERM")
      expect((yield* up.exit()).code).toBe(0)
    }).pipe(Effect.provide(NodeServices.layer)), 60_000)

  it.live("a user unit: default.target, no User= and no system targets", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const config = writeConfig(Path.join(dir, "jobs.json"), { agents: [sleeper("job")] })
      const printed = yield* cli(["systemd-unit", config, "--user"])
      // The interface is off: nothing for systemctl reload to reach, and the unit says so.
      expect(printed).toMatchObject({
        code: 0,
        stderr: "note: no ExecReload in this unit: the config does not enable the command interface (commandInterface.enabled)\n"
      })
      const unit = parseUnit(printed.stdout)
      expect(only(unit, "Install", "WantedBy")).toBe("default.target")
      expect(only(unit, "Service", "User")).toBeUndefined()
      expect(only(unit, "Unit", "After")).toBeUndefined()
      expect(only(unit, "Service", "ExecReload")).toBeUndefined()
      expect(printed.stdout).toContain("# No ExecReload: the config does not enable the command interface (commandInterface.enabled).\n")
      // job 5 s (the default agentStopTimeout) plus 1 s, no interface, 5 s of margin.
      expect(only(unit, "Service", "TimeoutStopSec")).toBe("11")
      if (hasSystemdAnalyze) expect(verify(printed.stdout, dir, { user: true })).toEqual({ code: 0, stderr: "" })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("at a CURVE interface, ExecReload authenticates with --client-key and the server's public key", () =>
    Effect.gen(function*() {
      const keys = yield* curveFixture(["ops", "viewer", "webops", "stranger"])
      const address = `ipc://${Path.join(keys.dir, "cmd.sock")}`
      const config = writeConfig(Path.join(keys.dir, "secure.json"), {
        commandInterface: {
          enabled: true,
          address,
          allowedCommands: "all",
          curve: {
            keyFile: "server.key",
            principals: [
              { name: "ops", publicKey: keys.clients["ops"]?.publicKey, role: "all" },
              { name: "viewer", publicKey: keys.clients["viewer"]?.publicKey, role: "monitoring" },
              { name: "webops", publicKey: keys.clients["webops"]?.publicKey, role: "all", agents: ["web-*"] }
            ]
          }
        },
        agents: [sleeper("api")]
      })
      // A key whose principal could not reload gets no ExecReload that would fail at every `systemctl reload`.
      const refusals = [
        ["viewer", "principal 'viewer' (--client-key) may not reload (its role: monitoring)"],
        ["webops", "principal 'webops' (--client-key) may act only on some agents, and a reload acts on every one"],
        ["stranger", `--client-key ${keys.keyFile("stranger")} is the key pair of none of the config's principals`]
      ] as const
      for (const [name, why] of refusals) {
        const refused = yield* cli(["systemd-unit", "secure.json", "--client-key", `${name}.key`], { cwd: keys.dir })
        expect(refused).toMatchObject({ code: 0, stderr: `note: no ExecReload in this unit: ${why}\n` })
        expect(only(parseUnit(refused.stdout), "Service", "ExecReload")).toBeUndefined()
      }
      const without = yield* cli(["systemd-unit", config])
      expect(without.code).toBe(0)
      expect(without.stderr).toBe(
        "note: no ExecReload in this unit: the command interface uses CURVE: give --client-key, the key pair file of a principal allowed to reload\n"
      )
      expect(only(parseUnit(without.stdout), "Service", "ExecReload")).toBeUndefined()

      const withKey = yield* cli(["systemd-unit", "secure.json", "--client-key", "ops.key"], { cwd: keys.dir })
      expect(withKey).toMatchObject({ code: 0, stderr: "" })
      expect(words(only(parseUnit(withKey.stdout), "Service", "ExecReload") ?? "")).toEqual([
        process.execPath, BIN, "reload", "--address", address,
        "--server-key", `${keys.serverKeyFile}.pub`, "--client-key", keys.keyFile("ops"),
        "--timeout", "120", "--reason", "systemctl reload"
      ])
      if (hasSystemdAnalyze) expect(verify(withKey.stdout, keys.dir)).toEqual({ code: 0, stderr: "" })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("says why a unit has no ExecReload: reload not allowed, a port picked at start", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const cases = [
        [{ enabled: true, address: "tcp://127.0.0.1:5999" }, "the command interface does not allow 'reload' (allowedCommands: basic)"],
        [{ enabled: true, address: "tcp://127.0.0.1:*", allowedCommands: "all" }, "tcp://127.0.0.1:* has its port picked anew at every start"]
      ] as const
      for (const [index, [commandInterface, why]] of cases.entries()) {
        const config = writeConfig(Path.join(dir, `c${index}.json`), { commandInterface })
        const printed = yield* cli(["systemd-unit", config])
        expect(printed).toMatchObject({ code: 0, stderr: `note: no ExecReload in this unit: ${why}\n` })
        expect(only(parseUnit(printed.stdout), "Service", "ExecReload")).toBeUndefined()
        expect(printed.stdout).toContain(`# No ExecReload: ${why}.\n`)
      }
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a missing or invalid config, or flags that do not go together, are usage errors (exit 2) and print no unit", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const missing = Path.join(dir, "missing.json")
      expect(yield* cli(["systemd-unit", missing])).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: cannot read config file ${missing}: no such file\n`
      })
      const invalid = writeConfig(Path.join(dir, "invalid.json"), { agents: [{ name: "a", command: "x", restart: "sometimes" }] })
      const refused = yield* cli(["systemd-unit", invalid])
      expect(refused.code).toBe(2)
      expect(refused.stdout).toBe("")
      expect(refused.stderr).toMatch(new RegExp(`^error: invalid config ${invalid}:\\n  agents\\[0\\]\\.restart: `))
      const broken = Path.join(dir, "line\nbreak")
      Fs.mkdirSync(broken)
      const unwritable = writeConfig(Path.join(broken, "c.json"), {})
      expect(yield* cli(["systemd-unit", unwritable])).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: the config file ${JSON.stringify(unwritable)} cannot go in a unit file: it holds a line break or a control character\n`
      })
      expect(yield* cli(["systemd-unit", invalid, "--user", "--run-as", "svc"])).toEqual({
        code: 2,
        stdout: "",
        stderr: "error: --user and --run-as cannot be used together: a user unit runs as the user whose service manager runs it\n"
      })
    }).pipe(Effect.provide(NodeServices.layer)))
})
