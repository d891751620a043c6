import type {UnlockResult} from '../unlock.js'

/** One line saying what `unlock` removed, and whose lock it was. */
export function renderUnlock(result: UnlockResult): string {
  if (result.status === 'none') return `${result.target}: no run lock held (${result.location})\n`
  const holder = result.removed
    ? ` held by ${result.removed.owner} (run ${result.removed.run_id}, expires ${result.removed.expires_at})`
    : ''
  return `${result.target}: removed the run lock ${result.location}${holder}: ${result.reason}\n`
}
