import { describe, expect, it } from "@effect/vitest"
import { chainLine, describeBreak, GENESIS, makeChainVerifier, type Verdict } from "../../src/security/auditChain.ts"

const chain = (count: number, firstSeq = 1): Array<string> => {
  const lines: Array<string> = []
  let prev = GENESIS
  for (let i = 0; i < count; i++) {
    const { line, hash } = chainLine({
      seq: firstSeq + i,
      time: new Date(Date.UTC(2026, 10, 24, 10, 0, i)).toISOString(),
      event: "COMMAND_EXECUTED",
      severity: "info",
      data: { command: "ps", args: [], code: 200, principal: "ops", n: i }
    }, prev)
    lines.push(line)
    prev = hash
  }
  return lines
}

const verdictOf = (lines: ReadonlyArray<string>): Verdict => {
  const verifier = makeChainVerifier()
  for (const line of lines) verifier.push(line)
  return verifier.verdict()
}

/** The verdict as `audit verify` reports it: a broken link with the verifier's account of it. */
const verify = (lines: ReadonlyArray<string>) => {
  const verdict = verdictOf(lines)
  return verdict.intact ? verdict : { intact: false, records: verdict.records, line: verdict.line, detail: describeBreak(verdict.broken) }
}

describe("hash-chained audit file", () => {
  it("links each record to the previous one's hash", () => {
    const lines = chain(3)
    const records = lines.map((line) => JSON.parse(line))
    expect(records[0]).toMatchObject({ seq: 1, prev: GENESIS })
    expect(records[1].prev).toBe(records[0].hash)
    expect(records[2].prev).toBe(records[1].hash)
    expect(verify(lines)).toEqual({ intact: true, records: 3, firstSeq: 1, lastSeq: 3, lastHash: records[2].hash })
    expect(verify([])).toEqual({ intact: true, records: 0, firstSeq: null, lastSeq: null, lastHash: GENESIS })
    expect(verify([...lines, ""])).toMatchObject({ intact: true, records: 3 })
  })

  it("finds an edited line, even one whose JSON still parses", () => {
    const lines = chain(5)
    lines[2] = (lines[2] ?? "").replace("\"principal\":\"ops\"", "\"principal\":\"eve\"")
    expect(verify(lines)).toEqual({ intact: false, records: 2, line: 3, detail: "was modified: its content does not match its hash" })
  })

  it("finds an edited line whose hash was recomputed, at the next line", () => {
    const lines = chain(5)
    const forged = JSON.parse(lines[1] ?? "")
    const { line } = chainLine({ ...forged, data: { ...forged.data, code: 403 } }, forged.prev)
    lines[1] = line
    expect(verify(lines)).toMatchObject({ intact: false, records: 2, line: 3, detail: expect.stringContaining("records were replaced") })
  })

  it("finds a deleted line", () => {
    const lines = chain(5)
    lines.splice(2, 1)
    expect(verify(lines)).toMatchObject({ intact: false, records: 2, line: 3, detail: "has seq 4 after seq 2: records were removed or moved" })
    expect(verdictOf(lines)).toMatchObject({ broken: { _tag: "SeqOutOfOrder", seq: 4, previousSeq: 2 } })
  })

  it("finds reordered lines", () => {
    const lines = chain(5)
    const [third, fourth] = [lines[2] ?? "", lines[3] ?? ""]
    lines[2] = fourth
    lines[3] = third
    expect(verify(lines)).toMatchObject({ intact: false, line: 3, detail: "has seq 4 after seq 2: records were removed or moved" })
    const swappedFirst = chain(3)
    expect(verify([swappedFirst[1] ?? "", swappedFirst[0] ?? ""])).toMatchObject({ intact: false, line: 1 })
  })

  it("finds removed leading records, inserted blank lines and foreign lines", () => {
    expect(verify(chain(5).slice(2))).toMatchObject({ intact: false, line: 1, detail: expect.stringContaining("records before it were removed") })
    const blank = chain(3)
    blank.splice(1, 0, "")
    expect(verify(blank)).toMatchObject({ intact: false, line: 2, detail: "is empty" })
    expect(verify([...chain(2), "{\"seq\":3}"])).toMatchObject({ intact: false, line: 3, detail: "is not a chained audit record (no hash at its end)" })
  })
})
