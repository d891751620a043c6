import type {Surroundings} from '../composition-root.js'
import type {ExitCode} from '../errors.js'
import {renderPipelineOutput} from '../report/render-pipeline.js'
import type {SyncFormat} from '../report/render-sync.js'
import {runPipeline, type PipelineOptions} from './run-pipeline.js'

/** What a host (the `pipeline` command, the GitHub Action) asks of one pipeline run, and how to print it. */
export interface PipelineReportRequest extends Omit<PipelineOptions, 'surroundings'> {
  format: SyncFormat
  /** Per-secret lines also when applying. */
  diff: boolean
  /** See PipelineOutputOptions.maskValues. */
  maskValues?: boolean
  /** See PipelineOutputOptions.note. */
  note?: string
}

export interface PipelineReport {
  exitCode: ExitCode
  /** For the host to write to stdout (the GitHub files are already written). */
  stdout: string
  /** For `--json`. */
  json: unknown
}

/** Runs the pipeline and renders its outcome: the one sequence every host of `pipeline` shares. */
export async function runPipelineReport(
  request: PipelineReportRequest,
  surroundings: Surroundings,
): Promise<PipelineReport> {
  const {format, diff, maskValues, note, ...options} = request
  const outcome = await runPipeline({...options, surroundings})
  const rendered = await renderPipelineOutput(outcome, {
    format,
    showValues: options.showValues ?? false,
    diff,
    env: surroundings.env,
    isTTY: surroundings.stdoutIsTTY,
    maskValues,
    note,
  })
  return {exitCode: outcome.exitCode, ...rendered}
}
