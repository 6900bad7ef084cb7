/**
 * How agents' lines look on a terminal, for `logs` and for `up` in the foreground: `name | line`, names padded to
 * one width and coloured per agent on a terminal (as `docker compose` does), the orchestrator's notes (a restart) as
 * one marked line; or exactly what the agent wrote, without a prefix.
 */
import { DateTime } from "effect"
import { LineBuffer } from "../logs/LineBuffer.ts"
import { type LogBatch, linesOf } from "../logs/LogStore.ts"
import { type LogLayout, linePrefix, renderLogLine } from "./logLine.ts"
import type { Style } from "./style.ts"

export { type LogLayout, renderLogLine } from "./logLine.ts"

/** Lines rendered for `lineWriter`: text or bytes holding `count` lines, each ending with "\n". */
export interface RenderedLines {
  readonly data: string | Uint8Array
  readonly count: number
}

export const renderedTexts = (texts: ReadonlyArray<string>): RenderedLines => ({
  data: texts.length === 0 ? "" : `${texts.join("\n")}\n`,
  count: texts.length
})

/**
 * Batches of agents' lines as `renderLogLine` renders each, for `up` in the foreground: the agents' bytes with the
 * batch's prefix copied before each line, into `rendered`, never a string per line.
 */
export const renderBatches = (
  batches: ReadonlyArray<LogBatch>,
  width: number,
  layout: LogLayout,
  rendered: LineBuffer = new LineBuffer()
): RenderedLines => {
  let count = 0
  for (const batch of batches) {
    const timestamp = DateTime.makeUnsafe(batch.timestamp)
    if (batch.stream === "orchestrator") {
      for (const line of linesOf(batch)) {
        const text = renderLogLine({ ...line, timestamp }, width, layout)
        if (text === undefined) continue
        rendered.appendText(`${text}\n`)
        count++
      }
    } else {
      rendered.appendPrefixed(batch.lines, linePrefix(batch.agent, timestamp, width, layout))
      count += batch.lines.count
    }
  }
  return { data: rendered.bytes.subarray(0, rendered.length), count }
}

/** What `lineWriter` needs of a stream: Node's `process.stdout`, or a fake in a test. */
export interface LineOutput {
  /** True once the stream holds more unwritten data than it wants: a pipe nobody reads, a stopped terminal. */
  readonly writableNeedDrain: boolean
  /** How much it holds, not written yet. */
  readonly writableLength: number
  readonly write: (data: string | Uint8Array) => boolean
  readonly once: (event: "drain", listener: () => void) => unknown
}

/**
 * Writes rendered lines to `output` as long as it keeps up; while it does not, drops them and counts them, and once
 * it has drained says how many it dropped, on one dim line. For `up`, which shows agents' output as a courtesy:
 * every line is kept for `orchestrate logs` whatever happens here, and an orchestrator must not hold an unbounded
 * queue of text for a reader that stopped reading. Lines are dropped whole, in the batches they came in.
 */
export const lineWriter = (output: LineOutput, style: Style): (lines: RenderedLines) => void => {
  let hidden = 0
  let waiting = false
  const drained = () => {
    waiting = false
    if (hidden === 0) return
    const count = hidden
    hidden = 0
    output.write(`${style.dim(`--- ${count} ${count === 1 ? "line" : "lines"} not shown here (they are kept: orchestrate logs) ---`)}\n`)
  }
  return (lines) => {
    if (lines.count === 0) return
    if (output.writableNeedDrain) {
      hidden += lines.count
      if (!waiting) {
        waiting = true
        output.once("drain", drained)
      }
      return
    }
    output.write(lines.data)
  }
}

/**
 * `up`'s printer of agents' lines (renderBatches, then lineWriter). It renders into one buffer, reused as long as the
 * stream writes what it is given at once (a file, /dev/null, a pipe or terminal that blocks), and into a fresh one
 * after the stream kept it to write later (a terminal `up` made non-blocking): a buffer per chunk of an agent's
 * output, left to the collector, adds up outside V8's heap and costs full collections (see ByteRing).
 */
export const batchPrinter = (output: LineOutput, width: number, layout: LogLayout): (batches: ReadonlyArray<LogBatch>) => void => {
  const show = lineWriter(output, layout.style)
  let rendered = new LineBuffer()
  return (batches) => {
    rendered.clear(1024 * 1024)
    show(renderBatches(batches, width, layout, rendered))
    if (output.writableLength > 0) rendered = new LineBuffer()
  }
}
