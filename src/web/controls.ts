/**
 * The controls bar and what its actions do: the reason field (sent as the envelope's `reason` with the next action,
 * then cleared), agent actions from rows, the detail view and a selection, `reload` with its dry-run plan shown
 * first, and `shutdown` behind a confirmation. Every answer is shown: a success in the status line, an error as
 * the server sent it (its code, reason and text) in the alert line.
 */
import { ApiError, api } from "./api.ts"
import { h } from "./dom.ts"
import type { Permissions } from "./permissions.ts"
import type { ActionResultWire, AgentAction, ReloadPlanWire, TargetResultWire } from "./wire.ts"

/** The longest reason the server takes (MAX_REASON_LENGTH in src/protocol/Envelope.ts). */
const MAX_REASON_LENGTH = 500

const list = (names: ReadonlyArray<string>): string => names.length === 0 ? "none" : names.join(", ")

const targetLine = (result: TargetResultWire): string =>
  `${result.agent}: ${result.outcome}${result.message === "" ? "" : ` (${result.message})`}`

/** What an action's answer says, one line per agent for several. */
const describeResult = (result: ActionResultWire): ReadonlyArray<string> =>
  "results" in result ? (result.results.length === 0 ? ["No agent matched"] : result.results.map(targetLine)) : [result.message]

/** The plan of a reload, as the dialog and the result line show it. */
const planView = (plan: ReloadPlanWire): HTMLElement => {
  const row = (label: string, value: string) => h("div", { class: "plan-row" }, h("dt", {}, label), h("dd", {}, value))
  const settings = (changes: ReloadPlanWire["settings"]) =>
    changes.length === 0 ? "none" : changes.map((change) => `${change.key}: ${change.from} → ${change.to}`).join("; ")
  const changes = plan.agents.added.length + plan.agents.removed.length + plan.agents.changed.length + plan.settings.length
  return h(
    "div",
    {},
    h("p", { class: "plan-config" }, "Config ", h("code", {}, plan.config)),
    h(
      "dl",
      { class: "plan" },
      row("Agents added", list(plan.agents.added)),
      row("Agents removed", list(plan.agents.removed)),
      row("Agents changed (restarted)", list(plan.agents.changed)),
      row("Agents unchanged", list(plan.agents.unchanged)),
      row("Settings applied at once", settings(plan.settings)),
      row("Settings that need a restart of up", settings(plan.needs_restart))
    ),
    changes === 0 ? h("p", { class: "muted" }, "Nothing would change.") : null
  )
}

export class Controls {
  /** The bar: the reason field, reload and shutdown. Empty when the caller may control nothing. */
  readonly bar: HTMLElement
  /** Where answers are said. */
  readonly feedback: HTMLElement
  private readonly reason: HTMLInputElement
  private readonly result: HTMLElement
  private readonly error: HTMLElement
  private readonly reloadDialog: HTMLDialogElement
  private readonly reloadPlan: HTMLElement
  private readonly reloadApply: HTMLButtonElement
  private readonly shutdownDialog: HTMLDialogElement
  private readonly shutdownReason: HTMLElement

