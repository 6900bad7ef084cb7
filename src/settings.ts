/**
 * Building blocks of the config schemas (orchestrator, event store, command interface): one way to give a key a
 * default, and one way to write a duration.
 */
import { Duration, Effect, Schema } from "effect"

/** `schema`, with `value` (in its encoded form) when the key is missing. */
export const withDefault = <S extends Schema.Codec<unknown, unknown>>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/** A finite, non-negative duration given as milliseconds (`2000`) or as text (`"2 seconds"`, `"500 millis"`). */
export const DurationSetting = Schema.Union([Schema.DurationFromMillis, Schema.DurationFromString]).check(
  Schema.makeFilter((duration: Duration.Duration) =>
    (Duration.isFinite(duration) && Duration.toMillis(duration) >= 0) ||
    `expected a finite, non-negative duration, got ${Duration.format(duration)}`
  )
)
