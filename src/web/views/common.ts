/**
 * What the views share: an agent's state and health as badges (the word always written out, the colour only
 * repeating it), and the view interface itself.
 */
import type { Controls } from "../controls.ts"
import { h } from "../dom.ts"
import type { Permissions } from "../permissions.ts"
import type { Store } from "../store.ts"
import type { AgentState, AgentStatusWire, Health } from "../wire.ts"

export interface Context {
  readonly store: Store
  readonly permissions: Permissions
  readonly controls: Controls
}

/** A view in `<main>`: its element, and what it stops (listeners, streams) when another replaces it. */
export interface View {
  readonly element: HTMLElement
  /** The document's title while it shows. */
  readonly title: string
  readonly dispose: () => void
}

/**
 * What a view remembers while a session lasts, so that coming back to it finds it as it was left: per session
 * (keyed by its store), so that after a logout the next user starts afresh, with nothing selected.
 */
export const sessionMemory = <M>(initial: () => M): ((context: Context) => M) => {
  const memories = new WeakMap<Store, M>()
  return (context) => {
    const known = memories.get(context.store)
    if (known !== undefined) return known
    const fresh = initial()
    memories.set(context.store, fresh)
    return fresh
  }
}

/** What a queued agent waits for, as `status` says it (src/protocol/waiting.ts). */
const WAITING: Readonly<Record<string, string>> = {
  dependencies: "waiting for its dependencies",
  worker: "waiting for a worker slot",
  backoff: "waiting to be restarted (backoff)"
}

/**
 * Why an agent is where it is, when there is something to say: what it waits for, or its last error (a running
 * agent's is its previous run's).
 */
export const noteOf = (agent: AgentStatusWire): string => {
  if (agent.waiting_for !== null) return WAITING[agent.waiting_for] ?? agent.waiting_for
  if (agent.last_error === null) return ""
  return agent.state === "failed" ? agent.last_error : `previous run: ${agent.last_error}`
}

export const stateBadge = (state: AgentState | string): HTMLElement =>
  h("span", { class: `badge state-${state}` }, h("span", { class: "dot", "aria-hidden": "true" }), state)

export const healthBadge = (health: Health | null): HTMLElement =>
  health === null
    ? h("span", { class: "muted", title: "No probes" }, "-")
    : h("span", { class: `badge health-${health}` }, h("span", { class: "dot", "aria-hidden": "true" }), health)

/** Puts `badge` into `cell` unless it already shows the same text. */
export const setBadge = (cell: Element, key: string, make: () => HTMLElement): void => {
  if (cell.getAttribute("data-shows") === key) return
  cell.setAttribute("data-shows", key)
  cell.replaceChildren(make())
}

/** A label and value pair of a facts list. */
export const fact = (label: string, value: Node | string, key?: string): HTMLElement =>
  h("div", { class: "fact", ...(key === undefined ? {} : { "data-fact": key }) }, h("dt", {}, label), h("dd", {}, value))
