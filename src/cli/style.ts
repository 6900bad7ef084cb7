/**
 * How text is coloured: a `Style` is a value handed to every renderer, so that rendering stays a pure function of
 * the data. Which one applies (colour on a terminal, never with NO_COLOR...) is decided elsewhere: by effect/cli's
 * `TerminalCapabilities` in the full CLI (output.ts), and the same way without effect in the fast path
 * (fast/terminal.ts). This module imports nothing, so that the fast path can load it.
 */
import type { AgentState } from "../protocol/Model.ts"

export interface Style {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  /** An agent state, coloured by how it is doing. */
  readonly state: (state: AgentState) => string
}

const makeStyle = (colors: boolean): Style => {
  const paint = (code: string) => (text: string): string => colors ? `\u001b[${code}m${text}\u001b[0m` : text
  const [bold, dim, red, green, yellow] = [paint("1"), paint("2"), paint("31"), paint("32"), paint("33")]
  const stateStyles: Readonly<Record<AgentState, (text: string) => string>> = {
    running: green,
    paused: yellow,
    queued: yellow,
    starting: yellow,
    stopping: yellow,
    failed: red,
    stopped: dim,
    registered: dim,
    completed: (text) => text
  }
  return { bold, dim, red, green, yellow, state: (state) => stateStyles[state](state) }
}

export const plain: Style = makeStyle(false)
export const colored: Style = makeStyle(true)
