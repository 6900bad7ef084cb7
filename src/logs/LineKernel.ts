/**
 * The per-line work of keeping a flood of output, in WebAssembly, with no JavaScript call per line:
 * - `scanLines` finds where the lines of a chunk start and end (without their "\n", or "\r\n"), sixteen bytes at a
 *   time. Through `Buffer.indexOf` (a call per line, each looking up the ArrayBuffer behind the view) that scan
 *   was the largest single cost of benchmark 8, and about 20% of the orchestrator's CPU went away with it.
 * - `formatLines` writes lines each after a prefix and with a "\n" (log files, `up`'s terminal), sixteen bytes at a
 *   time: about 15 ns a line of 100 bytes, copies in and out included, against about 35 for `set` and `copyWithin`
 *   from JavaScript (V8 runs the latter in C++, a call into the runtime every time).
 * - Log files' buffers can be slots of the module's memory (`takeSlot`): lines are formatted straight into them, and
 *   the write reads them from there, with no copy out. That copy was 133 MB in benchmark 8 with files on, a sixth of
 *   the orchestrator's CPU (bench/README.md).
 *
 * The module is assembled here from its instructions (Wasm.ts; the comments give them in the text format). Where
 * WebAssembly or its SIMD instructions are missing, `scanLines` gives the same answers from `Buffer.indexOf`, and
 * `formatLines` leaves the lines to LineBuffer's JavaScript; the tests compare both ways.
 */
import type { ByteLines } from "./ByteLines.ts"
import {
  add, and, assemble, block, br, brIf, ctz, end, eq, eqz, geU, get, gtU, i32, i8x16Bitmask, i8x16Eq, i8x16Splat, ifThen, load, load8, loop,
  ret, set, shl, store, store8, sub, v128Load, v128Store
} from "./Wasm.ts"

/** Bytes scanned per call, and bytes of lines formatted per call, at most. */
export const WINDOW = 256 * 1024
/** Lines found, or formatted, per call at most. */
export const CAPACITY = 32 * 1024
/** The longest prefix `formatLines` takes. */
export const MAX_PREFIX = 256
const OUTPUT_BYTES = 1024 * 1024

const NEWLINE = 0x0a
const RETURN = 0x0d

// Where things are in the module's memory: the results of a scan; a chunk's bytes (with 16 bytes of zeros after
// them, so that the last block a scan reads holds no line break from earlier bytes); the lines' ranges; a prefix; the
// formatted lines.
const HEADER = 0
const INPUT = 64
const STARTS = INPUT + WINDOW + 16
const ENDS = STARTS + CAPACITY * 4
const PREFIX = ENDS + CAPACITY * 4
const OUTPUT = PREFIX + MAX_PREFIX
/**
 * Lines formatted from other bytes than the chunk just scanned (the line a chunk ends, begun in the one before: it
 * comes first), up to this many bytes, are copied here rather than over the chunk, which then needs no copy in again.
 */
const ASIDE_BYTES = 64 * 1024
const ASIDE = OUTPUT + OUTPUT_BYTES + 16
/**
 * Log files' buffers in the module's memory (`takeSlot`), each followed by room for the bytes a copy writes past
 * what it copies. As many as one agent writing a flood uses while its disk keeps up and when it falls behind
 * (AgentLogFile); another agent flooding at the same time gets buffers of its own, and copies into them. Pages of
 * the memory are only taken once written, but are not given back: at most SLOTS * SLOT_BYTES once floods have used
 * every slot.
 */
export const SLOT_BYTES = 512 * 1024
const SLOT_STRIDE = SLOT_BYTES + 64
const SLOTS = 24
const SLOT_AREA = Math.ceil((ASIDE + ASIDE_BYTES + 16) / 64) * 64
const PAGES = Math.ceil((SLOT_AREA + SLOTS * SLOT_STRIDE) / 65536)

/** Why a scan stopped: the window's end (what follows `next` has no line break), the lines it can hold, a line too long. */
export type ScanStop = "end" | "full" | "long"
const STOPS: ReadonlyArray<ScanStop> = ["end", "full", "long"]

