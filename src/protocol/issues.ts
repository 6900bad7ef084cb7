/**
 * Schema errors as short, one-line-per-problem text with JavaScript-style paths, e.g.
 * `args[0].limit: Expected number, got "ten"` or `agents[2].restart: Expected "never" | "on-failure" | "always"`.
 */
import { type Schema, SchemaIssue } from "effect"
import { isSecretKey, REDACTED, redactSecrets } from "./redact.ts"

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/
/** Longest message kept per problem: a rejected value is quoted in it, and it may be huge. */
const MAX_MESSAGE_LENGTH = 200
/** Most problems listed; the rest are counted. */
const MAX_ISSUES = 10

export const formatPath = (root: string, path: ReadonlyArray<PropertyKey>): string => {
  let out = root
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`
    else out += `[${JSON.stringify(String(segment))}]`
  }
  return out === "" ? "(root)" : out
}

const reported = (issue: SchemaIssue.Leaf) => ({ reportInput: "input" in issue })

// A rejected value is quoted in its message, and so would be a password inside it.
const leafHook: SchemaIssue.LeafHook = (issue) => {
  switch (issue._tag) {
    case "UnexpectedKey":
      return "unexpected key"
    case "MissingKey":
      return "missing"
    case "InvalidType":
      return SchemaIssue.defaultLeafHook(new SchemaIssue.InvalidType(issue.ast, redactSecrets(issue.input), reported(issue)))
    case "InvalidValue":
      return SchemaIssue.defaultLeafHook(new SchemaIssue.InvalidValue(issue.annotations, redactSecrets(issue.input), reported(issue)))
    default:
      return SchemaIssue.defaultLeafHook(issue)
  }
}

/** A value rejected under a secret-named key is not quoted at all. */
const withoutValue = (message: string): string =>
  message.replace(/(, got |Invalid data |the input |with value ).*$/s, `$1${REDACTED}`)

const formatter = SchemaIssue.makeFormatterStandardSchemaV1({ leafHook })

const shorten = (message: string): string =>
  message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH)}…`

/** Each problem as `path: message`, at most ten of them. */
export const issueLines = (error: Schema.SchemaError, root = ""): ReadonlyArray<string> => {
  const issues = formatter(error.issue).issues
  const lines = issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = (issue.path ?? []).map((segment) => typeof segment === "object" ? segment.key : segment)
    const secret = path.some((segment) => typeof segment === "string" && isSecretKey(segment))
    return `${formatPath(root, path)}: ${shorten(secret ? withoutValue(issue.message) : issue.message)}`
  })
  const more = issues.length - MAX_ISSUES
  if (more > 0) lines.push(`and ${more} more ${more === 1 ? "problem" : "problems"}`)
  return lines
}

/** Every problem on one line, separated by `; `. */
export const formatIssues = (error: Schema.SchemaError, root = ""): string => issueLines(error, root).join("; ")
