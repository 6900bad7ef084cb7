import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { fingerprint, generateKeyPair, writeKeyPair } from "../../security/keys.ts"
import { currentStyle, details } from "../output.ts"
import { root } from "../root.ts"

export const keygen = Command.make("keygen", {
  file: Argument.String("file").pipe(
    Argument.withDescription("Where to write the key pair (mode 0600); the public key goes to <file>.pub")
  ),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("Replace the files if they exist"))
}, ({ file, force }) =>
  Effect.gen(function*() {
    const flags = yield* root
    const pair = generateKeyPair()
    yield* writeKeyPair(file, pair, { force })
    const written = {
      keyFile: file,
      publicKeyFile: `${file}.pub`,
      publicKey: pair.publicKey,
      fingerprint: fingerprint(pair.publicKey)
    }
    yield* Console.log(
      flags.json
        ? JSON.stringify(written)
        : details([
          ["key pair", `${written.keyFile} (secret: keep it there, mode 0600)`],
          ["public key", `${written.publicKeyFile} (share it)`],
          ["key", written.publicKey],
          ["fingerprint", written.fingerprint]
        ], yield* currentStyle)
    )
  })).pipe(
    Command.withDescription(
      "Write a new CURVE key pair: for an orchestrator (commandInterface.curve.keyFile) or for a client " +
        "(--client-key, and its public key in the orchestrator's principals)"
    ),
    Command.withExamples([
      { command: "orchestrate keygen server.key", description: "The orchestrator's key pair, and server.key.pub for its clients" },
      { command: "orchestrate keygen ~/.config/orchestrate/ops.key", description: "A client's key pair; add ops.key.pub's key to a principal" }
    ])
  )
