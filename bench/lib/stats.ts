/**
 * Small statistics and reporting helpers for the benchmarks.
 */

export const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

export const median = (values: ReadonlyArray<number>): number => percentile([...values].sort((a, b) => a - b), 50)

export const sortedCopy = (values: ReadonlyArray<number>): Array<number> => [...values].sort((a, b) => a - b)

/** Prints rows as an aligned table. */
export const printTable = (title: string, headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): void => {
  const all = [headers, ...rows]
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)))
  console.log(`\n${title}`)
  for (const row of all) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd())
}

export const micros = (value: number): string => `${value.toFixed(0)} µs`
export const ratio = (value: number): string => `${value.toFixed(2)}x`
export const verdict = (met: boolean): string => met ? "met" : "NOT MET"