export interface Scan {
  /** Lines found: line `i` is `[starts[i], ends[i])` of the chunk. Owned by the caller. */
  readonly starts: Int32Array
  readonly ends: Int32Array
  /** Where the scan stopped: the start of the first line it did not give. */
  readonly next: number
  readonly stop: ScanStop
  /** With "long": the "\n" that ends the line at `next`, which is longer than the limit. */
  readonly newline: number
}

// lines(base, length, limit) -> count. Parameters 0-2, then locals.
const BASE = 0
const LENGTH = 1
const LIMIT = 2
const AT = 3 // the block of 16 bytes being looked at
const STOP = 4 // INPUT + length
const FROM = 5 // where the current line starts
const COUNT = 6
const BITS = 7 // the line breaks of the block not handled yet, one bit each
const BREAK = 8 // the line break being handled
const LINE_END = 9

/** (i32.store offset=HEADER+at (local - INPUT + base)): an address in the window, as an offset in the chunk. */
const storeOffset = (at: number, local: number) => [...i32(0), ...get(local), ...i32(INPUT), ...sub, ...get(BASE), ...add, ...store(HEADER + at)]

/** Notes where and why the scan stopped, and returns the count. */
const stopWith = (stop: ScanStop) => [
  ...storeOffset(0, FROM),
  ...i32(0), ...i32(STOPS.indexOf(stop)), ...store(HEADER + 4),
  ...storeOffset(8, BREAK),
  ...get(COUNT), ...ret
]

const scanBody = [
  // (local.set $at INPUT) (local.set $from INPUT) (local.set $stop (i32.add INPUT $length))
  ...i32(INPUT), ...set(AT),
  ...i32(INPUT), ...set(FROM),
  ...i32(INPUT), ...get(LENGTH), ...add, ...set(STOP),
  ...block, // $done
  ...loop, // $blocks
  // (br_if $done (i32.ge_u $at $stop))
  ...get(AT), ...get(STOP), ...geU, ...brIf(1),
  // (local.set $bits (i8x16.bitmask (i8x16.eq (v128.load $at) (i8x16.splat 10))))
  ...get(AT), ...v128Load, ...i32(NEWLINE), ...i8x16Splat, ...i8x16Eq, ...i8x16Bitmask, ...set(BITS),
  ...block, // $blockDone
  ...loop, // $breaks
  // (br_if $blockDone (i32.eqz $bits))
  ...get(BITS), ...eqz, ...brIf(1),
  // (local.set $break (i32.add $at (i32.ctz $bits))) (local.set $bits (i32.and $bits (i32.sub $bits 1)))
  ...get(AT), ...get(BITS), ...ctz, ...add, ...set(BREAK),
  ...get(BITS), ...get(BITS), ...i32(1), ...sub, ...and, ...set(BITS),
  // The line ends before its "\r\n", or its "\n": $lineEnd is $break, less one after a "\r" within the line.
  ...get(BREAK), ...set(LINE_END),
  ...get(BREAK), ...get(FROM), ...gtU, ...get(BREAK), ...i32(1), ...sub, ...load8, ...i32(RETURN), ...eq, ...and,
  ...ifThen, ...get(BREAK), ...i32(1), ...sub, ...set(LINE_END), ...end,
  // (if (i32.gt_u (i32.sub $lineEnd $from) $limit) (then stop "long")): the caller splits it.
  ...get(LINE_END), ...get(FROM), ...sub, ...get(LIMIT), ...gtU,
  ...ifThen, ...stopWith("long"), ...end,
  // (i32.store offset=STARTS (i32.shl $count 2) $from) and the same of $lineEnd at ENDS, as offsets in the chunk
  ...get(COUNT), ...i32(2), ...shl, ...get(FROM), ...i32(INPUT), ...sub, ...get(BASE), ...add, ...store(STARTS),
  ...get(COUNT), ...i32(2), ...shl, ...get(LINE_END), ...i32(INPUT), ...sub, ...get(BASE), ...add, ...store(ENDS),
  ...get(COUNT), ...i32(1), ...add, ...set(COUNT),
  ...get(BREAK), ...i32(1), ...add, ...set(FROM),
  ...get(COUNT), ...i32(CAPACITY), ...eq,
  ...ifThen, ...stopWith("full"), ...end,
  ...br(0), // $breaks
  ...end,
  ...end, // $blockDone
  ...get(AT), ...i32(16), ...add, ...set(AT),
  ...br(0), // $blocks
  ...end,
  ...end, // $done
  ...stopWith("end")
]