  constructor(permissions: Permissions) {
    this.reason = h("input", {
      id: "action-reason",
      "data-testid": "action-reason",
      type: "text",
      maxlength: MAX_REASON_LENGTH,
      autocomplete: "off",
      placeholder: "optional: why, e.g. deploy 1.4.2"
    })
    this.result = h("div", { "data-testid": "action-result", role: "status", class: "feedback-result", hidden: true })
    this.error = h("div", { "data-testid": "action-error", role: "alert", class: "feedback-error", hidden: true })
    const dismiss = h("button", { type: "button", class: "ghost small", "aria-label": "Dismiss", onclick: () => this.clear() }, "Dismiss")
    this.feedback = h("div", { class: "feedback", hidden: true }, this.result, this.error, dismiss)

    this.reloadPlan = h("div", { "data-testid": "reload-plan", class: "reload-plan", "aria-live": "polite" })
    this.reloadApply = h("button", { type: "button", class: "primary", "data-testid": "reload-apply", onclick: () => void this.applyReload() }, "Apply")
    this.reloadDialog = h(
      "dialog",
      { "data-testid": "reload-dialog", "aria-labelledby": "reload-title" },
      h("h2", { id: "reload-title" }, "Reload the config"),
      h("p", { class: "muted" }, "What a reload would change, from a dry run: nothing has changed yet."),
      this.reloadPlan,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { type: "button", "data-testid": "reload-cancel", onclick: () => this.reloadDialog.close() }, "Cancel"),
        this.reloadApply
      )
    )
    this.shutdownReason = h("p", { class: "muted" })
    this.shutdownDialog = h(
      "dialog",
      { "data-testid": "shutdown-dialog", "aria-labelledby": "shutdown-title" },
      h("h2", { id: "shutdown-title" }, "Shut down the orchestrator?"),
      h("p", {}, "Every agent is stopped, dependents first, and then the orchestrator exits. This page loses its connection."),
      this.shutdownReason,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { type: "button", autofocus: true, onclick: () => this.shutdownDialog.close() }, "Cancel"),
        h("button", { type: "button", class: "danger", "data-testid": "shutdown-confirm", onclick: () => void this.confirmShutdown() }, "Shut down")
      )
    )

    this.bar = h(
      "section",
      { class: "controls", "aria-label": "Controls" },
      h("label", { for: "action-reason", class: "reason-label" }, "Reason (audit trail)"),
      this.reason,
      h(
        "div",
        { class: "controls-buttons" },
        permissions.mayReload
          ? h("button", { type: "button", "data-testid": "reload", onclick: () => void this.openReload() }, "Reload config…")
          : null,
        permissions.mayShutdown
          ? h("button", { type: "button", class: "danger", "data-testid": "shutdown", onclick: () => this.openShutdown() }, "Shut down…")
          : null
      ),
      this.reloadDialog,
      this.shutdownDialog
    )
  }

  /** Runs `action` on `names` (one agent through its route, several through `/command`) and says how it went. */
  async act(action: AgentAction, names: ReadonlyArray<string>): Promise<void> {
    const [only] = names
    if (only === undefined) return
    const reason = this.takeReason()
    await this.run(
      () => names.length === 1 ? api.act(action, only, reason) : api.actOnMany(action, names, reason),
      describeResult,
      reason
    )
  }

  private takeReason(): string | undefined {
    const reason = this.reason.value.trim()
    return reason === "" ? undefined : reason
  }

  /** Shows what `request` answered; a success clears the reason, which was for that action. */
  private async run<A>(request: () => Promise<A>, describe: (answer: A) => ReadonlyArray<string>, reason: string | undefined): Promise<void> {
    this.feedback.setAttribute("aria-busy", "true")
    try {
      const answer = await request()
      if (reason !== undefined && this.reason.value.trim() === reason) this.reason.value = ""
      this.showResult(describe(answer))
    } catch (error) {
      this.showError(error)
    } finally {
      this.feedback.removeAttribute("aria-busy")
    }
  }

  private showResult(lines: ReadonlyArray<string>): void {
    this.result.replaceChildren(...lines.map((line) => h("div", {}, line)))
    this.result.hidden = false
    this.error.hidden = true
    this.feedback.hidden = false
  }

  /** An error answer exactly as the server gave it: the code and reason, then its text. */
  showError(error: unknown): void {
    const content = error instanceof ApiError
      ? [h("strong", { class: "error-code" }, `${error.code} ${error.reason}`), " ", h("span", { class: "error-text" }, error.error)]
      : [h("span", { class: "error-text" }, error instanceof Error ? error.message : String(error))]
    this.error.replaceChildren(...content)
    this.error.hidden = false
    this.result.hidden = true
    this.feedback.hidden = false
  }

  clear(): void {
    this.feedback.hidden = true
    this.result.hidden = true
    this.error.hidden = true
  }

  private async openReload(): Promise<void> {
    this.reloadPlan.replaceChildren(h("p", { class: "muted" }, "Asking the orchestrator what would change…"))
    this.reloadApply.disabled = true
    this.reloadDialog.showModal()
    try {
      const plan = await api.reload(true, undefined)
      this.reloadPlan.replaceChildren(planView(plan))
      this.reloadApply.disabled = false
      this.reloadApply.focus()
    } catch (error) {
      // No plan to show (the config does not load, say): the error goes where every answer's does.
      this.reloadDialog.close()
      this.showError(error)
    }
  }

  private async applyReload(): Promise<void> {
    this.reloadDialog.close()
    const reason = this.takeReason()
    await this.run(
      () => api.reload(false, reason),
      (plan) => [
        `Reloaded ${plan.config}: added ${list(plan.agents.added)}; removed ${list(plan.agents.removed)}; ` +
        `changed ${list(plan.agents.changed)}`,
        ...plan.results.map(targetLine),
        ...(plan.needs_restart.length === 0 ? [] : [`Needs a restart of up: ${plan.needs_restart.map((change) => change.key).join(", ")}`])
      ],
      reason
    )
  }

  private openShutdown(): void {
    const reason = this.takeReason()
    this.shutdownReason.textContent = reason === undefined ? "No reason given (the Reason field is empty)." : `Reason: ${reason}`
    this.shutdownDialog.showModal()
  }

  private async confirmShutdown(): Promise<void> {
    this.shutdownDialog.close()
    const reason = this.takeReason()
    await this.run(() => api.shutdown(reason), (answer) => [answer.message], reason)
  }
}
