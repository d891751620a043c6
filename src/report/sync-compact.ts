import type {SyncRunResult, SyncSummary} from '../sync/types.js'
import {plural} from './sync-text.js'

/** One line for logs and chat: `secretsync dry-run: 2 targets (0 failed) +3 ~1 !0 -0 =40 conflicts=1 drift=1 failed=0 held=0`. */
export function renderSyncCompact(result: SyncRunResult): string {
  const s = result.summary
  const mode = result.dry_run ? 'dry-run' : 'applied'
  return `secretsync ${mode}: ${plural(s.targets, 'target')} (${s.failed_targets} failed) +${s.created} ~${s.updated} !${s.restored} -${s.deleted} =${s.unchanged} conflicts=${s.conflicts} drift=${s.drifted} failed=${s.failed} held=${s.held}${s.skipped > 0 ? ` skipped=${s.skipped}` : ''}${s.policies > 0 ? ` policies=${s.policies}` : ''}${replicas(s)}\n`
}

/** ` replicas=+2/-1`, only when a replica region was added or removed. */
const replicas = (s: SyncSummary): string =>
  s.replicas_added === undefined && s.replicas_removed === undefined
    ? ''
    : ` replicas=+${s.replicas_added ?? 0}/-${s.replicas_removed ?? 0}`
