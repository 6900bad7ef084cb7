/**
 * JSON text that is known to encode a value of some type: what the command interface sends for a result it
 * encoded by parts (`ps` and `status`: each agent's text made once per change of the agent, and only the uptimes
 * written in per request). A brand on a string, made only by `jsonText` and by code whose output a test checks
 * against `jsonText` of the whole value.
 */
declare const encodes: unique symbol

export type JsonText<A> = string & { readonly [encodes]: A }

/** `value` as JSON text. */
export const jsonText = <A>(value: A): JsonText<A> => JSON.stringify(value) as JsonText<A>

/** Text found to be the JSON of an `A` by other means than `jsonText`: a test must prove it. */
export const assumeJsonText = <A>(text: string): JsonText<A> => text as JsonText<A>

/** A JSON object's text in two parts around the value of one of its members. */
export interface AroundValue {
  /** Up to the member's value: ends with `"key":`. */
  readonly before: string
  /** What follows the value. */
  readonly after: string
}

/**
 * JSON text split around the first `null` value of a member named `key`. In the text of an object with no member
 * of that name nested before it, that is the object's own member: within a JSON string every quote is escaped, so
 * only a member's name ends in a quote followed by `:`.
 */
export const aroundNull = (text: string, key: string): AroundValue => {
  const member = `${JSON.stringify(key)}:`
  const at = text.indexOf(`${member}null`)
  if (at === -1) throw new Error(`no ${member}null in ${text.slice(0, 200)}`)
  return { before: text.slice(0, at + member.length), after: text.slice(at + member.length + "null".length) }
}
