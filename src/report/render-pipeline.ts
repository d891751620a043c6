import type {PipelineOutcome} from '../pipeline/run-pipeline.js'
import {stringifyJsonSafely, untrusted, verbatim} from '../util/untrusted-text.js'
import {renderMergeText} from './merge-report.js'
import {renderSync, wantsColor, type SyncFormat} from './render-sync.js'
import {writeGithubFiles} from './sync-github.js'
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
    return {
      stdout: options.format === 'json' ? `${stringifyJsonSafely(outcome.result)}\n` : renderMergeText(outcome.result),
      json: outcome.result,
    }
  }
  const result = outcome.result
  const json = renderSyncJson(result, {showValues: options.showValues})
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
  })
  if (rendered.github) await writeGithubFiles(rendered.github, env)
  return {stdout: rendered.stdout, json}
}
