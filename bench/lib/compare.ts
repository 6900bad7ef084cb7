/**
 * Latency of a candidate against a baseline, measured in interleaved rounds (alternating which goes first, so that
 * neither always gets the warmer machine), reported per round and as medians.
 */
import { median, micros, percentile, printTable, ratio, sortedCopy } from "./stats.ts"

export interface Contender {
  readonly label: string
  /** One round: every round trip, in microseconds. */
  readonly run: () => Promise<ReadonlyArray<number>>
}

export interface Round {
  readonly baselineP50: number
  readonly baselineP99: number
  readonly candidateP50: number
  readonly candidateP99: number
}

export const compareLatency = async (
  title: string,
  rounds: number,
  baseline: Contender,
  candidate: Contender
): Promise<{ readonly rounds: ReadonlyArray<Round>; readonly p50Ratio: number; readonly p99Ratio: number }> => {
  const results: Array<Round> = []
  for (let round = 0; round < rounds; round++) {
    const first = round % 2 === 0 ? baseline : candidate
    const second = first === baseline ? candidate : baseline
    const times = new Map<Contender, Array<number>>()
    for (const contender of [first, second]) times.set(contender, sortedCopy(await contender.run()))
    const of = (contender: Contender) => times.get(contender) ?? []
    results.push({
      baselineP50: percentile(of(baseline), 50),
      baselineP99: percentile(of(baseline), 99),
      candidateP50: percentile(of(candidate), 50),
      candidateP99: percentile(of(candidate), 99)
    })
  }
  const p50Ratio = median(results.map((r) => r.candidateP50 / r.baselineP50))
  const p99Ratio = median(results.map((r) => r.candidateP99 / r.baselineP99))
  const row = (label: string, r: Round, p50: number, p99: number) =>
    [label, micros(r.baselineP50), micros(r.baselineP99), micros(r.candidateP50), micros(r.candidateP99), ratio(p50), ratio(p99)]
  const medianOf = (key: keyof Round) => median(results.map((r) => r[key]))
  printTable(
    title,
    ["round", `${baseline.label} p50`, `${baseline.label} p99`, `${candidate.label} p50`, `${candidate.label} p99`, "p50 ratio", "p99 ratio"],
    [
      ...results.map((r, i) => row(String(i + 1), r, r.candidateP50 / r.baselineP50, r.candidateP99 / r.baselineP99)),
      row("median", {
        baselineP50: medianOf("baselineP50"),
        baselineP99: medianOf("baselineP99"),
        candidateP50: medianOf("candidateP50"),
        candidateP99: medianOf("candidateP99")
      }, p50Ratio, p99Ratio)
    ]
  )
  return { rounds: results, p50Ratio, p99Ratio }
}
