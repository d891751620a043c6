import {once, type EventEmitter} from 'node:events'
import type {Surroundings} from '../composition-root.js'
import type {ExitCode} from '../errors.js'
import {renderPipelineOutput} from '../report/render-pipeline.js'
import type {SyncFormat} from '../report/render-sync.js'
import {SettledTargets} from '../report/settled-targets.js'
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
  runId: string
  /** The run's counts (what `summary` holds in the JSON report). */
  summary: unknown
  /** Writes the output in the requested format to `out` (the GitHub files are already written). */
  print(out: NodeJS.WritableStream): Promise<void>
  /** Writes the JSON report (`--output json`'s text) to `out`, whatever the format: the Action's `report-file`. */
  printJson(out: NodeJS.WritableStream): Promise<void>
  /** Lets go of the run's results (and removes their temporary file, if they spilled to one); printing is over. */
  close(): void
}

/**
 * Runs the pipeline and renders its outcome: the one sequence every host of `pipeline` shares. The host prints,
 * then closes the report.
 */
export async function runPipelineReport(
  request: PipelineReportRequest,
  surroundings: Surroundings,
): Promise<PipelineReport> {
  const {format, diff, maskValues, note, ...options} = request
  const outcome = await runPipeline({...options, surroundings})
  const close = (): void => {
    if (outcome.kind === 'sync' && outcome.result.targets instanceof SettledTargets) outcome.result.targets.close()
  }
  try {
    const rendered = await renderPipelineOutput(outcome, {
      format,
      showValues: options.showValues ?? false,
      diff,
      env: surroundings.env,
      isTTY: surroundings.stdoutIsTTY,
      maskValues,
      note,
    })
    return {
      exitCode: outcome.exitCode,
      runId: outcome.result.run_id,
      summary: outcome.result.summary,
      print: (out) => writeChunks(out, rendered.chunks),
      printJson: (out) => writeChunks(out, rendered.jsonChunks),
      close,
    }
  } catch (error) {
    close()
    throw error
  }
}

// Pieces are gathered up to this size per write: a plan's lines are short, and one write per line is slow.
const WRITE_BYTES = 64 * 1024

/** Writes `chunks` to `out` in order, waiting whenever `out` asks to (so a large report is never all buffered). */
export async function writeChunks(out: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  let pending = ''
  const flush = async (): Promise<void> => {
    const text = pending
    pending = ''
    if (text !== '' && !out.write(text)) await once(out as unknown as EventEmitter, 'drain')
  }
  for (const chunk of chunks) {
    pending += chunk
    if (pending.length >= WRITE_BYTES) await flush()
  }
  await flush()
}
