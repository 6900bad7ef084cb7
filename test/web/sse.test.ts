/**
 * The dashboard's Server-Sent Events parser (src/web/sse.ts) against the stream as the server frames it
 * (src/server/http/EventStream.ts) and the HTML standard's parsing rules: the same messages however the text is cut
 * into chunks, every line ending, the last event id kept across messages without one.
 */
import { describe, expect, it } from "@effect/vitest"
import { SseParser } from "../../src/web/sse.ts"

/** What the server writes for a stream with logs and status, as one text. */
const STREAM = "retry: 2000\n: from 41:1200\n\n" +
  `event: event\nid: 42:1200\ndata: {"seq":42,"event_name":"AGENT_RESTARTED"}\n\n` +
  `event: log\nid: 42:1201\ndata: {"seq":1201,"line":"listening on 8080"}\n\n` +
  `event: status\ndata: {"state":"running"}\n\n` +
  ": keep-alive\n\n"

const EXPECTED = [
  { event: "event", data: `{"seq":42,"event_name":"AGENT_RESTARTED"}`, lastEventId: "42:1200" },
  { event: "log", data: `{"seq":1201,"line":"listening on 8080"}`, lastEventId: "42:1201" },
  { event: "status", data: `{"state":"running"}`, lastEventId: "42:1201" }
]

const feedAll = (parser: SseParser, chunks: ReadonlyArray<string>) => chunks.flatMap((chunk) => [...parser.feed(chunk)])

describe("SseParser", () => {
  it("reads the server's messages, its retry, and keeps the last id across a message without one", () => {
    const parser = new SseParser()
    expect(parser.feed(STREAM)).toEqual(EXPECTED)
    expect(parser.retry).toBe(2000)
    expect(parser.lastEventId).toBe("42:1201")
  })

  it("gives the same messages however the stream is cut into two or three chunks", () => {
    for (let i = 0; i <= STREAM.length; i++) {
      expect(feedAll(new SseParser(), [STREAM.slice(0, i), STREAM.slice(i)]), `cut at ${i}`).toEqual(EXPECTED)
      const j = Math.min(STREAM.length, i + 7)
      expect(feedAll(new SseParser(), [STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)]), `cut at ${i}, ${j}`).toEqual(EXPECTED)
    }
  })

  it("takes CRLF and CR line endings, one split between its \\r and \\n too", () => {
    for (const ending of ["\r\n", "\r"]) {
      const text = STREAM.replaceAll("\n", ending)
      for (let i = 0; i <= text.length; i++) {
        expect(feedAll(new SseParser(), [text.slice(0, i), text.slice(i)]), `${JSON.stringify(ending)} cut at ${i}`).toEqual(EXPECTED)
      }
    }
  })

  it("follows the standard's field rules", () => {
    const parser = new SseParser("7")
    expect(parser.feed("data\n\n")).toEqual([{ event: "message", data: "", lastEventId: "7" }])
    expect(parser.feed("data:no space\ndata:  two spaces\nunknown: x\n\n")).toEqual([
      { event: "message", data: "no space\n two spaces", lastEventId: "7" }
    ])
    // An id alone changes the id without a message; one holding NUL is ignored; a bad retry too.
    expect(parser.feed("id: 9\n\nid: 1\u00002\nretry: soon\nevent: x\ndata: d\n\n")).toEqual([{ event: "x", data: "d", lastEventId: "9" }])
    expect(parser.retry).toBeUndefined()
    // A message still open when the text ends is not given until its blank line.
    expect(parser.feed("data: half")).toEqual([])
    expect(parser.feed("\n\n")).toEqual([{ event: "message", data: "half", lastEventId: "9" }])
  })
})
