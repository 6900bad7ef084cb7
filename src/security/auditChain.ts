/**
 * The audit file's format: NDJSON, one record per line, each record chained to the one before it.
 *
 *     {"seq":7,"time":"2026-11-24T10:00:00.000Z","event":"COMMAND_EXECUTED","severity":"info","data":{...},
 *      "prev":"<hash of record 6>","hash":"<hash of this record>"}
 *
 * `hash` is the SHA-256 (hex) of the line's exact text without its `,"hash":"..."` member, that is the line up to
 * `"prev":"..."` followed by `}`; the first record's `prev` is 64 zeros. Editing a record breaks its own hash;
 * deleting, inserting or reordering records breaks the next record's `prev` and the run of `seq`. Anyone able to
 * rewrite the whole file can recompute every hash, so keep the last hash (`orchestrate audit verify` prints it)
 * somewhere else to detect that, and truncation.
 */
import { Result, Schema } from "effect"
import * as Crypto from "node:crypto"

export const GENESIS = "0".repeat(64)

export interface AuditEntry {
  readonly seq: number
  readonly time: string
  readonly event: string
  readonly severity: string
  readonly data: unknown
}

const sha256 = (text: string): string => Crypto.createHash("sha256").update(text, "utf8").digest("hex")

const HASH_MEMBER = /,"hash":"([0-9a-f]{64})"\}$/

/** The line for `entry` following the record whose hash is `prev`, and the new record's hash. */
export const chainLine = (entry: AuditEntry, prev: string): { readonly line: string; readonly hash: string } => {
  const content = JSON.stringify({ ...entry, prev })
  const hash = sha256(content)
  return { line: `${content.slice(0, -1)},"hash":"${hash}"}`, hash }
}

/** A line split into its content (the text the hash covers) and the hash it claims; undefined without one. */
const split = (line: string): { readonly content: string; readonly hash: string } | undefined => {
  const match = HASH_MEMBER.exec(line)
  const hash = match?.[1]
  return match === null || hash === undefined ? undefined : { content: `${line.slice(0, match.index)}}`, hash }
}

/** What links a record into the chain: its own seq, and the hash of the record before it. */
const Link = Schema.Struct({ seq: Schema.Int, prev: Schema.String })
const decodeLink = Schema.decodeUnknownResult(Schema.fromJsonString(Link))
// Only to say why a content that is no link is not one.
const decodeJson = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Unknown))
const hasLinkMembers = Schema.is(Schema.Struct({ seq: Schema.Unknown, prev: Schema.Unknown }))

export interface ChainLink {
  readonly seq: number
  readonly prev: string
  readonly hash: string
}

/**
 * The seq, prev and hash a line claims, if it is a chained record. The hash is not checked: this is where a new
 * record is chained on, and `orchestrate audit verify` is what checks.
 */
export const claimedLink = (line: string): ChainLink | undefined => {
  const parts = split(line)
  if (parts === undefined) return undefined
  const link = decodeLink(parts.content)
  return Result.isSuccess(link) ? { seq: link.success.seq, prev: link.success.prev, hash: parts.hash } : undefined
}

/** How a chain breaks at a line: what was done to the file, as far as the line shows. */
export const ChainBreak = Schema.Union([
  Schema.TaggedStruct("NoHash", {}),
  Schema.TaggedStruct("Modified", {}),
  Schema.TaggedStruct("NotJson", {}),
  Schema.TaggedStruct("InvalidLink", {}),
  Schema.TaggedStruct("NoLink", {}),
  Schema.TaggedStruct("EmptyLine", {}),
  Schema.TaggedStruct("NoGenesis", {}),
  Schema.TaggedStruct("SeqOutOfOrder", { seq: Schema.Number, previousSeq: Schema.Number }),
  Schema.TaggedStruct("PrevMismatch", { previousLine: Schema.Number })
])
export type ChainBreak = typeof ChainBreak.Type

export const describeBreak = (broken: ChainBreak): string => {
  switch (broken._tag) {
    case "NoHash":
      return "is not a chained audit record (no hash at its end)"
    case "Modified":
      return "was modified: its content does not match its hash"
    case "NotJson":
      return "is not valid JSON"
    case "InvalidLink":
      return "has an invalid seq or prev"
    case "NoLink":
      return "has no seq or prev"
    case "EmptyLine":
      return "is empty"
    case "NoGenesis":
      return "does not start a chain (its prev is not the genesis hash): records before it were removed"
    case "SeqOutOfOrder":
      return `has seq ${broken.seq} after seq ${broken.previousSeq}: records were ${broken.seq > broken.previousSeq + 1 ? "removed or moved" : "moved or inserted"}`
    case "PrevMismatch":
      return `does not follow line ${broken.previousLine} (its prev is not that record's hash): records were replaced`
  }
}

export type Verdict =
  | { readonly intact: true; readonly records: number; readonly firstSeq: number | null; readonly lastSeq: number | null; readonly lastHash: string }
  | { readonly intact: false; readonly records: number; readonly line: number; readonly broken: ChainBreak }

const readRecord = (line: string): ChainLink | ChainBreak => {
  const parts = split(line)
  if (parts === undefined) return { _tag: "NoHash" }
  if (sha256(parts.content) !== parts.hash) return { _tag: "Modified" }
  const link = decodeLink(parts.content)
  if (Result.isSuccess(link)) return { seq: link.success.seq, prev: link.success.prev, hash: parts.hash }
  const json = decodeJson(parts.content)
  if (Result.isFailure(json)) return { _tag: "NotJson" }
  return hasLinkMembers(json.success) ? { _tag: "InvalidLink" } : { _tag: "NoLink" }
}

/**
 * Checks a file's lines in order and stops at the first broken link. Feed it every line (without its newline),
 * then ask for the verdict.
 */
export const makeChainVerifier = () => {
  let lineNumber = 0
  let records = 0
  let previous: { readonly seq: number; readonly hash: string } | undefined
  let firstSeq: number | null = null
  let broken: Verdict | undefined
  let pendingBlank = false

  const fail = (line: number, reason: ChainBreak) => {
    broken = { intact: false, records, line, broken: reason }
  }

  const push = (line: string): void => {
    if (broken !== undefined) return
    lineNumber++
    if (line === "") {
      pendingBlank = true
      return
    }
    if (pendingBlank) return fail(lineNumber - 1, { _tag: "EmptyLine" })
    const record = readRecord(line)
    if ("_tag" in record) return fail(lineNumber, record)
    if (previous === undefined) {
      if (record.prev !== GENESIS) return fail(lineNumber, { _tag: "NoGenesis" })
      firstSeq = record.seq
    } else if (record.seq !== previous.seq + 1) {
      return fail(lineNumber, { _tag: "SeqOutOfOrder", seq: record.seq, previousSeq: previous.seq })
    } else if (record.prev !== previous.hash) {
      return fail(lineNumber, { _tag: "PrevMismatch", previousLine: lineNumber - 1 })
    }
    previous = { seq: record.seq, hash: record.hash }
    records++
  }

  const verdict = (): Verdict =>
    broken ?? { intact: true, records, firstSeq, lastSeq: previous?.seq ?? null, lastHash: previous?.hash ?? GENESIS }

  return { push, verdict }
}
