/**
 * The dependencies view: the graph as SVG (graphLayout.ts), each agent a box with its state, live, which opens
 * the agent's detail when clicked or activated from the keyboard; each edge an arrow from a dependency to the agent
 * that waits for it, labelled with the condition it waits for. Drawn again after a reload of the config.
 */
import { api, errorText } from "../api.ts"
import { h, s, setText } from "../dom.ts"
import { conditionText, estimateTextWidth, layout } from "../graphLayout.ts"
import { agentHref } from "../router.ts"
import type { DependencyGraphWire } from "../wire.ts"
import type { Context, View } from "./common.ts"

/** Label widths as the browser draws them: the 11 px sans-serif of `.edge-label` (styles.css). */
const measurer = (): ((text: string) => number) => {
  const context = document.createElement("canvas").getContext("2d")
  if (context === null) return estimateTextWidth
  context.font = `11px ${getComputedStyle(document.body).fontFamily}`
  return (text) => Math.ceil(context.measureText(text).width)
}

/** A name cut to fit its box, the whole of it in the node's title. */
const fit = (name: string, max = 20): string => name.length <= max ? name : `${name.slice(0, max - 1)}…`

export const dependenciesView = (context: Context): View => {
  const { store } = context
  const container = h("div", { class: "graph-scroll" }, h("p", { class: "muted" }, "Loading the graph…"))
  const order = h("p", { class: "muted start-order" })
  const stateTexts = new Map<string, SVGTextElement>()
  const nodeGroups = new Map<string, SVGGElement>()

  const draw = (graph: DependencyGraphWire) => {
    const placed = layout(graph, { textWidth: measurer() })
    stateTexts.clear()
    nodeGroups.clear()
    setText(order, graph.start_order.length === 0 ? "" : `Start order: ${graph.start_order.join(" → ")}`)
    if (graph.agents.length === 0) {
      container.replaceChildren(h("p", { class: "muted" }, "No agents."))
      return
    }
    const svg = s(
      "svg",
      {
        "data-testid": "dependency-graph",
        class: "graph",
        viewBox: `0 0 ${placed.width} ${placed.height}`,
        width: placed.width,
        height: placed.height,
        role: "group",
        "aria-label": "Dependency graph: each arrow goes from a dependency to the agent that waits for it"
      },
      s(
        "defs",
        {},
        s(
          "marker",
          { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
          s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" })
        )
      )
    )
    // The edges in words too, for a screen reader, to which the drawing's lines say nothing.
    const described = h("ul", { class: "visually-hidden", "aria-label": "Dependencies" })
    for (const edge of placed.edges) {
      const condition = edge.condition === undefined ? "" : conditionText(edge.condition)
      const title = `${edge.to} waits for ${edge.from}${condition === "" ? "" : ` to be ${condition}`}` +
        (edge.restart ? `, and restarts when ${edge.from} restarts` : "")
      described.append(h("li", {}, title))
      svg.append(s(
        "g",
        { class: "edge", "data-edge": `${edge.from}->${edge.to}`, "data-condition": edge.condition ?? "" },
        s("title", {}, title),
        s("path", { d: edge.path, class: "edge-line", "marker-end": "url(#arrow)" }),
        edge.label === ""
          ? null
          : s("text", { x: edge.labelX, y: edge.labelY, class: "edge-label", "text-anchor": "end" }, edge.label)
      ))
    }
    for (const node of placed.nodes) {
      const state = store.agent(node.name)?.state ?? graph.agents.find((a) => a.name === node.name)?.state ?? ""
      const middle = node.y + node.height / 2
      const stateText = s("text", { x: node.x + 28, y: middle + 12, class: "node-state" }, state)
      const open = () => {
        location.hash = agentHref(node.name)
      }
      const group = s(
        "g",
        {
          class: `node state-${state}`,
          "data-agent": node.name,
          tabindex: 0,
          role: "link",
          "aria-label": `${node.name}, ${state}: open its detail`,
          onclick: open,
          onkeydown: (event) => {
            if (event instanceof KeyboardEvent && (event.key === "Enter" || event.key === " ")) {
              event.preventDefault()
              open()
            }
          }
        },
        s("title", {}, `${node.name} (${state})`),
        s("rect", { x: node.x, y: node.y, width: node.width, height: node.height, rx: 6, class: "node-box" }),
        s("circle", { cx: node.x + 16, cy: middle + 8, r: 5, class: "dot" }),
        s("text", { x: node.x + 12, y: middle - 6, class: "node-name" }, fit(node.name)),
        stateText
      )
      stateTexts.set(node.name, stateText)
      nodeGroups.set(node.name, group)
      svg.append(group)
    }
    container.replaceChildren(svg, described)
  }

  /** States change far more often than the graph: only the boxes' states are redrawn for them. */
  const updateStates = () => {
    for (const [name, text] of stateTexts) {
      const state = store.agent(name)?.state
      const group = nodeGroups.get(name)
      if (state === undefined || group === undefined || text.textContent === state) continue
      text.textContent = state
      group.setAttribute("class", `node state-${state}`)
      group.setAttribute("aria-label", `${name}, ${state}: open its detail`)
      const title = group.querySelector("title")
      if (title !== null) title.textContent = `${name} (${state})`
    }
  }

  let disposed = false
  const load = () =>
    api.dependencies().then(
      (graph) => {
        if (!disposed) draw(graph)
      },
      (error: unknown) => {
        const text = errorText(error)
        container.replaceChildren(h("p", { class: "feedback-error", role: "alert" }, text))
      }
    )

  let seen = store.events.at(-1)?.seq ?? 0
  const onEvents = () => {
    let reloaded = false
    for (let i = store.events.length - 1; i >= 0; i--) {
      const event = store.events[i]
      if (event === undefined || event.seq <= seen) break
      if (event.event_name === "CONFIG_RELOADED") reloaded = true
    }
    seen = store.events.at(-1)?.seq ?? seen
    if (reloaded) void load()
  }

  void load()
  const offStatus = store.on("status", updateStates)
  const offEvents = store.on("events", onEvents)
  const element = h(
    "section",
    { class: "view view-dependencies", "aria-labelledby": "dependencies-title" },
    h("div", { class: "view-header" }, h("h1", { id: "dependencies-title" }, "Dependencies"), order),
    container,
    h("p", { class: "muted legend" }, "Arrows go from a dependency to the agent that waits for it, labelled with what it waits for; ↻: restarted with it.")
  )
  return {
    element,
    title: "Dependencies",
    dispose: () => {
      disposed = true
      offStatus()
      offEvents()
    }
  }
}
