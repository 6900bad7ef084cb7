/**
 * Events older than those the page holds, for "Load older events". `GET /history` pages forward only
 * (`after_seq`: the oldest events after it), and seqs are shared by every category, so the events before a seq are
 * found by looking back a window of seqs (growing fourfold until enough turned up, or the history's start was
 * reached) and paging forward through each window, never asking for the same seqs twice.
 */
import { api } from "./api.ts"
import { CATEGORIES, type Category } from "./store.ts"
import type { HistoryEventWire } from "./wire.ts"

/** Most events of one history page (HISTORY_LIMIT_MAX). */
const PAGE_LIMIT = 1000

export interface OlderEvents {
  /** Oldest first. */
  readonly events: ReadonlyArray<HistoryEventWire>
  /** The seq from which every event of the categories is now known: 0 once the history has none older. */
  readonly from: number
}

const filterOf = (categories: ReadonlyArray<Category>) =>
  CATEGORIES.every((category) => categories.includes(category)) ? {} : { categories }

/**
 * The events of `categories` before seq `before`, at least `wanted` of them that `counts` (the view's filters), or
 * fewer when the history holds no more.
 */
export const olderEvents = async (
  before: number,
  categories: ReadonlyArray<Category>,
  wanted: number,
  counts: (event: HistoryEventWire) => boolean
): Promise<OlderEvents> => {
  const windows: Array<ReadonlyArray<HistoryEventWire>> = []
  let count = 0
  let upper = before
  let window = wanted * 4
  for (;;) {
    const lower = Math.max(0, upper - 1 - window)
    const found: Array<HistoryEventWire> = []
    let cursor = lower
    let oldestKept: number | null = null
    for (;;) {
      const page = await api.history({ after_seq: cursor, limit: PAGE_LIMIT, ...filterOf(categories) })
      oldestKept = page.first_seq
      found.push(...page.events.filter((event) => event.seq < upper))
      const last = page.events.at(-1)
      if (last === undefined || last.seq >= upper - 1 || !page.has_more) break
      cursor = last.seq
    }
    windows.unshift(found)
    count += found.filter(counts).length
    // Seqs from `lower + 1` up to `upper` were all looked at; nothing before the oldest the history keeps exists.
    const complete = lower === 0 || oldestKept === null || lower < oldestKept
    if (count >= wanted || complete) return { events: windows.flat(), from: complete ? 0 : lower + 1 }
    upper = lower + 1
    window *= 4
  }
}
