import type {QuotaUsage} from '../resilience/quota-limiter.js'
import type {AccountRegionThrottling} from './types.js'

/**
 * The run's `throttling` report: per account-region, its Secrets Manager quota groups folded into one entry (the
 * write rate, and the throttled calls of every group). Sorted by account and region so the output is stable.
 */
export function throttlingByAccountRegion(usage: readonly QuotaUsage[]): AccountRegionThrottling[] {
  const byKey = new Map<string, AccountRegionThrottling>()
  for (const entry of usage) {
    if (entry.service !== 'secretsmanager' || !entry.scope) continue
    const report = byKey.get(entry.key) ?? {
      account_id: entry.scope.account,
      region: entry.scope.region,
      write_rate: {configured: 0, final: 0, lowest: 0},
      calls: 0,
      throttled: 0,
      throttled_by_operation: Object.create(null) as Record<string, number>,
    }
    if (entry.group === 'writes')
      report.write_rate = {
        configured: entry.configuredRate ?? 0,
        final: entry.finalRate ?? 0,
        lowest: entry.lowestRate ?? 0,
      }
    report.calls += entry.calls
    report.throttled += entry.throttled
    for (const [operation, n] of Object.entries(entry.throttledByOperation))
      report.throttled_by_operation[operation] = (report.throttled_by_operation[operation] ?? 0) + n
    byKey.set(entry.key, report)
  }
  return [...byKey.values()].sort((a, b) =>
    a.account_id === b.account_id ? a.region.localeCompare(b.region) : a.account_id.localeCompare(b.account_id),
  )
}
