/**
 * A response frame as the fast path reads it: the envelope of protocol/Envelope.ts (`Response`), decoded only when
 * it is certainly one; anything else is `undefined`, and the full CLI then reports what it is.
 */
import { isRecord } from "./decoders.ts"

export type Envelope =
  | { readonly status: "success"; readonly data: unknown }
  | { readonly status: "error"; readonly code: number; readonly error: string }

const ERROR_CODES: ReadonlyArray<unknown> = [400, 403, 500]

export const decodeEnvelope = (raw: string): Envelope | undefined => {
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (!isRecord(json)) return undefined
  const { status, id } = json
  if (id !== undefined && typeof id !== "string") return undefined
  if (status === "success") return Object.hasOwn(json, "data") ? { status, data: json["data"] } : undefined
  const { code, error, reason } = json
  if (status !== "error" || !ERROR_CODES.includes(code) || typeof code !== "number" || typeof error !== "string" || typeof reason !== "string") {
    return undefined
  }
  return { status, code, error }
}