// format(count, first, prefixLength, target) -> bytes written at target. Parameters 0-3, then locals.
const LINES = 0
const FIRST = 1
const PREFIX_LENGTH = 2
const TARGET = 3
const INDEX = 4
const OUT = 5
const START = 6
const FINISH = 7 // where the line ends, then how long it is
const DONE = 8 // bytes copied so far

/** (local.set $local (i32.add (i32.sub (i32.load offset=table (i32.shl $index 2)) $first) INPUT)) */
const lineAddress = (table: number, local: number) => [...get(INDEX), ...i32(2), ...shl, ...load(table), ...get(FIRST), ...sub, ...i32(INPUT), ...add, ...set(local)]

/**
 * Copies `length` bytes from `source` to $out sixteen at a time, writing up to 15 bytes past them (what comes next
 * overwrites those; the regions have room for them): for lines of tens of bytes, far cheaper than memory.copy, a call
 * into the runtime each time.
 */
const copyToOut = (source: ReadonlyArray<number>, length: ReadonlyArray<number>) => [
  ...i32(0), ...set(DONE),
  ...block, // $copied
  ...loop, // $blocks
  // (br_if $copied (i32.ge_u $done length)) (v128.store (i32.add $out $done) (v128.load (i32.add source $done)))
  ...get(DONE), ...length, ...geU, ...brIf(1),
  ...get(OUT), ...get(DONE), ...add, ...source, ...get(DONE), ...add, ...v128Load, ...v128Store,
  ...get(DONE), ...i32(16), ...add, ...set(DONE),
  ...br(0), // $blocks
  ...end,
  ...end // $copied
]

const formatBody = [
  ...get(TARGET), ...set(OUT),
  ...block, // $done
  ...loop, // $lines
  // (br_if $done (i32.ge_u $index $count))
  ...get(INDEX), ...get(LINES), ...geU, ...brIf(1),
  // The prefix, then (local.set $out (i32.add $out $prefixLength))
  ...copyToOut(i32(PREFIX), get(PREFIX_LENGTH)),
  ...get(OUT), ...get(PREFIX_LENGTH), ...add, ...set(OUT),
  ...lineAddress(STARTS, START),
  ...lineAddress(ENDS, FINISH),
  // The line, then (local.set $out (i32.add $out (i32.sub $finish $start)))
  ...get(FINISH), ...get(START), ...sub, ...set(FINISH),
  ...copyToOut(get(START), get(FINISH)),
  ...get(OUT), ...get(FINISH), ...add, ...set(OUT),
  // (i32.store8 $out 10) (local.set $out (i32.add $out 1)) (local.set $index (i32.add $index 1))
  ...get(OUT), ...i32(NEWLINE), ...store8,
  ...get(OUT), ...i32(1), ...add, ...set(OUT),
  ...get(INDEX), ...i32(1), ...add, ...set(INDEX),
  ...br(0), // $lines
  ...end,
  ...end, // $done
  ...get(OUT), ...get(TARGET), ...sub
]

const MODULE = assemble(PAGES, [
  { name: "lines", params: 3, locals: 7, body: scanBody },
  { name: "format", params: 4, locals: 5, body: formatBody }
])

/** What this module uses of the WebAssembly API (the project's TypeScript libraries do not declare it). */
interface WebAssemblyApi {
  readonly Module: new(bytes: Uint8Array) => object
  readonly Instance: new(module: object) => { readonly exports: Record<string, unknown> }
  readonly Memory: new(descriptor: { readonly initial: number }) => { readonly buffer: ArrayBuffer }
}

type Call = (a: number, b: number, c: number) => number
type Format = (count: number, first: number, prefixLength: number, target: number) => number

