/**
 * The dashboard's entry: the page's frame (header, views nav, connection banner, controls bar, `<main>`), and a
 * session in it: who the caller is (`whoami`, or the login form when the API answers 401), the first `status`
 * and `history` pages, then the event stream with `status=1`, which keeps everything current from then on
 * without polling. `document.body.dataset.ready` becomes "true" once the first agents list is shown and the
 * stream is open; `dataset.connection` says whether it is.
 */
import { api, ApiError, errorText } from "./api.ts"
import { Controls } from "./controls.ts"
import { h, required, setText } from "./dom.ts"
import { LiveStream } from "./liveStream.ts"
import { Permissions } from "./permissions.ts"
import { NAV, parseRoute } from "./router.ts"
import { forgetToken, storedToken, storeToken } from "./session.ts"
import { Store } from "./store.ts"
import { agentDetailView } from "./views/agentDetail.ts"
import { agentsView } from "./views/agents.ts"
import { auditView } from "./views/audit.ts"
import type { Context, View } from "./views/common.ts"
import { dependenciesView } from "./views/dependencies.ts"
import { eventsView } from "./views/events.ts"
import { loginView } from "./views/login.ts"
import type { DroppedWire, HistoryEventWire, StatusMessageWire } from "./wire.ts"

/** Events of each kind loaded at first: the newest, for the events and audit views. */
const FIRST_EVENTS = 500
/** The stream writes a `status` message at least every 2 s: this long without anything, it is taken for dead. */
const STALE_AFTER_MS = 12_000

const body = document.body
const root = required(document, "#app", HTMLElement)

const navLinks = NAV.map((item) => h("a", { href: item.href, "data-view": item.view }, item.label))
const nav = h("nav", { "aria-label": "Views", class: "views", hidden: true }, ...navLinks)
const principal = h("span", { class: "principal", "data-testid": "principal" })
const live = h("span", { class: "live", "data-testid": "connection-indicator", hidden: true }, h("span", { class: "dot", "aria-hidden": "true" }), "Connecting")
const logout = h("button", { type: "button", class: "small ghost", "data-testid": "logout", hidden: true }, "Log out")
const banner = h(
  "div",
  { class: "banner", "data-testid": "connection-banner", role: "alert", hidden: true },
  h("strong", {}, "Connection to the orchestrator lost. "),
  h("span", { class: "banner-detail" }, "Reconnecting; what happens meanwhile is shown once it is back.")
)
/** What the page must say about its data while connected: events the history evicted before they were shown. */
const notice = h("div", { class: "notice", role: "status", hidden: true })
const controlsSlot = h("div", { class: "controls-slot" })
const main = h("main", { id: "main", tabindex: -1 })

root.replaceChildren(
  h("a", { class: "skip-link", href: "#main", onclick: (event) => {
    event.preventDefault()
    main.focus()
  } }, "Skip to the content"),
  h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: "#/", "aria-label": "orchestrate: agents" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "orchestrate"),
    nav,
    h("div", { class: "session" }, live, principal, logout)
  ),
  banner,
  notice,
  controlsSlot,
  main
)

const setConnection = (connection: "open" | "closed" | "connecting") => {
  body.dataset["connection"] = connection === "open" ? "open" : "closed"
  live.className = `live live-${connection}`
  setText(live.lastChild ?? live, connection === "open" ? "Live" : connection === "connecting" ? "Connecting" : "Offline")
  // Not for the first connection, which is simply under way: only once the stream was lost (or never came).
  banner.hidden = connection !== "closed"
}

/** One session: a caller, its data and its stream, ended by a logout, a refused token or a new orchestrator run. */
class Session {
  private stream: LiveStream | undefined
  private view: View | undefined
  private stopped = false
  private readonly store = new Store()
  private context: Context | undefined
  private readonly offRoute: () => void

  private readonly onEnd: (reason: "logout" | "unauthorized" | "restart", message?: string) => void

  constructor(onEnd: (reason: "logout" | "unauthorized" | "restart", message?: string) => void) {
    this.onEnd = onEnd
    const onHash = () => this.render(true)
    window.addEventListener("hashchange", onHash)
    this.offRoute = () => window.removeEventListener("hashchange", onHash)
  }

