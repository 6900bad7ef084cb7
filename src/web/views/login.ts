/**
 * The login form, shown when the API answers 401: the server has bearer tokens and this tab has none (or one it
 * refused). The token is kept in sessionStorage by the caller of `onToken`, never in a cookie.
 */
import { h } from "../dom.ts"

export const loginView = (message: string | undefined, onToken: (token: string) => void): HTMLElement => {
  const input = h("input", {
    id: "login-token",
    name: "token",
    type: "password",
    required: true,
    autocomplete: "current-password",
    spellcheck: "false",
    placeholder: "orch_…"
  })
  const form = h(
    "form",
    { "data-testid": "login", class: "login card", "aria-labelledby": "login-title", novalidate: false },
    h("h1", { id: "login-title" }, "Log in to the orchestrator"),
    h(
      "p",
      { class: "muted" },
      "This orchestrator asks for a bearer token (its config has http.tokens); ",
      h("code", {}, "orchestrate token create <name>"),
      " makes one. It is kept in this tab only (sessionStorage) until you log out or close the tab."
    ),
    message === undefined ? null : h("p", { class: "feedback-error", role: "alert" }, message),
    h("label", { for: "login-token" }, "Token"),
    input,
    h("button", { type: "submit", class: "primary" }, "Log in")
  )
  form.addEventListener("submit", (event) => {
    // Never submitted to the server as a form: the token goes only into the API's Authorization header.
    event.preventDefault()
    const token = input.value.trim()
    if (token !== "") onToken(token)
  })
  queueMicrotask(() => input.focus())
  return form
}
