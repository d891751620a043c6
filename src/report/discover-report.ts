import type {DiscoverResult} from '../pipeline/run-discover.js'
import {guardLines, untrusted} from '../util/untrusted-text.js'

/**
 * Per block: each account, included or not and why, and the target it became; then the resulting targets.
 * Account names, tag values, target names and AWS error texts are untrusted: every field goes through `untrusted`.
 */
export function renderDiscoverText(result: DiscoverResult): string {
  const lines: string[] = []
  if (!result.report) lines.push('no enabled discovery blocks')
  for (const block of result.report?.blocks ?? []) {
    const cache = block.cache ? untrusted` (cache ${block.cache})` : ''
    const error = block.error ? untrusted`: ${block.error.message}` : ''
    lines.push(untrusted`discovery ${block.name} (${block.type}) — ${block.status}` + cache + error)
    for (const account of block.accounts) {
      const mark = account.included ? '+' : '-'
      const becomes = account.target
        ? untrusted` -> target ${account.target}`
        : account.error
          ? untrusted` -> error: ${account.error}`
          : ''
      lines.push(untrusted`  ${mark} ${account.account_id} ${account.account_name} [${account.status}]` + becomes)
      for (const reason of account.reasons) lines.push(untrusted`      ${reason}`)
    }
  }
  if (result.report) {
    const s = result.report.summary
    lines.push(
      `${s.accounts} accounts: ${s.included} included, ${s.excluded} excluded; ${s.targets} targets; ${s.failed_blocks} failed blocks`,
    )
  }
  const targets = result.targets.map((t) => untrusted`${t.name}${t.discovered ? '*' : ''}`).join(', ') || '(none)'
  lines.push(`targets after discovery: ${targets}  (* discovered)`)
  return `${guardLines(lines.join('\n'))}\n`
}