interface Instance {
  readonly buffer: ArrayBuffer
  readonly bytes: Uint8Array
  readonly words: Int32Array
  readonly lines: Call
  readonly format: Format
}

const instantiate = (): Instance | undefined => {
  const api: unknown = Reflect.get(globalThis, "WebAssembly")
  if (typeof api !== "object" || api === null) return undefined
  try {
    const { Instance, Memory, Module } = api as WebAssemblyApi
    const { exports } = new Instance(new Module(MODULE))
    const memory = exports["memory"]
    const lines = exports["lines"]
    const format = exports["format"]
    if (!(memory instanceof Memory) || typeof lines !== "function" || typeof format !== "function") return undefined
    const { buffer } = memory
    return { buffer, bytes: new Uint8Array(buffer), words: new Int32Array(buffer), lines: lines as Call, format: format as Format }
  } catch {
    // No SIMD (an old CPU, or a runtime without it).
    return undefined
  }
}

const instance = instantiate()

/** The slots no log file holds (their offsets in the module's memory). The memory never grows, so views stay valid. */
const freeSlots: Array<number> = instance === undefined ? [] : Array.from({ length: SLOTS }, (_, index) => SLOT_AREA + (SLOTS - 1 - index) * SLOT_STRIDE)

/**
 * A buffer of SLOT_BYTES in the module's memory, which `formatLines` formats into with no copy out; undefined when
 * every slot is taken, or where the module cannot run. Its holder gives it back (`giveBackSlot`) once nothing reads
 * or writes it any more: a write in flight still reads it.
 */
export const takeSlot = (): Buffer | undefined => {
  const offset = freeSlots.pop()
  return instance === undefined || offset === undefined ? undefined : Buffer.from(instance.buffer, offset, SLOT_BYTES)
}

/** Whether `buffer` is a slot of the module's memory. */
export const isSlot = (buffer: Buffer): boolean => instance !== undefined && buffer.buffer === instance.buffer && buffer.byteOffset >= SLOT_AREA

/** Gives a slot back, for the next `takeSlot`. */
export const giveBackSlot = (slot: Buffer): void => {
  if (isSlot(slot) && !freeSlots.includes(slot.byteOffset)) freeSlots.push(slot.byteOffset)
}

/** Slots no one holds (for the tests). */
export const freeSlotCount = (): number => freeSlots.length

/**
 * What the module's input holds: `bytes[from, to)`, as the last scan (or format) copied it there. Lines formatted
 * right after their chunk was scanned (a log file, `up`'s terminal) are not copied in again.
 */
let loaded: { readonly bytes: Buffer; readonly from: number; readonly to: number } | undefined

/** Where `scanLinesByIndexOf` notes the lines it finds, before it copies them out. */
const foundStarts = new Int32Array(CAPACITY)
const foundEnds = new Int32Array(CAPACITY)

/** `scanLines` by `Buffer.indexOf`: where the module cannot run, and what the tests compare it with. */
export const scanLinesByIndexOf = (chunk: Buffer, from: number, to: number, limit: number): Scan => {
  let count = 0
  let start = from
  const found = (next: number, stop: ScanStop, newline: number): Scan => ({
    starts: foundStarts.slice(0, count),
    ends: foundEnds.slice(0, count),
    next,
    stop,
    newline
  })
  for (let newline = chunk.indexOf(NEWLINE, from); newline !== -1 && newline < to; newline = chunk.indexOf(NEWLINE, start)) {
    const lineEnd = newline > start && chunk[newline - 1] === RETURN ? newline - 1 : newline
    if (lineEnd - start > limit) return found(start, "long", newline)
    foundStarts[count] = start
    foundEnds[count] = lineEnd
    count++
    start = newline + 1
    if (count === CAPACITY) return found(start, "full", -1)
  }
  return found(start, "end", -1)
}

/**
 * The lines of `chunk[from, to)` (at most WINDOW bytes), oldest first, up to the first of: the end (the bytes after
 * `next` hold no line break), CAPACITY lines, or a line of more than `limit` bytes.
 */
