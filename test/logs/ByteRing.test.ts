import { describe, expect, it } from "@effect/vitest"
import { ByteRing } from "../../src/logs/ByteRing.ts"

/** A seeded generator, so that a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

describe("ByteRing", () => {
  it("gives back every record put in as it was, oldest freed first, across wraps and growth", () => {
    const next = random(3)
    const ring = new ByteRing()
    // What the ring should hold, oldest first: each record's bytes and where the ring says it is.
    const held: Array<{ bytes: Buffer; offset: number; footprint: number }> = []
    let grew = 0
    for (let step = 0; step < 5000; step++) {
      // Between none and about forty records held, as a ring of lines is once it is full.
      if (held.length > 0 && next() < (held.length > 40 ? 0.9 : 0.45)) {
        const oldest = held.shift()
        if (oldest !== undefined) ring.free(oldest.footprint)
      } else {
        // Mostly small, now and then large, sometimes empty; written at an offset of a larger buffer, as lines are.
        const length = next() < 0.05 ? 0 : Math.floor(next() ** 3 * 3000)
        const source = Buffer.from(Array.from({ length: length + 10 }, () => Math.floor(next() * 256)))
        const placed = ring.put(source, 5, 5 + length, (relocate) => {
          grew++
          for (const record of held) record.offset = relocate(record.offset)
        })
        held.push({ bytes: source.subarray(5, 5 + length), offset: placed.offset, footprint: placed.footprint })
      }
      const intact = held.every((record) => ring.bytes.subarray(record.offset, record.offset + record.bytes.length).equals(record.bytes))
      expect(intact, `step ${step}`).toBe(true)
      expect(held.reduce((total, record) => total + record.footprint, 0)).toBeLessThanOrEqual(ring.bytes.length)
    }
    // It grew to what forty records take, and no further: once big enough, space is reused.
    expect(grew).toBeGreaterThan(2)
    expect(ring.bytes.length).toBeLessThan(512 * 1024)
  })
})
