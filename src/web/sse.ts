/**
 * Server-Sent Events, parsed as the HTML standard's EventSource parses them, from text arriving in chunks of any
 * size: a chunk may end in the middle of a line, or between the `\r` and `\n` of one line ending. The page reads
 * the stream with `fetch` (EventSource cannot send the bearer token), so it needs this parser, and keeps the last
 * event id itself to resume with `Last-Event-ID`.
 */

export interface SseMessage {
  /** The `event:` field; `message` without one. */
  readonly event: string
  readonly data: string
  /** The last event id as it stood when this message was dispatched (ids stick until the next `id:`). */
  readonly lastEventId: string
}

export class SseParser {
  /** The last `id:` seen, as the standard keeps it: what a reconnection sends as `Last-Event-ID`. */
  lastEventId: string
  /** The last `retry:` seen, in milliseconds. */
  retry: number | undefined = undefined
  private buffer = ""
  /** The previous chunk ended in `\r`: a `\n` starting this one belongs to that line ending. */
  private afterCarriageReturn = false
  private event = ""
  private data: Array<string> = []

  constructor(lastEventId = "") {
    this.lastEventId = lastEventId
  }

  /** The messages `chunk` completes, in order. */
  feed(chunk: string): ReadonlyArray<SseMessage> {
    let text = chunk
    if (this.afterCarriageReturn && text.startsWith("\n")) text = text.slice(1)
    this.afterCarriageReturn = text.endsWith("\r")
    this.buffer += text
    const messages: Array<SseMessage> = []
    const lines = this.buffer.split(/\r\n|\r|\n/)
    // The last piece has no line ending yet, unless the text ended with one (then it is "").
    this.buffer = lines.pop() ?? ""
    for (const line of lines) {
      const message = this.line(line)
      if (message !== undefined) messages.push(message)
    }
    return messages
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") return this.dispatch()
    if (line.startsWith(":")) return undefined
    const colon = line.indexOf(":")
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? "" : line.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    switch (field) {
      case "event":
        this.event = value
        break
      case "data":
        this.data.push(value)
        break
      case "id":
        if (!value.includes("\u0000")) this.lastEventId = value
        break
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value)
        break
    }
    return undefined
  }

  private dispatch(): SseMessage | undefined {
    const event = this.event === "" ? "message" : this.event
    const data = this.data
    this.event = ""
    this.data = []
    return data.length === 0 ? undefined : { event, data: data.join("\n"), lastEventId: this.lastEventId }
  }
}
