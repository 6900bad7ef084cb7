/**
 * Small decoders from parsed JSON to the protocol's Types, for the fast path, which loads no Schema: each gives
 * the value the command's result schema decodes to, or `FAIL` for anything that schema might not accept as it is,
 * which sends the invocation to the full CLI (its own decoding then says what is wrong). They need only be right
 * where they succeed: test/cli/fast-decode.test.ts checks on generated values that a success equals the schema's.
 */

export const FAIL: unique symbol = Symbol("fast/decode/FAIL")
export type Decoder<A> = (input: unknown) => A | typeof FAIL

export const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export const string: Decoder<string> = (input) => typeof input === "string" ? input : FAIL

export const boolean: Decoder<boolean> = (input) => typeof input === "boolean" ? input : FAIL

/** Schema.Int: a safe integer. */
export const int: Decoder<number> = (input) => typeof input === "number" && Number.isSafeInteger(input) ? input : FAIL

/** Schema.Finite. */
export const finite: Decoder<number> = (input) => typeof input === "number" && Number.isFinite(input) ? input : FAIL

/** A safe integer, at least 0. */
export const count: Decoder<number> = (input) => typeof input === "number" && Number.isSafeInteger(input) && input >= 0 ? input : FAIL

/** A finite number, at least 0. */
export const nonNegative: Decoder<number> = (input) => typeof input === "number" && Number.isFinite(input) && input >= 0 ? input : FAIL

export const literals = <const A extends string>(values: ReadonlyArray<A>): Decoder<A> => (input) =>
  values.find((value) => value === input) ?? FAIL

export const nullOr = <A>(decoder: Decoder<A>): Decoder<A | null> => (input) => input === null ? null : decoder(input)

export const array = <A>(decoder: Decoder<A>): Decoder<ReadonlyArray<A>> => (input) => {
  if (!Array.isArray(input)) return FAIL
  const decoded: Array<A> = []
  for (const item of input) {
    const value = decoder(item)
    if (value === FAIL) return FAIL
    decoded.push(value)
  }
  return decoded
}

/** A record of any values by string keys; `__proto__`, which an object literal cannot hold as a key, is left alone. */
export const record: Decoder<Readonly<Record<string, unknown>>> = (input) => {
  if (!isRecord(input) || Object.hasOwn(input, "__proto__")) return FAIL
  return { ...input }
}

/** A required field: its key on the wire and its decoder. */
export interface Field<A> {
  readonly key: string
  readonly decode: Decoder<A>
}

export const field = <A>(key: string, decode: Decoder<A>): Field<A> => ({ key, decode })

/**
 * An object of required fields, each read from its wire key (`uptime_seconds` for `uptimeSeconds`); other keys
 * are ignored, as Schema's structs ignore them.
 */
export const struct = <A>(fields: { readonly [K in keyof A]-?: Field<A[K]> }): Decoder<A> => (input) => {
  if (!isRecord(input)) return FAIL
  const decoded: Partial<Record<keyof A, unknown>> = {}
  for (const name in fields) {
    const { key, decode } = fields[name]
    if (!Object.hasOwn(input, key)) return FAIL
    const value = decode(input[key])
    if (value === FAIL) return FAIL
    decoded[name] = value
  }
  // Every key of A has been set: `fields` names each of them (the mapped type makes none optional).
  return decoded as A
}

/** The first decoder that succeeds, in order (a Schema union of structs). */
export const union = <A, B>(first: Decoder<A>, second: Decoder<B>): Decoder<A | B> => (input) => {
  const value = first(input)
  return value === FAIL ? second(input) : value
}
