import type {PipelineOutcome} from '../pipeline/run-pipeline.js'
import type {SyncRunResult} from '../sync/types.js'
import {stringifyJsonSafely, untrusted, verbatim} from '../util/untrusted-text.js'
import type {FatalError} from './fatal-error.js'
import {renderMergeGithub} from './merge-github.js'
import {renderMergeText} from './merge-report.js'
import {printed, reiterable, renderSync, wantsColor, type SyncFormat} from './render-sync.js'
import {maskCommands, renderGithubFailure, writeGithubFiles} from './sync-github.js'
import {changeLine, syncSummaryLine, targetHeading} from './sync-text.js'
import {renderSyncJson, syncJsonChunks} from './sync-json.js'

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

/** What a pipeline run prints, in pieces (a large run's targets are read back one at a time; see SettledTargets). */
export interface PipelineOutput {
  /** For stdout, in the requested format. */
  chunks: Iterable<string>
  /** `chunks` as one string (small results: rollback, tests). */
  readonly stdout: string
  /** The JSON report (`--output json`'s text), whatever the format: the Action's `report-file`. */
  jsonChunks: Iterable<string>
  /** The JSON report as an object (small results: `version rollback --json`). */
  readonly json: unknown
}

const output = (chunks: Iterable<string>, jsonChunks: Iterable<string>, json: () => unknown): PipelineOutput =>
  printed(chunks, {
    jsonChunks,
    get json() {
      return json()
    },
  })

/**
 * Turns a pipeline outcome into what the command prints: `chunks` for stdout, and the JSON report. In `github`
 * format the Markdown summary and the counts also go to $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT.
 */
export async function renderPipelineOutput(
  outcome: PipelineOutcome,
  options: PipelineOutputOptions,
): Promise<PipelineOutput> {
  const {env} = options
  if (outcome.kind === 'merge') {
    const json = [`${stringifyJsonSafely(outcome.result)}\n`]
    if (options.format === 'github') {
      const github = renderMergeGithub(outcome.result, {note: options.note})
      await writeGithubFiles(github, env)
      return output([github.stdout], json, () => outcome.result)
    }
    return output(options.format === 'json' ? json : [renderMergeText(outcome.result)], json, () => outcome.result)
  }
  const result = outcome.result
  const showValues = options.showValues
  const jsonChunks = reiterable(() => syncJsonChunks(result, {showValues}))
  const json = (): unknown => renderSyncJson(result, {showValues})
  // `github` masks its own; in the Action every other format's shown values are masked before they print.
  const masks =
    showValues && options.maskValues && (options.format === 'text' || options.format === 'json')
      ? maskCommands(result, options.format === 'json' ? 'json' : 'diff').map((line) => `${line}\n`)
      : []
  // Applying without --diff prints one line per target and the totals; per-secret lines are for plans and --diff,
  // except the secrets that failed or were refused: each is named with its reason, so "2 failed" can be acted on.
  if (options.format === 'text' && !result.dry_run && !options.diff) {
    return output(
      reiterable(() => appliedLines(result)),
      jsonChunks,
      json,
    )
  }
  const rendered = renderSync(result, options.format, {
    showValues,
    color: wantsColor(options.isTTY ?? false, env),
    note: options.note,
  })
  if (rendered.github) await writeGithubFiles(rendered.github, env)
  const chunks = rendered.chunks
  return output(masks.length === 0 ? chunks : reiterable(() => maskedFirst(masks, chunks)), jsonChunks, json)
}

/** The masks, then the output read one chunk at a time (never gathered: a large report is hundreds of MB). */
function* maskedFirst(masks: readonly string[], chunks: Iterable<string>): Generator<string> {
  yield* masks
  yield* chunks
}

function* appliedLines(result: SyncRunResult): Generator<string> {
  for (const target of result.targets) {
    const lines = [
      target.error ? untrusted`${verbatim(targetHeading(target))}: ${target.error}` : targetHeading(target),
      ...target.changes.filter((change) => change.error !== null).map((change) => changeLine(change, false)),
    ]
    yield `${lines.join('\n')}\n`
  }
  yield `${syncSummaryLine(result)}\n`
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
