/**
 * The HTTP benchmark clients: node:http requests over a keep-alive Agent of one socket, the same for the bare
 * baseline server and the orchestrator's HTTP interface. Lighter than `fetch` (undici), whose own per-request work
 * would land on both sides and pull every ratio towards 1.
 */
import * as Http from "node:http"

export interface Reply {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}

/** One connection, kept open between requests, as a client polling an API keeps it. */
export const keepAliveAgent = (): Http.Agent => new Http.Agent({ keepAlive: true, maxSockets: 1 })

/** One request, its whole reply read. A POST sends `body` as `application/json`. */
export const request = (agent: Http.Agent, method: "GET" | "POST", url: string, body?: string): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const headers: Http.OutgoingHttpHeaders = body === undefined
      ? {}
      : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
    const sent = Http.request(url, { method, agent, headers }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.once("error", reject)
      response.once("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }))
    })
    sent.once("error", reject)
    sent.end(body)
  })

/** Sends `count` POSTs of `body` one after another; returns each round trip in microseconds, and the last reply. */
export const sequentialPosts = async (agent: Http.Agent, url: string, body: string, count: number) => {
  const times = new Array<number>(count)
  let last: Reply | undefined
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint()
    last = await request(agent, "POST", url, body)
    times[i] = Number(process.hrtime.bigint() - started) / 1000
    if (last.status !== 200) throw new Error(`POST ${url} answered ${last.status}: ${last.body.toString()}`)
  }
  return { times, last }
}