  async start(): Promise<void> {
    body.dataset["ready"] = "false"
    notice.hidden = true
    // Shown once the API has said who the caller is: not over a login form that may come instead.
    nav.hidden = true
    live.hidden = true
    setConnection("connecting")
    main.replaceChildren(h("p", { class: "muted loading" }, "Loading…"))
    try {
      const identity = await api.whoami()
      if (this.stopped) return
      nav.hidden = false
      live.hidden = false
      const permissions = new Permissions(identity)
      const controls = new Controls(permissions)
      this.context = { store: this.store, permissions, controls }
      setText(principal, identity.principal ?? "anonymous")
      principal.title = `May run: ${identity.allowed.join(", ")}${identity.agents === null ? "" : `; on agents ${identity.agents.join(", ")}`}`
      logout.hidden = storedToken() === undefined
      controlsSlot.replaceChildren(...(permissions.controls ? [controls.bar] : []), controls.feedback)

      const [status, events, audit] = await Promise.all([
        api.status(),
        api.history({ limit: FIRST_EVENTS, categories: ["agent", "orchestrator"] }),
        api.history({ limit: FIRST_EVENTS, category: "command" })
      ])
      if (this.stopped) return
      this.store.setStatus(status)
      this.store.addEvents([...events.events, ...audit.events])
      // From the oldest of each first page on, the store has every event of its categories (from the start when
      // the page held them all); the stream adds every later one.
      this.store.markComplete(["agent", "orchestrator"], events.has_more ? events.events[0]?.seq ?? 0 : 0)
      this.store.markComplete(["command"], audit.has_more ? audit.events[0]?.seq ?? 0 : 0)
      this.render(false)
      this.openStream(String(Math.min(events.last_seq ?? 0, audit.last_seq ?? 0)), status.started_at)
    } catch (error) {
      if (this.stopped) return
      if (error instanceof ApiError && error.unauthorized) return this.end("unauthorized", storedToken() === undefined ? undefined : error.error)
      this.fail(error)
    }
  }

  private openStream(resumeFrom: string, startedAt: string): void {
    let opened = false
    this.stream = new LiveStream({
      path: "/api/v1/events?status=1",
      lastEventId: resumeFrom,
      staleAfterMs: STALE_AFTER_MS,
      onMessage: (message) => {
        switch (message.event) {
          case "event":
            this.store.addEvents([JSON.parse(message.data) as HistoryEventWire])
            break
          case "status": {
            const status = JSON.parse(message.data) as StatusMessageWire
            if (!("agents" in status)) break
            // Another run of the orchestrator (restarted behind the same address): its seqs start again.
            if (status.started_at !== startedAt) return this.end("restart")
            this.store.setStatus(status)
            break
          }
          case "dropped": {
            const dropped = JSON.parse(message.data) as DroppedWire
            if (dropped.evicted_before_seq !== undefined) {
              notice.hidden = false
              setText(notice, `Events ${(dropped.events_after_seq ?? 0) + 1} to ${dropped.evicted_before_seq - 1} were evicted from the ` +
                "history before this page could show them (the history keeps only its newest events).")
            }
            break
          }
        }
      },
      onConnection: (connection) => {
        setConnection(connection)
        if (connection === "open" && !opened) {
          opened = true
          body.dataset["ready"] = "true"
        }
      },
      onRefused: (error) => {
        if (error.unauthorized) this.end("unauthorized", error.error)
        else this.fail(error)
      }
    })
    this.stream.start()
  }

  /** Shows the view the address names; `moved`: the user went there, so the focus follows. */
  private render(moved: boolean): void {
    const context = this.context
    if (context === undefined || this.store.status === undefined) return
    const route = parseRoute(location.hash)
    this.view?.dispose()
    const view = route.view === "agent"
      ? agentDetailView(context, route.name)
      : route.view === "events"
      ? eventsView(context)
      : route.view === "audit"
      ? auditView(context)
      : route.view === "dependencies"
      ? dependenciesView(context)
      : agentsView(context)
    this.view = view
    main.replaceChildren(view.element)
    document.title = `${view.title} · orchestrate`
    for (const link of navLinks) {
      const current = link.dataset["view"] === route.view || (route.view === "agent" && link.dataset["view"] === "agents")
      if (current) link.setAttribute("aria-current", "page")
      else link.removeAttribute("aria-current")
    }
    if (moved) main.focus({ preventScroll: true })
  }

  private fail(error: unknown): void {
    this.stop()
    const text = errorText(error)
    main.replaceChildren(h(
      "section",
      { class: "card fatal", role: "alert" },
      h("h1", {}, "The dashboard cannot show this orchestrator"),
      h("p", { class: "error-text" }, text),
      h("button", { type: "button", class: "primary", onclick: () => this.onEnd("restart") }, "Try again")
    ))
  }

  private end(reason: "logout" | "unauthorized" | "restart", message?: string): void {
    this.stop()
    this.onEnd(reason, message)
  }

  stop(): void {
    this.stopped = true
    this.stream?.stop()
    this.view?.dispose()
    this.offRoute()
  }

  logout(): void {
    this.end("logout")
  }
}

let session: Session | undefined

const showLogin = (message?: string) => {
  body.dataset["ready"] = "false"
  setConnection("connecting")
  controlsSlot.replaceChildren()
  // Nothing to navigate to, or to be connected to, before the login.
  nav.hidden = true
  live.hidden = true
  setText(principal, "")
  logout.hidden = true
  main.replaceChildren(loginView(message, (token) => {
    storeToken(token)
    begin()
  }))
  document.title = "Log in · orchestrate"
}

const begin = () => {
  session?.stop()
  const current = new Session((reason, message) => {
    if (reason === "restart") return begin()
    forgetToken()
    showLogin(reason === "unauthorized" ? message : undefined)
  })
  session = current
  void current.start()
}

logout.addEventListener("click", () => session?.logout())

// "/" goes to the view's first search field, as in most consoles; not while typing somewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return
  const target = event.target
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return
  const search = main.querySelector<HTMLInputElement>("input[type=search]")
  if (search === null) return
  event.preventDefault()
  search.focus()
})

begin()
