/**
 * How many terminal cells a text takes: the measure effect/cli's `CliOutput.displayWidth` uses for its help and
 * tables, here without effect, so that the fast path (fast/main.ts) aligns tables without loading it. It is the
 * same algorithm (test/cli/fast-mirrors.test.ts checks them equal on generated text): ANSI colour codes count for
 * nothing, each grapheme for 0 (marks, controls, default-ignorables), 2 (emoji presentation, fullwidth) or 1.
 */

const ANSI_COLOUR = /\u001B\[[0-9;]*m/g

/**
 * Made on first use, not when the module loads: creating a grapheme segmenter loads ICU's break data, 15 to 38 ms
 * here, more than the rest of a one-shot `ps`, and a table of plain ASCII never needs it.
 */
let graphemes: Intl.Segmenter | undefined

/** Printable ASCII only: one cell per character, no grapheme of it wider, narrower or joined (checked against effect). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

const zeroWidthCodePoints = /[\p{Mark}\p{Control}\p{Default_Ignorable_Code_Point}]/gu
const emojiPresentation = /\p{Emoji_Presentation}/u

const isFullWidthCodePoint = (codePoint: number): boolean => {
  if (codePoint < 0x1100) return false
  return codePoint <= 0x115f ||
    codePoint === 0x2329 ||
    codePoint === 0x232a ||
    (codePoint >= 0x2e80 && codePoint <= 0x303e) ||
    (codePoint >= 0x3040 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe10 && codePoint <= 0xfe19) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe6f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1b000 && codePoint <= 0x1b2ff) ||
    (codePoint >= 0x1f200 && codePoint <= 0x1f251) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
}

const graphemeWidth = (grapheme: string): number => {
  const visible = grapheme.replace(zeroWidthCodePoints, "")
  if (visible.length === 0) return 0
  if (emojiPresentation.test(grapheme) || grapheme.includes("\uFE0F")) return 2
  return isFullWidthCodePoint(visible.codePointAt(0) ?? 0) ? 2 : 1
}

export const displayWidth = (text: string): number => {
  const visible = text.replace(ANSI_COLOUR, "")
  if (PRINTABLE_ASCII.test(visible)) return visible.length
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" })
  let width = 0
  for (const { segment } of graphemes.segment(visible)) width += graphemeWidth(segment)
  return width
}
