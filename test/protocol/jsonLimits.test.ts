import { describe, expect, it } from "@effect/vitest"
import { checkJsonLimits } from "../../src/protocol/jsonLimits.ts"

const depth = (maxDepth: number) => ({ maxDepth })

describe("checkJsonLimits", () => {
  it("a scalar, or nesting within the limit, breaks nothing", () => {
    expect(checkJsonLimits(1, depth(0))).toBeUndefined()
    expect(checkJsonLimits(null, depth(0))).toBeUndefined()
    expect(checkJsonLimits({ a: [1, { b: "x" }] }, depth(3))).toBeUndefined()
    expect(checkJsonLimits({}, depth(1))).toBeUndefined()
  })

  it("counts the top level as depth 1, and only objects and arrays as levels", () => {
    expect(checkJsonLimits({}, depth(0))).toEqual({ _tag: "TooDeep", path: [] })
    expect(checkJsonLimits({ a: [1, { b: "x" }] }, depth(2))).toEqual({ _tag: "TooDeep", path: ["a", 1] })
    expect(checkJsonLimits({ a: "a long string is not a level" }, depth(1))).toBeUndefined()
  })

  it("names the first too-deep value in document order", () => {
    expect(checkJsonLimits({ ok: { fine: 1 }, first: [[1]], second: [[2]] }, depth(2))).toEqual({ _tag: "TooDeep", path: ["first", 0] })
    expect(checkJsonLimits([1, [2], [3, [4, [5]]]], depth(3))).toEqual({ _tag: "TooDeep", path: [2, 1, 1] })
  })

  it("measures a million levels without recursing", () => {
    let deep: unknown = 1
    for (let level = 0; level < 1_000_000; level++) deep = [deep]
    expect(checkJsonLimits(deep, depth(32))).toEqual({ _tag: "TooDeep", path: Array.from({ length: 32 }, () => 0) })
  })

  it("counts every value, the top level and scalars included", () => {
    // 1 object + 1 array + 3 numbers + 1 object + 1 string
    const value = { list: [1, 2, 3], nested: { name: "x" } }
    expect(checkJsonLimits(value, { maxDepth: 8, maxValues: 7 })).toBeUndefined()
    expect(checkJsonLimits(value, { maxDepth: 8, maxValues: 6 })).toEqual({ _tag: "TooManyValues" })
    expect(checkJsonLimits("x", { maxDepth: 8, maxValues: 0 })).toEqual({ _tag: "TooManyValues" })
    expect(checkJsonLimits(Array.from({ length: 5_000_000 }, () => 0), { maxDepth: 8, maxValues: 250_000 }))
      .toEqual({ _tag: "TooManyValues" })
  })
})
