/**
 * Building blocks of the config schemas (orchestrator, event store, command interface): one way to give a key a
 * default, and one way each to write a bounded duration, integer or number. Every number a config file holds
 * is bounded, so that no setting, however absurd, gets past decoding (`heartbeatInterval: 0` once did, and spun
 * an idle orchestrator at 100% CPU).
 */
import { Duration, Effect, Option, Schema } from "effect"

/** `schema`, with `value` (in its encoded form) when the key is missing. */
export const withDefault = <S extends Schema.Codec<unknown, unknown>>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const units: ReadonlyArray<readonly [millis: number, unit: string]> = [
  [86_400_000, "day"],
  [3_600_000, "hour"],
  [60_000, "minute"],
  [1000, "second"]
]

const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? "" : "s"}`

/**
 * A duration as a config file could spell it (`"100 millis"`, `"1 hour"`): in the largest unit it is a whole
 * number of, so that a message's bound can be pasted back into the config.
 */
export const describeDuration = (duration: Duration.Duration): string => {
  if (!Duration.isFinite(duration)) return "infinity"
  const millis = Duration.toMillis(duration)
  const unit = millis === 0 ? undefined : units.find(([size]) => millis % size === 0)
  return unit === undefined ? plural(millis, "milli") : plural(millis / unit[0], unit[1])
}

/** The two ways a config writes a duration: milliseconds (`2000`) or text (`"2 seconds"`, `"500 millis"`). */
const DurationInput = Schema.Union([Schema.DurationFromMillis, Schema.DurationFromString])
const decodeDuration = Schema.decodeUnknownOption(DurationInput)

/**
 * A duration from `minimum` to `maximum` inclusive, given as milliseconds or as text. Negative and infinite
 * durations are out of every range, so they need no check of their own.
 *
 * The bound is checked twice. On the encoded side, because `withDefault` validates a struct's encoded form
 * before decoding it and stops at the first failing struct, so that a bound checked only on the decoded side
 * would be reported only once every other problem beside it was fixed. On the decoded side, so that settings
 * built in code and validated as `Schema.toType` (`CommandInterfaceConfig.layer`) are held to it too.
 */
export const durationBetween = (minimum: Duration.Input, maximum: Duration.Input) => {
  const range = { minimum: Duration.fromInputUnsafe(minimum), maximum: Duration.fromInputUnsafe(maximum) }
  const expected = `expected a duration from ${describeDuration(range.minimum)} to ${describeDuration(range.maximum)}`
  const inRange = (duration: Duration.Duration) =>
    Duration.between(duration, range) || `${expected}, got ${describeDuration(duration)}`
  return Schema.Union([Schema.Number, Schema.String]).check(
    Schema.makeFilter((input: number | string) => {
      const duration = decodeDuration(input)
      return Option.isSome(duration)
        ? inRange(duration.value)
        : `expected a duration such as 2000 or "2 seconds", got ${JSON.stringify(input)}`
    })
  ).pipe(Schema.decodeTo(DurationInput.check(Schema.makeFilter(inRange))))
}

/** A whole number from `minimum` to `maximum` inclusive. */
export const intBetween = (minimum: number, maximum: number) =>
  Schema.Number.check(
    Schema.makeFilter((n: number) =>
      (Number.isInteger(n) && n >= minimum && n <= maximum) || `expected an integer from ${minimum} to ${maximum}, got ${n}`
    )
  )

/** A number from `minimum` to `maximum` inclusive. */
export const numberBetween = (minimum: number, maximum: number) =>
  Schema.Number.check(
    Schema.makeFilter((n: number) => (n >= minimum && n <= maximum) || `expected a number from ${minimum} to ${maximum}, got ${n}`)
  )
