/**
 * Small statistics and reporting helpers for the benchmarks.
 */
import * as Os from "node:os"

export const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

export const median = (values: ReadonlyArray<number>): number => percentile([...values].sort((a, b) => a - b), 50)

export const sortedCopy = (values: ReadonlyArray<number>): Array<number> => [...values].sort((a, b) => a - b)

/** The least-squares line through the points: the slope per unit of x, and where it crosses x = 0. */
export const linearFit = (points: ReadonlyArray<readonly [x: number, y: number]>): { readonly slope: number; readonly intercept: number } => {
  const n = points.length
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0)
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0)
  const slope = variance === 0 ? Number.NaN : covariance / variance
  return { slope, intercept: meanY - slope * meanX }
}

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

/** The machine's load over 1, 5 and 15 minutes, as /proc/loadavg writes it: printed beside figures it skews. */
export const loadAverage = (): string => Os.loadavg().map((load) => load.toFixed(2)).join(" ")
