/**
 * The event stream (`GET /api/v1/events`, src/server/http/EventStream.ts) read with `fetch`, so that it can carry
 * the bearer token, which EventSource cannot send. It does what EventSource would on top: it reconnects after the
 * server's `retry:` delay (then backing off to 10 s) and sends the last event id as `Last-Event-ID`, so that the
 * server resumes exactly after the last message received, nothing missed and nothing repeated. A connection that
 * stays silent past `staleAfterMs` (the server writes at least every 15 s) is taken for dead and replaced.
 */
import { type ApiError, errorOf } from "./api.ts"
import { authorization } from "./session.ts"
import { type SseMessage, SseParser } from "./sse.ts"

export type Connection = "open" | "closed"

export interface LiveStreamOptions {
  /** The path with its query: `/api/v1/events?status=1`. */
  readonly path: string
  /** Where to resume from: `<event seq>` or `<event seq>:<log seq>`; empty to start now. */
  readonly lastEventId: string
  readonly staleAfterMs: number
  readonly onMessage: (message: SseMessage) => void
  readonly onConnection: (connection: Connection) => void
  /** The server refused the stream (401, 403, 400): not retried, since asking again gets the same answer. */
  readonly onRefused: (error: ApiError) => void
}

const MAX_DELAY_MS = 10_000

export class LiveStream {
  private stopped = false
  private controller: AbortController | undefined
  private lastEventId: string
  private retryMs = 2_000

  private readonly options: LiveStreamOptions

  constructor(options: LiveStreamOptions) {
    this.options = options
    this.lastEventId = options.lastEventId
  }

  start(): void {
    void this.run()
  }

  stop(): void {
    this.stopped = true
    this.controller?.abort()
  }

  private async run(): Promise<void> {
    let delay = this.retryMs
    while (!this.stopped) {
      const outcome = await this.connect()
      if (this.stopped) return
      if (outcome === "opened") delay = this.retryMs
      this.options.onConnection("closed")
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, MAX_DELAY_MS)
    }
  }

  /** One connection, until it ends: whether it got as far as opening. */
  private async connect(): Promise<"opened" | "failed"> {
    const controller = new AbortController()
    this.controller = controller
    let watchdog: ReturnType<typeof setTimeout> | undefined
    const awake = () => {
      clearTimeout(watchdog)
      watchdog = setTimeout(() => controller.abort(), this.options.staleAfterMs)
    }
    let opened = false
    try {
      awake()
      const response = await fetch(this.options.path, {
        headers: {
          accept: "text/event-stream",
          ...authorization(),
          ...(this.lastEventId === "" ? {} : { "last-event-id": this.lastEventId })
        },
        cache: "no-store",
        signal: controller.signal
      })
      if (!response.ok || response.body === null) {
        const error = await errorOf(response)
        // A server error or a proxy in the way may pass; a refusal will not.
        if (response.status < 500) {
          this.stopped = true
          this.options.onRefused(error)
        }
        return "failed"
      }
      opened = true
      this.options.onConnection("open")
      const parser = new SseParser(this.lastEventId)
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      for (;;) {
        awake()
        const { done, value } = await reader.read()
        if (done || this.stopped) break
        for (const message of parser.feed(value)) {
          this.lastEventId = message.lastEventId
          try {
            this.options.onMessage(message)
          } catch (error) {
            // The page's own fault, not the connection's: reported as an uncaught error, and the stream goes on.
            reportError(error)
          }
        }
        if (parser.retry !== undefined) this.retryMs = parser.retry
      }
    } catch {
      // Aborted, cut or refused by the network: reconnected below, as EventSource would.
    } finally {
      clearTimeout(watchdog)
    }
    return opened ? "opened" : "failed"
  }
}
