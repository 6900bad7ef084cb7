/**
 * How deep and how large a parsed JSON value is, measured without recursion, before anything decodes it. Schema
 * decoding and its error formatting recurse once per level, so a value nested 100,000 deep (a 200 KB text, which
 * `JSON.parse` reads without trouble) overflowed the stack there; and they make an issue per bad value, so 4
 * million bad values (an 8 MiB text) took 12 s and 2.5 GB of memory to report, and 8 million ran out of heap.
 * Shared by everything that decodes untrusted JSON: the command interface's requests, the config file.
 */

export interface JsonLimits {
  /** Deepest nesting of objects and arrays; the top-level one is depth 1. */
  readonly maxDepth: number
  /** Most values (objects, arrays and scalars, the top level included); unlimited when absent. */
  readonly maxValues?: number | undefined
}

/** The first limit a value breaks: where it is nested too deep (in document order), or that it has too many values. */
export type JsonLimitProblem =
  | { readonly _tag: "TooDeep"; readonly path: ReadonlyArray<PropertyKey> }
  | { readonly _tag: "TooManyValues" }

interface Pending {
  readonly node: object
  readonly depth: number
  readonly parent: Pending | undefined
  readonly key: PropertyKey | undefined
}

const pathOf = (item: Pending): ReadonlyArray<PropertyKey> => {
  const path: Array<PropertyKey> = []
  for (let at: Pending | undefined = item; at?.key !== undefined; at = at.parent) path.push(at.key)
  return path.reverse()
}

/** The first of `limits` that `value` breaks, if any. Memory is one entry per object or array. */
export const checkJsonLimits = (value: unknown, limits: JsonLimits): JsonLimitProblem | undefined => {
  const maxValues = limits.maxValues ?? Number.POSITIVE_INFINITY
  if (maxValues < 1) return { _tag: "TooManyValues" }
  if (typeof value !== "object" || value === null) return undefined
  let values = 1
  const pending: Array<Pending> = [{ node: value, depth: 1, parent: undefined, key: undefined }]
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (item.depth > limits.maxDepth) return { _tag: "TooDeep", path: pathOf(item) }
    // Counted before the children are collected, so that a huge array is refused without a copy of it.
    const children: Array<readonly [PropertyKey, object]> = []
    if (Array.isArray(item.node)) {
      values += item.node.length
      if (values > maxValues) return { _tag: "TooManyValues" }
      item.node.forEach((child: unknown, index) => {
        if (typeof child === "object" && child !== null) children.push([index, child])
      })
    } else {
      const entries = Object.entries(item.node)
      values += entries.length
      if (values > maxValues) return { _tag: "TooManyValues" }
      for (const [key, child] of entries) if (typeof child === "object" && child !== null) children.push([key, child])
    }
    // Pushed last to first, so that the first child is looked at first.
    for (let index = children.length - 1; index >= 0; index--) {
      const child = children[index]
      if (child !== undefined) pending.push({ node: child[1], depth: item.depth + 1, parent: item, key: child[0] })
    }
  }
  return undefined
}
