import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cli, startUp } from "../support/cli.ts"
import { tempDir } from "../support/files.ts"

const json = (text: string): Record<string, unknown> => JSON.parse(text)

/** Writes `lines` as the audit file, each followed by a newline. */
const rewrite = (file: string, lines: ReadonlyArray<string>) => Fs.writeFileSync(file, lines.map((line) => `${line}\n`).join(""))

describe("orchestrate with CURVE, key files and the audit file", () => {
  it.live("keygen, a CURVE config, the key flags and variables, and a verifiable audit file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const serverKey = Path.join(dir, "server.key")
      const generated = yield* cli(["keygen", serverKey])
      expect(generated.code).toBe(0)
      expect(generated.stdout).toMatch(/^fingerprint\s+[0-9a-f]{16}$/m)
      expect(Fs.statSync(serverKey).mode & 0o777).toBe(0o600)
      const again = yield* cli(["keygen", serverKey])
      expect(again).toMatchObject({ code: 2, stderr: `error: key file ${serverKey}: already exists (use --force to replace it)\n` })
      const ops = json((yield* cli(["keygen", "--json", Path.join(dir, "ops.key")])).stdout)
      expect(ops).toMatchObject({ keyFile: Path.join(dir, "ops.key"), publicKeyFile: Path.join(dir, "ops.key.pub") })

      // Paths in the config are relative to the config file, not to where 'up' runs.
      const config = Path.join(dir, "orchestrate.json")
      Fs.writeFileSync(config, JSON.stringify({
        commandInterface: {
          enabled: true,
          allowedCommands: "all",
          auditFile: "audit.ndjson",
          curve: { keyFile: "server.key", principals: [{ name: "ops", publicKey: ops["publicKey"], role: "all", agents: ["steady"] }] }
        },
        agents: [{ name: "steady", command: "node", args: ["-e", "setInterval(() => {}, 1000)"] }]
      }))
      const env = { ORCHESTRATE_SERVER_KEY: `${serverKey}.pub`, ORCHESTRATE_CLIENT_KEY: Path.join(dir, "ops.key") }
      const { address, up } = yield* startUp([config], { env })
      const run = (args: ReadonlyArray<string>, environment: Record<string, string> = env) =>
        cli([...args, "--address", address], { env: environment })

      const whoami = yield* run(["whoami", "--server-key", `${serverKey}.pub`, "--client-key", Path.join(dir, "ops.key")], {})
      expect(whoami.code).toBe(0)
      expect(whoami.stdout).toMatch(new RegExp(`^principal\\s+ops \\(key ${ops["fingerprint"]}\\)$`, "m"))
      expect(whoami.stdout).toMatch(/^agents\s+steady$/m)

      const plain = yield* run(["ps"], {})
      expect(plain.code).toBe(3)
      expect(plain.stderr).toContain("error: the orchestrator requires CURVE: give --server-key and --client-key")
      const half = yield* run(["ps", "--server-key", `${serverKey}.pub`], {})
      expect(half).toMatchObject({ code: 2, stderr: expect.stringContaining("--server-key and --client-key go together") })

      expect((yield* run(["restart", "steady", "--reason", "rotate logs"])).code).toBe(0)
      expect(yield* run(["shutdown"])).toMatchObject({ code: 1, stderr: expect.stringContaining("it acts on every agent") })
      yield* up.signal("SIGTERM")
      expect((yield* up.exit()).code).toBe(0)

      const audit = Path.join(dir, "audit.ndjson")
      const verified = yield* cli(["audit", "verify", audit])
      expect(verified.code).toBe(0)
      expect(verified.stdout).toMatch(/^file\s+.*audit\.ndjson: intact$/m)
      const lines = Fs.readFileSync(audit, "utf8").trimEnd().split("\n")
      expect(lines.map((line) => json(line)["event"])).toEqual([
        "COMMAND_EXECUTED", // status --wait
        "COMMAND_EXECUTED", // whoami
        "COMMAND_EXECUTED", // restart
        "COMMAND_REJECTED" // shutdown
      ])
      expect(json(lines[2] ?? "")).toMatchObject({ seq: 3, data: { command: "restart", principal: "ops", reason: "rotate logs" } })
      expect(Fs.statSync(audit).mode & 0o777).toBe(0o600)

      // A second run appends to the same chain.
      const second = yield* startUp([config], { env })
      yield* second.up.signal("SIGTERM")
      yield* second.up.exit()
      const continued = json((yield* cli(["audit", "verify", "--json", audit])).stdout)
      expect(continued).toMatchObject({ intact: true, records: 5, firstSeq: 1, lastSeq: 5 })

      const all = Fs.readFileSync(audit, "utf8").trimEnd().split("\n")
      const broken = (edited: ReadonlyArray<string>) => {
        rewrite(audit, edited)
        return cli(["audit", "verify", audit])
      }
      const edited = yield* broken(all.map((line, i) => i === 2 ? line.replace("rotate logs", "routine") : line))
      expect(edited).toMatchObject({
        code: 1,
        stdout: "",
        stderr: `error: ${audit}: line 3 was modified: its content does not match its hash (the 2 records before it are intact)\n`
      })
      const deleted = yield* broken(all.filter((_, i) => i !== 1))
      expect(deleted).toMatchObject({ code: 1, stderr: expect.stringContaining("line 2 has seq 3 after seq 1: records were removed or moved") })
      const reordered = yield* broken([all[0] ?? "", all[2] ?? "", all[1] ?? "", ...all.slice(3)])
      expect(reordered).toMatchObject({ code: 1, stderr: expect.stringContaining("line 2 has seq 3 after seq 1") })
      const asJson = yield* cli(["audit", "verify", "--json", audit])
      expect(json(asJson.stdout)).toMatchObject({ intact: false, line: 2, records: 1 })
      expect((yield* cli(["audit", "verify", Path.join(dir, "missing.ndjson")])).code).toBe(2)
    }).pipe(Effect.provide(NodeServices.layer)), { timeout: 60_000 })
})
