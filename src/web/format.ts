/**
 * How the page writes numbers, sizes and times: as the CLI writes them (`2h 4m`, `48.2 MiB`, `0.3`), so that the
 * dashboard and `orchestrate ps` say the same thing the same way.
 */

/** `42s`, `3m 20s`, `2h 4m`, `3d 2h`; `-` when unknown. */
export const formatDuration = (seconds: number | null): string => {
  if (seconds === null) return "-"
  const total = Math.floor(seconds)
  if (total < 60) return `${total}s`
  if (total < 3600) return `${Math.floor(total / 60)}m ${total % 60}s`
  if (total < 86_400) return `${Math.floor(total / 3600)}h ${Math.floor((total % 3600) / 60)}m`
  return `${Math.floor(total / 86_400)}d ${Math.floor((total % 86_400) / 3600)}h`
}

const BYTE_UNITS = ["KiB", "MiB", "GiB", "TiB"] as const

/** `512 B`, `12.3 MiB` (powers of 1024, as `ps` counts memory); `-` when unknown. */
export const formatBytes = (bytes: number | null): string => {
  if (bytes === null) return "-"
  if (bytes < 1024) return `${bytes} B`
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit] ?? ""}`
}

/** CPU time used in all: `0.42s` under a minute, then as a duration; `-` when unknown. */
export const formatCpuTime = (seconds: number | null): string =>
  seconds === null ? "-" : seconds < 60 ? `${seconds.toFixed(2)}s` : formatDuration(seconds)

/** CPU in percent of one core, to a tenth; `-` when unknown. */
export const formatPercent = (percent: number | null): string => percent === null ? "-" : percent.toFixed(1)

const pad = (n: number, width = 2): string => String(n).padStart(width, "0")

/** An instant as the local time of day, to the millisecond: `14:03:07.412`. */
export const formatClock = (iso: string): string => {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
}

/** An instant as the local time of day, to the second: `14:03:07`. */
export const formatTimeOfDay = (iso: string): string => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

/** An instant as a local date and time: `2026-12-02 14:03:07`. */
export const formatDateTime = (iso: string | null): string => {
  if (iso === null) return "-"
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

/** How long ago an instant was: `12s ago`; `fallback` when there is none. */
export const formatAgo = (iso: string | null, now: number, fallback = "-"): string => {
  if (iso === null) return fallback
  const at = Date.parse(iso)
  return Number.isNaN(at) ? iso : `${formatDuration(Math.max(0, now - at) / 1000)} ago`
}

/** A value of an event's data or a command's arguments as short text: strings bare, the rest as JSON. */
export const formatValue = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value) ?? String(value)

/** An event's data as `key=value` pairs; members without a value (null) are left out. */
export const formatData = (data: Readonly<Record<string, unknown>>): string =>
  Object.entries(data).filter(([, value]) => value !== null).map(([key, value]) => `${key}=${formatValue(value)}`).join(" ")

/** `1 agent`, `3 agents`: a count and its noun, plural unless one. */
export const counted = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? "" : "s"}`
