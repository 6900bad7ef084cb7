/**
 * The page's views by URL hash, so that each has an address to bookmark and share and the back button works:
 * `#/` the agents, `#/agent/<name>` one agent, `#/events`, `#/audit`, `#/dependencies`. Changing view never
 * reloads the page.
 */

export type Route =
  | { readonly view: "agents" }
  | { readonly view: "agent"; readonly name: string }
  | { readonly view: "events" }
  | { readonly view: "audit" }
  | { readonly view: "dependencies" }

export const parseRoute = (hash: string): Route => {
  const path = hash.replace(/^#/, "")
  if (path.startsWith("/agent/")) {
    try {
      const name = decodeURIComponent(path.slice("/agent/".length))
      if (name !== "") return { view: "agent", name }
    } catch {
      // A malformed escape: the agents, as for any other unknown address.
    }
  }
  switch (path) {
    case "/events":
      return { view: "events" }
    case "/audit":
      return { view: "audit" }
    case "/dependencies":
      return { view: "dependencies" }
    default:
      return { view: "agents" }
  }
}

export const agentHref = (name: string): string => `#/agent/${encodeURIComponent(name)}`

/** The nav's links: each view's address and label. */
export const NAV: ReadonlyArray<{ readonly href: string; readonly label: string; readonly view: Route["view"] }> = [
  { href: "#/", label: "Agents", view: "agents" },
  { href: "#/events", label: "Events", view: "events" },
  { href: "#/audit", label: "Audit", view: "audit" },
  { href: "#/dependencies", label: "Dependencies", view: "dependencies" }
]
