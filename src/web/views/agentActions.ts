/**
 * One agent's action buttons (its row, its detail view): only those the caller may run, each disabled while it
 * would do nothing in the agent's state. In a row on a narrow screen they fold behind one button, a disclosure
 * (`aria-expanded`) that opens them under it, so that a row stays one line high; the buttons stay in the DOM
 * either way, and styles.css decides which of the two is shown.
 *
 * The focus is never dropped: a button that becomes disabled under it (Stop, once the agent stopped) hands it to
 * the next button that can act, or to the menu's button, rather than to the page's body.
 */
import { ACTION_LABELS, applies } from "../actions.ts"
import { h, setAttribute } from "../dom.ts"
import { AGENT_ACTIONS, type AgentAction, type AgentState } from "../wire.ts"
import type { Context } from "./common.ts"

let menus = 0

const isAction = (value: string | undefined): value is AgentAction => (AGENT_ACTIONS as ReadonlyArray<string | undefined>).includes(value)

const buttonsOf = (group: Element): ReadonlyArray<HTMLButtonElement> => [...group.querySelectorAll<HTMLButtonElement>("button[data-action]")]

/** Enables each button whose action does something in `state`, says why the others are disabled, and keeps the focus. */
export const updateActionButtons = (group: Element, state: AgentState): void => {
  const focused = buttonsOf(group).find((button) => button === document.activeElement)
  for (const button of buttonsOf(group)) {
    const action = button.dataset["action"]
    if (!isAction(action)) continue
    const useful = applies(action, state)
    if (button.disabled === useful) button.disabled = !useful
    setAttribute(button, "title", useful ? null : `Nothing to ${action}: the agent is ${state}`)
  }
  if (focused !== undefined && focused.disabled) {
    const buttons = buttonsOf(group)
    const from = buttons.indexOf(focused)
    const next = [...buttons.slice(from + 1), ...buttons.slice(0, from)].find((button) => !button.disabled)
    const fallback = group.querySelector<HTMLButtonElement>(".actions-toggle")
    ;(next ?? fallback)?.focus()
  }
}

export interface ActionButtonsOptions {
  /** Folded behind a menu button on narrow screens: for table rows. */
  readonly foldable?: boolean
}

/** The buttons for the actions the caller may run on `agent`; none at all when it may run none. */
export const actionButtons = (
  context: Context,
  agent: string,
  state: AgentState,
  options: ActionButtonsOptions = {}
): HTMLElement | undefined => {
  const actions = context.permissions.agentActions.filter((action) => context.permissions.mayAct(action, agent))
  if (actions.length === 0) return undefined
  const list = h("div", { class: "actions-list", role: "group", "aria-label": `Actions on ${agent}` })
  const group = options.foldable === true ? h("div", { class: "actions foldable" }) : list
  if (group === list) list.classList.add("actions")
  if (options.foldable === true) list.id = `actions-${++menus}`
  const toggle = options.foldable === true
    ? h("button", {
      type: "button",
      class: "small actions-toggle",
      "aria-expanded": "false",
      "aria-controls": list.id,
      "aria-label": `Actions on ${agent}`,
      title: `Actions on ${agent}`
    }, h("span", { "aria-hidden": "true" }, "⋯"))
    : undefined

  const setOpen = (open: boolean, focus: "first" | "toggle" | "none") => {
    if (toggle === undefined) return
    group.classList.toggle("open", open)
    toggle.setAttribute("aria-expanded", String(open))
    if (open) document.addEventListener("pointerdown", outside)
    else document.removeEventListener("pointerdown", outside)
    if (focus === "first") buttonsOf(list).find((button) => !button.disabled)?.focus()
    else if (focus === "toggle") toggle.focus()
  }
  const outside = (event: Event) => {
    if (!(event.target instanceof Node) || !group.contains(event.target)) setOpen(false, "none")
  }

  for (const action of actions) {
    list.append(h("button", {
      type: "button",
      class: `small action-${action}`,
      "data-action": action,
      "aria-label": `${ACTION_LABELS[action]} ${agent}`,
      onclick: (event) => {
        const button = event.currentTarget
        if (!(button instanceof HTMLButtonElement) || button.getAttribute("aria-disabled") === "true") return
        // Not `disabled` while under way, which would take the focus from it.
        button.setAttribute("aria-disabled", "true")
        if (group.classList.contains("open")) setOpen(false, "toggle")
        void context.controls.act(action, [agent]).finally(() => {
          button.removeAttribute("aria-disabled")
          updateActionButtons(group, context.store.agent(agent)?.state ?? state)
        })
      }
    }, ACTION_LABELS[action]))
  }
  if (toggle !== undefined) {
    toggle.addEventListener("click", () => setOpen(!group.classList.contains("open"), "first"))
    group.addEventListener("keydown", (event) => {
      if (!group.classList.contains("open")) return
      const enabled = buttonsOf(list).filter((button) => !button.disabled)
      const at = enabled.findIndex((button) => button === document.activeElement)
      if (event.key === "Escape") {
        event.preventDefault()
        setOpen(false, "toggle")
      } else if ((event.key === "ArrowDown" || event.key === "ArrowRight") && enabled.length > 0) {
        event.preventDefault()
        enabled[(at + 1) % enabled.length]?.focus()
      } else if ((event.key === "ArrowUp" || event.key === "ArrowLeft") && enabled.length > 0) {
        event.preventDefault()
        enabled[(at - 1 + enabled.length) % enabled.length]?.focus()
      }
    })
    // Tabbing out of it closes it, as clicking elsewhere does.
    group.addEventListener("focusout", (event) => {
      if (event.relatedTarget instanceof Node && !group.contains(event.relatedTarget)) setOpen(false, "none")
    })
    group.append(toggle, list)
  }
  updateActionButtons(group, state)
  return group
}
