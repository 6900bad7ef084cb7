/**
 * The `args` of each read command's request as the wire carries them: what `Schema.encode` of the command's args
 * schema (protocol/Commands.ts) makes of the query the full CLI builds (historyRender.ts, logsRender.ts), without
 * Schema. test/cli/fast-decode.test.ts checks them equal to the schemas' encoding.
 */
import type { HistoryQuery } from "../../protocol/Commands.ts"

export const historyArgs = (query: HistoryQuery): ReadonlyArray<unknown> => {
  const { afterSeq, ...rest } = query
  return [{ ...rest, ...(afterSeq === undefined ? {} : { after_seq: afterSeq }) }]
}

/** A `logs` query with its instant as epoch milliseconds; the wire has it as ISO-8601 UTC. */
export interface LogsRequest {
  readonly agents?: ReadonlyArray<string>
  readonly limit: number
  readonly sinceMillis?: number
  readonly stream?: "stdout" | "stderr"
}

export const logsArgs = ({ sinceMillis, ...rest }: LogsRequest): ReadonlyArray<unknown> =>
  [{ ...rest, ...(sinceMillis === undefined ? {} : { since: new Date(sinceMillis).toISOString() }) }]

export const statusArgs = (agent: string | undefined): ReadonlyArray<unknown> => agent === undefined ? [] : [agent]
