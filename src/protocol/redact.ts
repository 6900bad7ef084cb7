/**
 * Secret-looking values kept out of the audit trail: whatever sits under a key named like a secret (`password`,
 * `apiKey`, `client_secret`, `authToken`, ...) is replaced, at any depth, before a request's arguments are stored.
 */
export const REDACTED = "[redacted]"

const SECRET_KEY = /pass(word|phrase|wd)?|secret|token|api[-_]?key|private[-_]?key|credential|auth(orization)?$|cookie|session/i

export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key)

/** `value` with every secret-named key's value replaced by `[redacted]`; the input is left untouched. */
export const redactSecrets = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (typeof value !== "object" || value === null) return value
  const copy: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) copy[key] = isSecretKey(key) ? REDACTED : redactSecrets(inner)
  return copy
}

// A JSON member `"key": value`, where the value may be cut short (the text is often truncated or malformed).
const MEMBER = /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[\w.+-]*)/g

/**
 * Redacts what looks like a secret-named member in text that may not parse: what a malformed request brought
 * is kept in its audit record, and it must not carry a password there either.
 */
export const redactSecretsInText = (text: string): string =>
  text.replace(MEMBER, (member, key: string, colon: string) => isSecretKey(key) ? `"${key}"${colon}"${REDACTED}"` : member)
