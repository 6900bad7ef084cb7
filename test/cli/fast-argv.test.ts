/**
 * Which command lines the fast path takes (src/cli/fast/argv.ts): the read commands in forms whose meaning to
 * effect/cli's parser is certain, and nothing else. test/cli/fast-path.test.ts runs such lines through both paths;
 * this checks the parser's own choices quickly, the refusals above all: a line it does not take goes to the full CLI.
 */
import { describe, expect, it } from "@effect/vitest"
import { parseInvocation } from "../../src/cli/fast/argv.ts"
import { requestId, uuidOf } from "../../src/cli/fast/requestId.ts"

const ADDRESS = "tcp://127.0.0.1:5570"

describe("the fast path's command line", () => {
  it("takes the read commands with the shared flags, before or after the command, and their variables", () => {
    expect(parseInvocation(["ps"], {})).toEqual({
      command: "ps",
      shared: { address: undefined, context: undefined, serverKey: undefined, clientKey: undefined, json: false, timeoutMillis: undefined }
    })
    expect(parseInvocation(["--json", "stats", `--address=${ADDRESS}`, "--timeout", "2.5"], {})).toMatchObject({
      command: "stats",
      shared: { address: ADDRESS, json: true, timeoutMillis: 2500 }
    })
    expect(parseInvocation(["whoami"], { ORCHESTRATE_ADDRESS: ADDRESS, ORCHESTRATE_CONTEXT: "prod", ORCHESTRATE_SERVER_KEY: "s", ORCHESTRATE_CLIENT_KEY: "c" }))
      .toMatchObject({ shared: { address: ADDRESS, context: "prod", serverKey: "s", clientKey: "c" } })
    // A flag wins over its variable.
    expect(parseInvocation(["ps", "--context", "dev"], { ORCHESTRATE_CONTEXT: "prod" })).toMatchObject({ shared: { context: "dev" } })
  })

  it("takes each command's common flags", () => {
    expect(parseInvocation(["status", "api"], {})).toMatchObject({ command: "status", agent: "api" })
    expect(parseInvocation(["history", "--limit", "20", "--category", "command", "--agent", "api", "--event", "E", "--after-seq", "0"], {}))
      .toMatchObject({ filters: { limit: 20, category: "command", all: false, agent: "api", event: "E", afterSeq: 0 } })
    expect(parseInvocation(["history", "--all"], {})).toMatchObject({ filters: { all: true, category: undefined } })
    expect(parseInvocation(["logs", "api", "worker", "-n", "5", "--since", "10m", "--stream", "stderr", "--timestamps", "--no-prefix"], {}))
      .toEqual(expect.objectContaining({
        logs: { agents: ["api", "worker"], lines: 5, since: "10m", stream: "stderr", timestamps: true, prefix: false }
      }))
    expect(parseInvocation(["logs"], {})).toMatchObject({ logs: { agents: [], lines: 100, prefix: true, timestamps: false } })
  })

  it("leaves to the full CLI everything else, and every form it cannot be sure of", () => {
    for (
      const argv of [
        [], ["up"], ["dependencies"], ["stop", "api"], ["--version"], ["ps", "--help"], ["ps", "-h"], ["ps", "--watch"],
        ["status", "--wait"], ["logs", "-f"], ["logs", "--follow"], ["history", "--follow"], ["ps", "--all-contexts"],
        ["ps", "--bogus"], ["ps", "extra"], ["status", "a", "b"], ["stauts"], ["ps", "--", "x"], ["--limit", "5", "history"],
        ["ps", "--timeout", "abc"], ["ps", "--timeout", "0"], ["ps", "--timeout", "1e3"], ["ps", "--timeout", "0.0005"],
        ["history", "--limit", "0"], ["history", "--limit", "-1"], ["history", "--category", "bogus"], ["logs", "-n", "0"],
        ["logs", "-n5"], ["logs", "-n=5"], ["ps", "--address", "nonsense"], ["ps", "--address"], ["ps", "--address", "--json"],
        ["ps", "--context", "-x"], ["ps", "--context", "bad name"], ["history", "--agent", ""], ["status", ""],
        ["status", "x".repeat(129)], ["ps", "--json", "true"], ["status", "--json", "1"], ["logs", "--timestamps", "no"],
        ["ps", "--json=true"], ["ps", "--json", "--json"], ["ps", "--timeout", "1", "--timeout", "2"],
        ["logs", "--prefix", "--no-prefix"], ["logs", "--lines", "5", "-n", "6"], ["ps", "--log-level", "debug"], ["ps", "-"]
      ]
    ) expect({ argv, invocation: parseInvocation(argv, {}) }).toEqual({ argv, invocation: undefined })
    for (const env of [{ ORCHESTRATE_ADDRESS: "" }, { ORCHESTRATE_ADDRESS: "nonsense" }, { ORCHESTRATE_CONTEXT: "" }, { ORCHESTRATE_CLIENT_KEY: "" }]) {
      expect({ env, invocation: parseInvocation(["ps"], env) }).toEqual({ env, invocation: undefined })
    }
  })

  it("makes request ids as crypto.randomUUID does: version 4, RFC 9562's variant, never twice the same", () => {
    expect(uuidOf(new Uint8Array(16).fill(0xff))).toBe("ffffffff-ffff-4fff-bfff-ffffffffffff")
    expect(uuidOf(new Uint8Array(16))).toBe("00000000-0000-4000-8000-000000000000")
    const ids = Array.from({ length: 1000 }, requestId)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
