import type {MergeRunResult} from '../pipeline/merge-run.js'
import {guardLines, untrusted} from '../util/untrusted-text.js'

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Human summary of a merge run: one line per source and per target, then totals. */
export function renderMergeText(result: MergeRunResult): string {
  const lines = [untrusted`merge${result.dry_run ? ' (dry run: nothing written)' : ''} — run ${result.run_id}`]
  for (const source of result.sources) {
    lines.push(
      source.status === 'ok'
        ? untrusted`  source ${source.name}: ${plural(source.secrets, 'secret')} in ${plural(source.folders, 'folder')}${source.warnings.length ? `, ${plural(source.warnings.length, 'warning')}` : ''}${source.complete ? '' : `, INCOMPLETE (${plural(source.skipped_items.length, 'item')} skipped)`}`
        : untrusted`  source ${source.name}: FAILED ${source.error ?? ''}`,
    )
  }
  for (const target of result.targets) {
    const changes = target.changes
      ? ` (+${target.changes.added.length} ~${target.changes.changed.length} -${target.changes.removed.length})`
      : ''
    const from = target.previous_version ? ` v${target.previous_version} ->` : ''
    switch (target.status) {
      case 'failed':
        lines.push(untrusted`  target ${target.name}: FAILED ${target.error ?? ''}`)
        break
      case 'skipped':
        lines.push(`  target ${target.name}: skipped (${target.error ?? ''}), no snapshot written`)
        break
      case 'unchanged':
        lines.push(
          untrusted`  target ${target.name}: ${plural(target.secrets, 'secret')}, unchanged (v${target.version})`,
        )
        break
      case 'planned':
        lines.push(
          untrusted`  target ${target.name}: ${plural(target.secrets, 'secret')}${changes}, would write${from} v${target.version}`,
        )
        break
      case 'created':
        lines.push(
          untrusted`  target ${target.name}: ${plural(target.secrets, 'secret')}${changes}, wrote${from} v${target.version}`,
        )
        break
      default:
        lines.push(untrusted`  target ${target.name}: ${plural(target.secrets, 'secret')} merged (no merge store)`)
    }
  }
  const s = result.summary
  lines.push(
    `${plural(s.targets, 'target')}: ${result.dry_run ? `${s.new_versions} would get a new version` : plural(s.new_versions, 'new version')}, ${s.unchanged} unchanged, ${s.failed_targets} failed; ${plural(s.sources, 'source')}, ${s.failed_sources} failed`,
  )
  return `${guardLines(lines.join('\n'))}\n`
}
