import type {PipelineOutcome} from '../pipeline/run-pipeline.js'
import {stringifyJsonSafely, untrusted, verbatim} from '../util/untrusted-text.js'
import type {FatalError} from './fatal-error.js'
import {renderMergeGithub} from './merge-github.js'
import {renderMergeText} from './merge-report.js'
import {renderSync, wantsColor, type SyncFormat} from './render-sync.js'
import {maskCommands, renderGithubFailure, writeGithubFiles} from './sync-github.js'
import {changeLine, syncSummaryLine, targetHeading} from './sync-text.js'
import {renderSyncJson} from './sync-json.js'

export interface PipelineOutputOptions {
  format: SyncFormat
  showValues: boolean
  /** Show per-secret changes also when applying (a dry run always shows them). */
  diff: boolean
  /** From the CLI layer: $NO_COLOR, $GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT, and whether stdout is a terminal. */
  env: Readonly<Record<string, string | undefined>>
  isTTY?: boolean
  /**
   * The log is a GitHub Actions log whatever the format (the Action): shown values get `::add-mask::` first in
   * every format, not only in `github`, which always masks them.
   */
  maskValues?: boolean
  /** Why the run plans or applies; `github` shows it in the log and the step summary. */
  note?: string
}

/**
 * Turns a pipeline outcome into what the command prints: `stdout` text, and `json` for `--json`. In `github`
 * format the Markdown summary and the counts also go to $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT.
 */
export async function renderPipelineOutput(
  outcome: PipelineOutcome,
  options: PipelineOutputOptions,
): Promise<{stdout: string; json: unknown}> {
  const {env} = options
  if (outcome.kind === 'merge') {
    if (options.format === 'github') {
      const github = renderMergeGithub(outcome.result, {note: options.note})
      await writeGithubFiles(github, env)
      return {stdout: github.stdout, json: outcome.result}
    }
    return {
      stdout: options.format === 'json' ? `${stringifyJsonSafely(outcome.result)}\n` : renderMergeText(outcome.result),
      json: outcome.result,
    }
  }
  const result = outcome.result
  const json = renderSyncJson(result, {showValues: options.showValues})
  // `github` masks its own; in the Action every other format's shown values are masked before they print.
  const masks =
    options.showValues && options.maskValues && (options.format === 'text' || options.format === 'json')
      ? maskCommands(result, options.format === 'json' ? 'json' : 'diff').map((line) => `${line}\n`)
      : []
  // Applying without --diff prints one line per target and the totals; per-secret lines are for plans and --diff,
  // except the secrets that failed or were refused: each is named with its reason, so "2 failed" can be acted on.
  if (options.format === 'text' && !result.dry_run && !options.diff) {
    const lines = result.targets.flatMap((target) => [
      target.error ? untrusted`${verbatim(targetHeading(target))}: ${target.error}` : targetHeading(target),
      ...target.changes.filter((change) => change.error !== null).map((change) => changeLine(change, false)),
    ])
    return {stdout: `${[...lines, syncSummaryLine(result)].join('\n')}\n`, json}
  }
  const rendered = renderSync(result, options.format, {
    showValues: options.showValues,
    color: wantsColor(options.isTTY ?? false, env),
    note: options.note,
  })
  if (rendered.github) await writeGithubFiles(rendered.github, env)
  return {stdout: `${masks.join('')}${rendered.stdout}`, json}
}

/**
 * A run that ended on an error, reported for GitHub Actions: the `::error::` annotation (returned, for stdout) and
 * the step summary (written to $GITHUB_STEP_SUMMARY). The host still prints the error on stderr as usual.
 */
export async function reportGithubFailure(
  fatal: FatalError,
  env: Readonly<Record<string, string | undefined>>,
  note?: string,
): Promise<string> {
  const github = renderGithubFailure(fatal, note)
  await writeGithubFiles(github, env)
  return github.stdout
}
