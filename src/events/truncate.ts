/**
 * Bounds what one event can hold, so that a huge request argument or a runaway output line cannot grow the event
 * store beyond its configured size. Strings are cut by UTF-8 bytes (never inside a character), and containers by
 * depth and item count; each cut leaves a marker saying how much was dropped. The result is always plain JSON.
 */
import { Predicate } from "effect"

export interface PayloadLimits {
  /** Longest string value kept, in UTF-8 bytes. */
  readonly maxValueBytes: number
  /** Deepest nesting kept; deeper containers become a marker. */
  readonly maxDepth: number
  /** Most array items or object keys kept per container. */
  readonly maxItems: number
}

export const defaultPayloadLimits: PayloadLimits = { maxValueBytes: 1024, maxDepth: 8, maxItems: 100 }

const encoder = new TextEncoder()

/** Cuts `text` to at most `maxBytes` UTF-8 bytes on a character boundary, marking what was dropped. */
export const truncateUtf8 = (text: string, maxBytes: number): string => {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short strings skip the byte count.
  if (text.length * 3 <= maxBytes) return text
  const total = Buffer.byteLength(text, "utf8")
  if (total <= maxBytes) return text
  const buffer = new Uint8Array(maxBytes)
  // encodeInto writes only whole characters, so `read` ends on a character boundary.
  const { read, written } = encoder.encodeInto(text, buffer)
  return `${text.slice(0, read)}…[+${total - written} bytes]`
}

const truncateValue = (value: unknown, limits: PayloadLimits, depth: number): unknown => {
  if (Predicate.isString(value)) return truncateUtf8(value, limits.maxValueBytes)
  if (Predicate.isNumber(value)) return Number.isFinite(value) ? value : String(value)
  if (Predicate.isBoolean(value) || value === null) return value
  if (Predicate.isBigInt(value)) return value.toString()
  if (value === undefined || Predicate.isFunction(value) || Predicate.isSymbol(value)) return null
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  if (value instanceof Error) return truncateUtf8(`${value.name}: ${value.message}`, limits.maxValueBytes)
  if (depth >= limits.maxDepth) return "[nested too deep]"
  if (Array.isArray(value)) {
    const kept = value.slice(0, limits.maxItems).map((item) => truncateValue(item, limits, depth + 1))
    if (value.length > limits.maxItems) kept.push(`…[+${value.length - limits.maxItems} items]`)
    return kept
  }
  if (Predicate.isObject(value)) return truncateRecord(value, limits, depth)
  return String(value)
}

const truncateRecord = (value: object, limits: PayloadLimits, depth: number): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  let kept = 0
  let dropped = 0
  for (const [key, item] of Object.entries(value)) {
    if (kept < limits.maxItems) {
      out[truncateUtf8(key, limits.maxValueBytes)] = truncateValue(item, limits, depth + 1)
      kept++
    } else {
      dropped++
    }
  }
  if (dropped > 0) out["…"] = `[+${dropped} keys]`
  return out
}

const isPlainObject = (value: object): boolean => {
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** `truncateUtf8` gives back the string itself when it fits (without copying it). */
const fitsString = (text: string, limits: PayloadLimits): boolean => truncateUtf8(text, limits.maxValueBytes) === text

/**
 * Whether `value` is plain JSON that `truncateValue` would give back unchanged, and that JSON.stringify writes as
 * that copy: strings within the limit, finite numbers, booleans, null, and arrays and plain objects
 * within the limits whose members all fit. Anything else (undefined, a Date, an object with `toJSON`) is not.
 */
const fitsValue = (value: unknown, limits: PayloadLimits, depth: number): boolean => {
  switch (typeof value) {
    case "string":
      return fitsString(value, limits)
    case "number":
      return Number.isFinite(value)
    case "boolean":
      return true
    case "object":
      if (value === null) return true
      if (depth >= limits.maxDepth) return false
      if (Array.isArray(value)) {
        if (value.length > limits.maxItems) return false
        for (const item of value) if (!fitsValue(item, limits, depth + 1)) return false
        return true
      }
      return isPlainObject(value) && fitsRecord(value, limits, depth)
    default:
      return false
  }
}

const fitsRecord = (value: object, limits: PayloadLimits, depth: number): boolean => {
  let count = 0
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false
    if (++count > limits.maxItems || key === "__proto__" || !fitsString(key, limits)) return false
    if (!fitsValue((value as Record<string, unknown>)[key], limits, depth + 1)) return false
  }
  return true
}

/**
 * The payload bounded: `data` itself when nothing needs cutting (the common case: every request's audit record passes
 * here), which JSON.stringify then writes byte for byte as it writes `truncatePayload`'s copy; that copy otherwise.
 */
export const boundPayload = (data: Readonly<Record<string, unknown>>, limits: PayloadLimits): Readonly<Record<string, unknown>> =>
  isPlainObject(data) && fitsRecord(data, limits, 0) ? data : truncatePayload(data, limits)

/** Bounds an event payload; the result is a plain JSON object. */
export const truncatePayload = (
  data: Readonly<Record<string, unknown>>,
  limits: PayloadLimits
): Record<string, unknown> => truncateRecord(data, limits, 0)
