/**
 * WebAssembly's binary format, as far as LineKernel needs it: numbers, sections, and the instructions it uses,
 * named as in the text format, so that a function reads as its instructions. A module is a handful of bytes
 * assembled when it loads; no toolchain is needed to change it.
 */

/** LEB128, as WebAssembly encodes its numbers. */
export const unsigned = (value: number): Array<number> => {
  const bytes: Array<number> = []
  let rest = value >>> 0
  do {
    const low = rest & 0x7f
    rest >>>= 7
    bytes.push(rest === 0 ? low : low | 0x80)
  } while (rest !== 0)
  return bytes
}

export const signed = (value: number): Array<number> => {
  const bytes: Array<number> = []
  let rest = value | 0
  for (;;) {
    const low = rest & 0x7f
    rest >>= 7
    if ((rest === 0 && (low & 0x40) === 0) || (rest === -1 && (low & 0x40) !== 0)) return [...bytes, low]
    bytes.push(low | 0x80)
  }
}

export const vector = (items: ReadonlyArray<ReadonlyArray<number>>): Array<number> => [...unsigned(items.length), ...items.flat()]

const name = (text: string): Array<number> => vector([...text].map((character) => [character.charCodeAt(0)]))

const section = (id: number, content: ReadonlyArray<number>): Array<number> => [id, ...unsigned(content.length), ...content]

const I32 = 0x7f

export interface WasmFunction {
  readonly name: string
  readonly params: number
  /** How many i32 locals it has besides its parameters. */
  readonly locals: number
  readonly body: ReadonlyArray<number>
}

/**
 * A module of functions that take i32 parameters and return an i32, and one exported memory of `pages` that never
 * grows (so that views on it stay valid).
 */
export const assemble = (pages: number, functions: ReadonlyArray<WasmFunction>): Uint8Array =>
  new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(functions.map((f) => [0x60, ...vector(Array.from({ length: f.params }, () => [I32])), ...vector([[I32]])]))),
    ...section(3, vector(functions.map((_, index) => unsigned(index)))),
    ...section(5, vector([[0x01, ...unsigned(pages), ...unsigned(pages)]])),
    ...section(7, vector([[...name("memory"), 0x02, 0], ...functions.map((f, index) => [...name(f.name), 0x00, ...unsigned(index)])])),
    ...section(10, vector(functions.map((f) => {
      const code = [...vector([[...unsigned(f.locals), I32]]), ...f.body, 0x0b]
      return [...unsigned(code.length), ...code]
    })))
  ])

const EMPTY = 0x40
export const block = [0x02, EMPTY]
export const loop = [0x03, EMPTY]
export const ifThen = [0x04, EMPTY]
export const end = [0x0b]
export const br = (depth: number) => [0x0c, depth]
export const brIf = (depth: number) => [0x0d, depth]
export const ret = [0x0f]
export const get = (local: number) => [0x20, local]
export const set = (local: number) => [0x21, local]
export const i32 = (value: number) => [0x41, ...signed(value)]
export const load = (offset: number) => [0x28, 2, ...unsigned(offset)]
export const load8 = [0x2d, 0, 0]
export const store = (offset: number) => [0x36, 2, ...unsigned(offset)]
export const store8 = [0x3a, 0, 0]
export const eqz = [0x45]
export const eq = [0x46]
export const gtU = [0x4b]
export const geU = [0x4f]
export const ctz = [0x68]
export const add = [0x6a]
export const sub = [0x6b]
export const and = [0x71]
export const shl = [0x74]
const simd = (opcode: number, ...immediates: Array<number>) => [0xfd, ...unsigned(opcode), ...immediates]
export const v128Load = simd(0x00, 0, 0)
export const v128Store = simd(0x0b, 0, 0)
export const i8x16Splat = simd(0x0f)
export const i8x16Eq = simd(0x23)
export const i8x16Bitmask = simd(0x64)
