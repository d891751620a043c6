import type {DiscoverResult} from '../pipeline/run-discover.js'

/** Per block: each account, included or not and why, and the target it became; then the resulting targets. */
export function renderDiscoverText(result: DiscoverResult): string {
  const lines: string[] = []
  if (!result.report) lines.push('no enabled discovery blocks')
  for (const block of result.report?.blocks ?? []) {
    const cache = block.cache ? ` (cache ${block.cache})` : ''
    lines.push(`discovery ${block.name} (${block.type}) — ${block.status}${cache}${block.error ? `: ${block.error.message}` : ''}`)
    for (const account of block.accounts) {
      const mark = account.included ? '+' : '-'
      const becomes = account.target ? ` -> target ${account.target}` : account.error ? ` -> error: ${account.error}` : ''
      lines.push(`  ${mark} ${account.account_id} ${account.account_name} [${account.status}]${becomes}`)
      for (const reason of account.reasons) lines.push(`      ${reason}`)
    }
  }
  if (result.report) {
    const s = result.report.summary
    lines.push(`${s.accounts} accounts: ${s.included} included, ${s.excluded} excluded; ${s.targets} targets; ${s.failed_blocks} failed blocks`)
  }
  lines.push(`targets after discovery: ${result.targets.map((t) => `${t.name}${t.discovered ? '*' : ''}`).join(', ') || '(none)'}  (* discovered)`)
  return `${lines.join('\n')}\n`
}
