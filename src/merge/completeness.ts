import type {SkippedItem, SkipReason} from '../vault/walk.js'

/** Skips per reason, every reason present (0 when none), as the source report and the JSON output show them. */
export type SkipCounts = Record<SkipReason, number>

const REASONS: readonly SkipReason[] = ['deleted', 'forbidden', 'not_found', 'max_depth', 'unsafe_key']

const WHY: Record<Exclude<SkipReason, 'deleted'>, string> = {
  forbidden: 'denied (403)',
  not_found: 'not found (404)',
  max_depth: 'beyond max_depth',
  unsafe_key: 'refused as unsafe keys',
}

/** How many paths a reason line names before it says "and N more". */
const PATHS_SHOWN = 5

export function countSkips(skipped: readonly SkippedItem[]): SkipCounts {
  const counts = Object.fromEntries(REASONS.map((reason) => [reason, 0])) as SkipCounts
  for (const item of skipped) counts[item.reason]++
  return counts
}

const rank = (item: SkippedItem): string => `${item.kind === 'folder' ? 0 : 1}${REASONS.indexOf(item.reason)}`

/**
 * The skips that make a source incomplete (everything but deleted secrets), in a stable order: folders before
 * secrets, by reason, by path. Requests finish in any order; the report and the snapshot must not depend on it.
 */
export const incompleteItems = (skipped: readonly SkippedItem[]): SkippedItem[] =>
  skipped
    .filter((item) => item.reason !== 'deleted')
    .sort((a, b) => rank(a).localeCompare(rank(b)) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))

/**
 * One line per kind and reason, naming the source and the first paths:
 * `source "base": 1 folder denied (403): secret/base/x/`. Empty when the source is complete.
 */
export function describeIncomplete(source: string, skipped: readonly SkippedItem[]): string[] {
  const groups = new Map<string, SkippedItem[]>()
  for (const item of incompleteItems(skipped)) {
    const key = `${item.kind}|${item.reason}`
    groups.set(key, [...(groups.get(key) ?? []), item])
  }
  return [...groups.values()].map((items) => {
    const {kind, reason} = items[0] as SkippedItem
    const paths = items.slice(0, PATHS_SHOWN).map((item) => item.path)
    const more = items.length > PATHS_SHOWN ? ` and ${items.length - PATHS_SHOWN} more` : ''
    const noun = `${kind}${items.length === 1 ? '' : 's'}`
    return `source "${source}": ${items.length} ${noun} ${WHY[reason as Exclude<SkipReason, 'deleted'>]}: ${paths.join(', ')}${more}`
  })
}
