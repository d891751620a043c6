import type {MergeRunResult} from '../pipeline/merge-run.js'
import {guardLines, untrusted} from '../util/untrusted-text.js'
import {CappedMarkdown, md, row, STEP_SUMMARY_BUDGET_BYTES} from './github-summary.js'
import {renderMergeText} from './merge-report.js'
import {FULL_REPORT_HINT, workflowCommand, type SyncGithubResult} from './sync-github.js'

export interface MergeGithubOptions {
  /** Why the run planned or applied (see SyncGithubOptions.note). */
  note?: string
  summaryBudget?: number
}

function mergeSummaryLine(result: MergeRunResult): string {
  const s = result.summary
  return `${result.dry_run ? 'Merge plan' : 'Merged'}: ${s.new_versions} ${result.dry_run ? 'new versions to write' : 'new versions written'}, ${s.unchanged} unchanged, ${s.failed_targets} of ${s.targets} targets failed; ${s.failed_sources} of ${s.sources} sources failed`
}

const versionCell = (version: number | null): string => (version === null ? '' : `v${version}`)

/**
 * `pipeline --merge-only` for GitHub Actions: the merge report in the log (every line guarded), annotations for
 * failed sources and targets, a step summary (counts, then one row per target, cut under the budget) and outputs.
 */
export function renderMergeGithub(result: MergeRunResult, options: MergeGithubOptions = {}): SyncGithubResult {
  const annotations = [
    ...result.sources
      .filter((source) => source.status === 'failed')
      .map((source) =>
        workflowCommand('error', {title: 'secretsync'}, untrusted`source ${source.name}: ${source.error ?? 'failed'}`),
      ),
    ...result.sources
      .filter((source) => source.status === 'ok' && !source.complete)
      .map((source) =>
        workflowCommand(
          'warning',
          {title: 'secretsync'},
          untrusted`source ${source.name}: incomplete walk (${source.skipped_items.length} items skipped)`,
        ),
      ),
    ...result.targets
      .filter((target) => target.status === 'failed')
      .map((target) =>
        workflowCommand('error', {title: 'secretsync'}, untrusted`target ${target.name}: ${target.error ?? 'failed'}`),
      ),
  ]
  const stdout = [
    ...(options.note ? [workflowCommand('notice', {title: 'secretsync mode'}, options.note)] : []),
    guardLines(renderMergeText(result).trimEnd()),
    ...annotations,
    workflowCommand('notice', {title: 'secretsync'}, mergeSummaryLine(result)),
  ]

  const s = result.summary
  const doc = new CappedMarkdown(options.summaryBudget ?? STEP_SUMMARY_BUDGET_BYTES)
  doc.head(`## secretsync merge ${result.dry_run ? 'plan (dry run, nothing written)' : '(snapshots only, no sync)'}`)
  if (options.note) doc.head(md(options.note))
  doc.head(`Run ${md(result.run_id)}: ${md(mergeSummaryLine(result))}`)
  doc.head(
    [
      row(['sources', 'failed sources', 'targets', 'failed targets', 'new versions', 'unchanged']),
      row(Array(6).fill('---:')),
      row([s.sources, s.failed_sources, s.targets, s.failed_targets, s.new_versions, s.unchanged]),
    ].join('\n'),
  )
  let shown = 0
  if (
    doc.block(
      [
        row(['target', 'status', 'secrets', 'from', 'to', 'added', 'changed', 'removed', 'error']),
        row(Array(9).fill('---')),
      ].join('\n'),
    )
  ) {
    for (const target of result.targets) {
      const fits = doc.row(
        row([
          md(target.name),
          target.status,
          target.secrets,
          versionCell(target.previous_version),
          versionCell(target.version),
          target.changes?.added.length ?? '',
          target.changes?.changed.length ?? '',
          target.changes?.removed.length ?? '',
          md(target.error ?? ''),
        ]),
      )
      if (!fits) break
      shown += 1
    }
  }
  const summaryMarkdown = doc.finish(
    () =>
      `**Cut to stay under GitHub's 1 MiB step-summary limit:** the table lists ${shown} of ${result.targets.length} targets; the counts above are complete. ${FULL_REPORT_HINT}`,
  )
  return {
    stdout: `${stdout.join('\n')}\n`,
    summaryMarkdown,
    outputs: {
      'dry-run': String(result.dry_run),
      sources: String(s.sources),
      'failed-sources': String(s.failed_sources),
      targets: String(s.targets),
      'failed-targets': String(s.failed_targets),
      'new-versions': String(s.new_versions),
      unchanged: String(s.unchanged),
      'has-changes': String(s.new_versions > 0),
    },
  }
}
