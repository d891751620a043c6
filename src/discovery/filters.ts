import type {DiscoveryConfig} from '../config/schema.js'
import type {AccountVerdict, DiscoveredAccount} from './types.js'

export type FilterRules = Pick<DiscoveryConfig, 'filters' | 'match' | 'statuses' | 'exclude_accounts'>

type Filter = DiscoveryConfig['filters'][number]

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** `*` any run of characters (also none), `?` exactly one; anchored and case-sensitive, as AWS compares tag values. */
export function wildcardMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : escapeRegExp(char)))
    .join('')
  return new RegExp(`^${source}$`, 's').test(value)
}

const list = (items: readonly string[]): string => `[${items.join(', ')}]`

function checkFilter(
  filter: Filter,
  account: Pick<DiscoveredAccount, 'ouPath' | 'tags'>,
): {matched: boolean; reason: string} {
  if ('ou' in filter) {
    const matched = account.ouPath.includes(filter.ou)
    return {matched, reason: matched ? `under OU ${filter.ou}` : `not under OU ${filter.ou}`}
  }
  const value = account.tags?.[filter.tag]
  if (value === undefined) return {matched: false, reason: `tag ${filter.tag} missing`}
  const pattern = filter.values.find((candidate) => wildcardMatches(candidate, value))
  return pattern === undefined
    ? {matched: false, reason: `tag ${filter.tag}=${value} matches none of ${list(filter.values)}`}
    : {matched: true, reason: `tag ${filter.tag}=${value} matches ${pattern}`}
}

/**
 * Whether a block keeps an account: its filters (`match: all` needs every one, `any` at least one; no filters keep
 * everything), its status among `statuses`, and not in `exclude_accounts`. Every check contributes a reason.
 */
export function evaluateAccount(
  account: Pick<DiscoveredAccount, 'id' | 'status' | 'ouPath' | 'tags'>,
  rules: FilterRules,
): AccountVerdict {
  const checks = rules.filters.map((filter) => checkFilter(filter, account))
  const matched = checks.filter((check) => check.matched).length
  const filtersPass = checks.length === 0 || (rules.match === 'all' ? matched === checks.length : matched > 0)
  const reasons = checks.map((check) => check.reason)
  if (checks.length > 1) reasons.push(`match ${rules.match}: ${matched} of ${checks.length} filters matched`)

  const statusPass = rules.statuses.includes(account.status as (typeof rules.statuses)[number])
  reasons.push(`status ${account.status} ${statusPass ? 'in' : 'not in'} ${list(rules.statuses)}`)

  const excluded = rules.exclude_accounts.includes(account.id)
  if (excluded) reasons.push('excluded by exclude_accounts')
  return {included: filtersPass && statusPass && !excluded, reasons}
}

/** Whether any filter reads tags (then tags must be looked up). */
export const filtersReadTags = (rules: Pick<FilterRules, 'filters'>): boolean =>
  rules.filters.some((filter) => 'tag' in filter)

/** The OU ids the filters name. */
export const ouFilterIds = (rules: Pick<FilterRules, 'filters'>): string[] =>
  rules.filters.flatMap((filter) => ('ou' in filter ? [filter.ou] : []))
