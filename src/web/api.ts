/**
 * The HTTP API as the page calls it: each method one route of `/api/v1` (src/server/http/OrchestrateApi.ts), with
 * the bearer token, answered with the command's result or failing with the error envelope as the server sent it,
 * so that the page can show it verbatim. What the page does, a script can do with the same requests.
 */
import { authorization } from "./session.ts"
import type {
  ActionResultWire,
  AgentAction,
  AgentStatusWire,
  DependencyGraphWire,
  HistoryPageWire,
  IdentityWire,
  LogsPageWire,
  OrchestratorStatusWire,
  ReloadPlanWire
} from "./wire.ts"

/** An error answer: the envelope's `code`, `reason` and `error` exactly as sent, and the HTTP status. */
export class ApiError extends Error {
  readonly status: number
  readonly code: number
  readonly reason: string
  readonly error: string

  constructor(status: number, code: number, reason: string, error: string) {
    super(error)
    this.status = status
    this.code = code
    this.reason = reason
    this.error = error
  }

  /** No token, or not one of the server's: the login form's cue. */
  get unauthorized(): boolean {
    return this.status === 401
  }
}

/** An error as one line: the envelope's code, reason and text as the server sent them, or what else it was. */
export const errorText = (error: unknown): string =>
  error instanceof ApiError ? `${error.code} ${error.reason}: ${error.error}` : String(error)

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The error an answer that is not an envelope stands for (a proxy's page, a cut connection). */
const notAnEnvelope = (status: number, text: string): ApiError =>
  new ApiError(status, status, "BadResponse", `HTTP ${status}: ${text.slice(0, 200) || "no answer"}`)

/** A request id: a POST with one is safe to resend; random, from `getRandomValues` (also there without HTTPS). */
const requestId = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return `web-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`
}

/** The error an answer that is not a success stands for, read from its envelope when it has one. */
export const errorOf = async (response: Response): Promise<ApiError> => {
  const text = await response.text().catch(() => "")
  try {
    const envelope: unknown = JSON.parse(text)
    if (isObject(envelope)) {
      const { code, reason, error } = envelope
      if (typeof code === "number" && typeof reason === "string" && typeof error === "string") {
        return new ApiError(response.status, code, reason, error)
      }
    }
  } catch {
    // Not JSON: said as it came below.
  }
  return notAnEnvelope(response.status, text)
}

const call = async <T>(method: "GET" | "POST", path: string, body?: Readonly<Record<string, unknown>>): Promise<T> => {
  const headers: Record<string, string> = { accept: "application/json", ...authorization() }
  if (body !== undefined) headers["content-type"] = "application/json"
  let response: Response
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      cache: "no-store",
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
  } catch (cause) {
    throw new ApiError(0, 0, "Unreachable", `The orchestrator did not answer: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  if (!response.ok) throw await errorOf(response)
  const text = await response.text()
  let envelope: unknown
  try {
    envelope = JSON.parse(text)
  } catch {
    throw notAnEnvelope(response.status, text)
  }
  // The page trusts its own server's answers to be what the protocol's schemas say (wire.ts); it checks the shape.
  if (isObject(envelope) && envelope["status"] === "success" && "data" in envelope) return envelope["data"] as T
  throw notAnEnvelope(response.status, text)
}

const query = (parameters: Readonly<Record<string, string | number | ReadonlyArray<string> | undefined>>): string => {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(parameters)) {
    if (value === undefined) continue
    if (typeof value === "object") for (const item of value) search.append(key, item)
    else search.append(key, String(value))
  }
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}

const withReason = (reason: string | undefined): Readonly<Record<string, string>> =>
  ({ id: requestId(), ...(reason === undefined ? {} : { reason }) })

export interface HistoryQuery {
  readonly limit?: number
  readonly category?: string
  readonly categories?: ReadonlyArray<string>
  readonly agent?: string
  readonly after_seq?: number
}

export interface LogsQuery {
  readonly agents?: ReadonlyArray<string>
  readonly limit?: number
  readonly after_seq?: number
}

export const api = {
  whoami: () => call<IdentityWire>("GET", "/whoami"),
  status: () => call<OrchestratorStatusWire>("GET", "/status"),
  agent: (name: string) => call<AgentStatusWire>("GET", `/agents/${encodeURIComponent(name)}`),
  dependencies: () => call<DependencyGraphWire>("GET", "/dependencies"),
  history: (parameters: HistoryQuery) => call<HistoryPageWire>("GET", `/history${query({ ...parameters })}`),
  logs: (parameters: LogsQuery) => call<LogsPageWire>("GET", `/logs${query({ ...parameters })}`),
  /** One action on one agent: `POST /agents/{name}/{action}`. */
  act: (action: AgentAction, name: string, reason: string | undefined) =>
    call<ActionResultWire>("POST", `/agents/${encodeURIComponent(name)}/${action}`, withReason(reason)),
  /** One action on several agents at once, in dependency order: the whole envelope to `POST /command`. */
  actOnMany: (action: AgentAction, names: ReadonlyArray<string>, reason: string | undefined) =>
    call<ActionResultWire>("POST", "/command", { command: action, args: names, ...withReason(reason) }),
  reload: (dryRun: boolean, reason: string | undefined) =>
    call<ReloadPlanWire>("POST", "/reload", { dry_run: dryRun, ...(dryRun ? {} : withReason(reason)) }),
  shutdown: (reason: string | undefined) => call<{ readonly message: string }>("POST", "/shutdown", withReason(reason))
}