export const scanLines = (chunk: Buffer, from: number, to: number, limit: number): Scan => {
  if (instance === undefined) return scanLinesByIndexOf(chunk, from, to, limit)
  const length = to - from
  if (length > WINDOW) throw new RangeError(`a scan takes at most ${WINDOW} bytes, not ${length}`)
  const { bytes, words } = instance
  bytes.set(chunk.subarray(from, to), INPUT)
  bytes.fill(0, INPUT + length, INPUT + length + 16)
  loaded = { bytes: chunk, from, to }
  const count = instance.lines(from, length, limit)
  const stop = STOPS[words[HEADER / 4 + 1] ?? 0] ?? "end"
  return {
    starts: words.slice(STARTS / 4, STARTS / 4 + count),
    ends: words.slice(ENDS / 4, ENDS / 4 + count),
    next: words[HEADER / 4] ?? to,
    stop,
    newline: stop === "long" ? (words[HEADER / 4 + 2] ?? -1) : -1
  }
}

/** The bytes lines `[from, to)` of `lines` take where they arrived, their line breaks between them included. */
export const spanOf = (lines: ByteLines, from: number, to: number): number => (lines.ends[to - 1] ?? 0) - (lines.starts[from] ?? 0)

/** At most how many bytes `formatLines` writes for lines `[from, to)` with a prefix of `prefixLength` bytes. */
export const formattedBound = (lines: ByteLines, from: number, to: number, prefixLength: number): number =>
  (to - from) * (prefixLength + 1) + spanOf(lines, from, to)

/**
 * The end of the longest run of lines from `from` on that one call of `formatLines` takes (at least one line), of
 * at most `maxSpan` bytes where they arrived.
 */
export const formatRunEnd = (lines: ByteLines, from: number, prefixLength: number, maxSpan = WINDOW): number => {
  const fits = (to: number) =>
    to - from <= CAPACITY && spanOf(lines, from, to) <= Math.min(maxSpan, WINDOW) && formattedBound(lines, from, to, prefixLength) <= OUTPUT_BYTES
  let low = from + 1
  let high = lines.count
  while (low < high) {
    const middle = (low + high + 1) >>> 1
    if (fits(middle)) low = middle
    else high = middle - 1
  }
  return low
}

/**
 * Writes lines `[from, to)` of `lines` (a run `formatRunEnd` allows) into `target` at `at`, each as `prefix`, its
 * bytes and "\n"; returns how many bytes it wrote. Undefined where the module cannot run: the caller formats them.
 * Into a slot (`takeSlot`) they are formatted in place, writing up to 15 bytes past them (the slot has room after
 * its end); into any other buffer, formatted in the module's output and copied out.
 */
export const formatLines = (lines: ByteLines, from: number, to: number, prefix: Uint8Array, target: Buffer, at: number): number | undefined => {
  if (instance === undefined || prefix.length > MAX_PREFIX) return undefined
  const { bytes, words } = instance
  const first = lines.starts[from] ?? 0
  const last = lines.ends[to - 1] ?? first
  // Where the lines' bytes are in the module's memory: the format finds line `i` at `starts[i] - origin + INPUT`.
  let origin: number
  if (loaded !== undefined && loaded.bytes === lines.bytes && first >= loaded.from && last <= loaded.to) origin = loaded.from
  else if (last - first <= ASIDE_BYTES) {
    bytes.set(lines.bytes.subarray(first, last), ASIDE)
    origin = first - (ASIDE - INPUT)
  } else {
    bytes.set(lines.bytes.subarray(first, last), INPUT)
    loaded = { bytes: lines.bytes, from: first, to: last }
    origin = first
  }
  words.set(lines.starts.subarray(from, to), STARTS / 4)
  words.set(lines.ends.subarray(from, to), ENDS / 4)
  bytes.set(prefix, PREFIX)
  if (isSlot(target)) return instance.format(to - from, origin, prefix.length, target.byteOffset + at)
  const written = instance.format(to - from, origin, prefix.length, OUTPUT)
  target.set(bytes.subarray(OUTPUT, OUTPUT + written), at)
  return written
}

/** Whether the module runs here (for the tests, which compare both ways). */
export const runsInWebAssembly = instance !== undefined
