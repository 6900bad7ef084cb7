/**
 * 7. What CURVE costs: round-trip latency of `ps` (10 agents) from a CURVE client signing every request
 * (`security/RequestSignature.ts`), against the same server without CURVE, in interleaved rounds. No target in
 * the issues; measured so that turning security on is a known price.
 */
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Zmq from "zeromq"
import { generateKeyPair, writeKeyPair } from "../src/security/keys.ts"
import { makeSigner } from "../src/security/RequestSignature.ts"
import { connect, sequential } from "./lib/clients.ts"
import { startServer } from "./lib/processes.ts"
import { compareLatency } from "./lib/compare.ts"

const PS = JSON.stringify({ command: "ps" })

export const security = async (options: { readonly rounds: number; readonly perRound: number }) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "bench-curve-"))
  const server = generateKeyPair()
  const client = generateKeyPair()
  Effect.runSync(writeKeyPair(Path.join(dir, "server.key"), server, { force: false }))
  Effect.runSync(writeKeyPair(Path.join(dir, "client.key"), client, { force: false }))
  const plain = await startServer("command-interface.ts", ["--agents", "10"])
  const secure = await startServer("command-interface.ts", ["--agents", "10", "--curve", dir])
  const plainClient = connect(plain.endpoint)
  const curveClient = new Zmq.Request({
    linger: 0,
    receiveTimeout: 30_000,
    curveServerKey: server.publicKey,
    curvePublicKey: client.publicKey,
    curveSecretKey: client.secretKey
  })
  curveClient.connect(secure.endpoint)
  const sign = makeSigner({ ...client, serverPublicKey: server.publicKey })
  const signed = () => [PS, sign(PS, Date.now())]
  const check = String((await sequential(curveClient, signed, 1)).last)
  if (!check.startsWith("{\"status\":\"success\"")) throw new Error(`the CURVE server refused the benchmark client: ${check}`)
  await sequential(plainClient, PS, 1000)
  await sequential(curveClient, signed, 1000)

  const result = await compareLatency(
    `CURVE + signed requests vs plain: ps (10 agents), ${options.rounds} x ${options.perRound} requests`,
    options.rounds,
    { label: "plain", run: async () => (await sequential(plainClient, PS, options.perRound)).times },
    { label: "CURVE", run: async () => (await sequential(curveClient, signed, options.perRound)).times }
  )
  plainClient.close()
  curveClient.close()
  await Promise.all([plain.stop(), secure.stop()])
  Fs.rmSync(dir, { recursive: true, force: true })
  return result
}
