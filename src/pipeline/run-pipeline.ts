import {loadProject} from '../config/index.js'
import {ExitCode, NotAvailableError, UsageError} from '../errors.js'
import {runMergePhase, type SourceReport} from '../merge/merge-phase.js'
import type {LogFormat, LogLevel} from '../observability/logger.js'
import {createRuntime} from '../runtime.js'
import {buildAdapters} from './compose.js'
import {recordSnapshots, type TargetMergeReport} from './merge-stage.js'
import {selectTargets} from './select-targets.js'

export interface PipelineOptions {
  configPath: string
  dryRun: boolean
  mergeOnly: boolean
  syncOnly: boolean
  targets?: string
  logLevel?: LogLevel
  logFormat?: LogFormat
}

export interface MergeRunResult {
  run_id: string
  dry_run: boolean
  phase: 'merge'
  summary: {sources: number; failed_sources: number; targets: number; failed_targets: number; new_versions: number; unchanged: number}
  sources: Array<Omit<SourceReport, 'stats'>>
  targets: TargetMergeReport[]
}

export interface PipelineOutcome {
  result: MergeRunResult
  exitCode: ExitCode
}

/** `secretsync pipeline`: load, select targets, merge (and record snapshots); the sync phase follows it. */
export async function runPipeline(options: PipelineOptions): Promise<PipelineOutcome> {
  if (options.mergeOnly && options.syncOnly) throw new UsageError('--merge-only and --sync-only exclude each other')
  const {config, graph} = await loadProject(options.configPath)
  const targets = selectTargets(graph, options.targets)
  if (!options.mergeOnly) throw new NotAvailableError('the sync phase of secretsync pipeline (use --merge-only)')

  const runtime = createRuntime({config, logLevel: options.logLevel, logFormat: options.logFormat})
  const adapters = buildAdapters(config, runtime)
  runtime.logger.info('merge phase started', {targets: targets.length, dry_run: options.dryRun})
  const merge = await runMergePhase({config, graph, targets, runtime, connectVault: adapters.connectVault})
  const reports = await recordSnapshots({merge, store: adapters.store, dryRun: options.dryRun, concurrency: config.sync.concurrency, runtime})

  const failedTargets = reports.filter((r) => r.status === 'failed').length
  const result: MergeRunResult = {
    run_id: runtime.runId,
    dry_run: options.dryRun,
    phase: 'merge',
    summary: {
      sources: merge.sources.length,
      failed_sources: merge.sources.filter((s) => s.status === 'failed').length,
      targets: reports.length,
      failed_targets: failedTargets,
      new_versions: reports.filter((r) => r.status === 'created' || r.status === 'planned').length,
      unchanged: reports.filter((r) => r.status === 'unchanged').length,
    },
    sources: merge.sources.map(({stats: _stats, ...source}) => source),
    targets: reports,
  }
  const exitCode = failedTargets === 0 ? ExitCode.success : failedTargets === reports.length ? ExitCode.failure : ExitCode.partial
  return {result, exitCode}
}
