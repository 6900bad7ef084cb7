/**
 * Building the page's elements without a framework: `h("td", { "data-col": "pid" }, "4711")`. Text is always set as
 * text, never parsed as HTML, so nothing an agent prints or a config names can inject markup.
 */

export type Child = Node | string | number | null | undefined | false
type Listener = (event: Event) => void
export type Attributes = Readonly<Record<string, string | number | boolean | null | undefined | Listener>>

const apply = (element: Element, attributes: Attributes): void => {
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === "function") element.addEventListener(key.slice(2), value)
    else if (value === true) element.setAttribute(key, "")
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(key, String(value))
  }
}

const append = (element: Element, children: ReadonlyArray<Child>): void => {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    element.append(typeof child === "number" ? String(child) : child)
  }
}

/** An HTML element; attributes named `on<event>` whose value is a function become listeners. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: ReadonlyArray<Child>
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag)
  apply(element, attributes)
  append(element, children)
  return element
}

const SVG_NS = "http://www.w3.org/2000/svg"

/** An SVG element, as `h` makes HTML ones. */
export const s = <K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: ReadonlyArray<Child>
): SVGElementTagNameMap[K] => {
  const element = document.createElementNS(SVG_NS, tag)
  apply(element, attributes)
  append(element, children)
  return element
}

/** Sets an element's text only when it changed, so that live updates leave unchanged cells (and selections) alone. */
export const setText = (element: Node, text: string): void => {
  if (element.textContent !== text) element.textContent = text
}

/** Sets or removes an attribute only when it changed. */
export const setAttribute = (element: Element, name: string, value: string | null): void => {
  if (value === null) {
    if (element.hasAttribute(name)) element.removeAttribute(name)
  } else if (element.getAttribute(name) !== value) element.setAttribute(name, value)
}

/** The element `selector` finds under `root`, or a clear error naming what the page's own markup lacks. */
export const required = <E extends Element>(root: ParentNode, selector: string, type: new() => E): E => {
  const found = root.querySelector(selector)
  if (!(found instanceof type)) throw new Error(`the page has no ${selector}`)
  return found
}
