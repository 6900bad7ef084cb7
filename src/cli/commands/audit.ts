import { Console, Effect, FileSystem, Schema, Stream } from "effect"
import { Argument, Command } from "effect/cli"
import { ChainBreak, describeBreak, makeChainVerifier } from "../../security/auditChain.ts"
import { UnreadableAuditFile, UsageError } from "../errors.ts"
import { currentStyle, details } from "../output.ts"
import { root } from "../root.ts"

/** The audit file's chain is broken at `line`: it was edited, or records were removed, inserted or reordered. */
export class AuditChainBroken extends Schema.TaggedError<AuditChainBroken>()("AuditChainBroken", {
  file: Schema.String,
  line: Schema.Number,
  broken: ChainBreak,
  intactRecords: Schema.Number
}) {
  override get message(): string {
    const intact = this.intactRecords === 0
      ? "no record before it"
      : this.intactRecords === 1
      ? "the record before it is intact"
      : `the ${this.intactRecords} records before it are intact`
    return `${this.file}: line ${this.line} ${describeBreak(this.broken)} (${intact})`
  }
}

const verifyFile = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const verifier = makeChainVerifier()
  yield* fs.stream(file).pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.runForEach((line) => Effect.sync(() => verifier.push(line))),
    Effect.mapError((cause) => new UsageError({ reason: new UnreadableAuditFile({ path: file, cause }) }))
  )
  return verifier.verdict()
})

const verify = Command.make("verify", {
  file: Argument.String("file").pipe(Argument.withDescription("The audit file (commandInterface.auditFile)"))
}, ({ file }) =>
  Effect.gen(function*() {
    const flags = yield* root
    const verdict = yield* verifyFile(file)
    // The verifier's account of the first broken link is `detail`, as people read it.
    if (flags.json) {
      yield* Console.log(JSON.stringify(
        verdict.intact ? { file, ...verdict } : { file, intact: false, records: verdict.records, line: verdict.line, detail: describeBreak(verdict.broken) }
      ))
    }
    if (!verdict.intact) {
      return yield* new AuditChainBroken({ file, line: verdict.line, broken: verdict.broken, intactRecords: verdict.records })
    }
    if (flags.json) return
    yield* Console.log(details([
      ["file", `${file}: intact`],
      ["records", verdict.records === 0 ? "none" : `${verdict.records} (seq ${verdict.firstSeq} to ${verdict.lastSeq})`],
      ["last hash", verdict.lastHash]
    ], yield* currentStyle))
  })).pipe(
    Command.withDescription(
      "Check an audit file's hash chain and report its first broken link (exit 1). Keep the last hash it prints " +
        "somewhere else: a file rewritten whole, or cut short, is only caught against it"
    ),
    Command.withExamples([{ command: "orchestrate audit verify /var/log/orchestrate/audit.ndjson", description: "Was the audit trail tampered with?" }])
  )

export const audit = Command.make("audit").pipe(
  Command.withDescription("Work with the command interface's audit file"),
  Command.withSubcommands([verify])
)
