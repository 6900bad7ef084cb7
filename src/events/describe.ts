/**
 * Events as text: a compact `key=value` rendering of their data, shared by logs and the CLI.
 */

/** `key=value ...`, quoting string values that contain spaces, quotes or `=`. */
export const formatData = (data: Readonly<Record<string, unknown>>): string =>
  Object.entries(data).map(([key, value]) => {
    if (typeof value === "string") return `${key}=${/[\s="]/.test(value) ? JSON.stringify(value) : value}`
    return `${key}=${JSON.stringify(value)}`
  }).join(" ")
