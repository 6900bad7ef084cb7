/**
 * The arrow keys between a table's rows: ↑ and ↓ move the focus to the same control (checkbox, name link, an
 * action, the actions menu) of the row shown above or below, so that a keyboard user goes down a column rather
 * than tabbing through every control of every row. Where that row lacks the control, or has it disabled or
 * folded away, its first control that can take the focus takes it.
 */

const SLOTS: ReadonlyArray<{ readonly matches: (element: Element) => string | undefined; readonly selector: (slot: string) => string }> = [
  { matches: (element) => element.matches("input[data-select]") ? "select" : undefined, selector: () => "input[data-select]" },
  { matches: (element) => element.matches("td[data-col] a") ? "link" : undefined, selector: () => "td[data-col=name] a" },
  {
    matches: (element) => element instanceof HTMLElement && element.matches("button[data-action]") ? `action:${element.dataset["action"] ?? ""}` : undefined,
    selector: (slot) => `button[data-action="${slot.slice("action:".length)}"]`
  },
  { matches: (element) => element.matches(".actions-toggle") ? "toggle" : undefined, selector: () => ".actions-toggle" }
]

const focusable = (element: Element | null): element is HTMLElement =>
  element instanceof HTMLElement && element.getClientRects().length > 0 &&
  !(element instanceof HTMLButtonElement && element.disabled) && !(element instanceof HTMLInputElement && element.disabled)

/** Listens on `body` (a `<tbody>` whose rows carry `rowSelector`) for ↑ and ↓. */
export const arrowKeysBetweenRows = (body: HTMLElement, rowSelector: string): void => {
  body.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return
    const target = event.target
    if (!(target instanceof Element)) return
    const row = target.closest(rowSelector)
    const slot = SLOTS.map((candidate) => ({ candidate, slot: candidate.matches(target) })).find((found) => found.slot !== undefined)
    if (row === null || slot?.slot === undefined) return
    const rows = [...body.querySelectorAll<HTMLElement>(rowSelector)].filter((element) => !element.hidden)
    const next = rows[rows.findIndex((element) => element === row) + (event.key === "ArrowUp" ? -1 : 1)]
    if (next === undefined) return
    event.preventDefault()
    const same = next.querySelector(slot.candidate.selector(slot.slot))
    const first = [...next.querySelectorAll("input, a, button")].find(focusable)
    ;(focusable(same) ? same : first)?.focus()
  })
}
