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

/** The hash a line claims for itself, if it has one; a line without one is not a chained record. */
export const claimedHash = (line: string): string | undefined => HASH_MEMBER.exec(line)?.[1]

export type Verdict =
  | { readonly intact: true; readonly records: number; readonly firstSeq: number | null; readonly lastSeq: number | null; readonly lastHash: string }
  | { readonly intact: false; readonly records: number; readonly line: number; readonly detail: string }

const readRecord = (line: string): { readonly seq: number; readonly prev: string; readonly hash: string } | string => {
  const match = HASH_MEMBER.exec(line)
  const claimed = match?.[1]
  if (match === null || claimed === undefined) return "not a chained audit record (no hash at its end)"
  const content = `${line.slice(0, match.index)}}`
  if (sha256(content) !== claimed) return "was modified: its content does not match its hash"
  let record: unknown
  try {
    record = JSON.parse(content)
  } catch {
    return "is not valid JSON"
  }
  if (typeof record !== "object" || record === null || !("seq" in record) || !("prev" in record)) {
    return "has no seq or prev"
  }
  const { seq, prev } = record
  if (typeof seq !== "number" || !Number.isInteger(seq) || typeof prev !== "string") return "has an invalid seq or prev"
  return { seq, prev, hash: claimed }
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

  const fail = (line: number, detail: string) => {
    broken = { intact: false, records, line, detail }
  }

  const push = (line: string): void => {
    if (broken !== undefined) return
    lineNumber++
    if (line === "") {
      pendingBlank = true
      return
    }
    if (pendingBlank) return fail(lineNumber - 1, "is empty")
    const record = readRecord(line)
    if (typeof record === "string") return fail(lineNumber, record)
    if (previous === undefined) {
      if (record.prev !== GENESIS) {
        return fail(lineNumber, "does not start a chain (its prev is not the genesis hash): records before it were removed")
      }
      firstSeq = record.seq
    } else if (record.seq !== previous.seq + 1) {
      return fail(
        lineNumber,
        `has seq ${record.seq} after seq ${previous.seq}: records were ${record.seq > previous.seq + 1 ? "removed or moved" : "moved or inserted"}`
      )
    } else if (record.prev !== previous.hash) {
      return fail(lineNumber, `does not follow line ${lineNumber - 1} (its prev is not that record's hash): records were replaced`)
    }
    previous = { seq: record.seq, hash: record.hash }
    records++
  }

  const verdict = (): Verdict =>
    broken ?? { intact: true, records, firstSeq, lastSeq: previous?.seq ?? null, lastHash: previous?.hash ?? GENESIS }

  return { push, verdict }
}
