import type {Config} from '../config/schema.js'
import type {ExitCode} from '../errors.js'
import {mergeExitCode} from '../exit-codes.js'
import type {TargetGraph} from '../graph/target-graph.js'
import {runMergePhase, type SourceReport} from '../merge/merge-phase.js'
import type {Progress} from '../observability/progress.js'
import type {Runtime} from '../runtime.js'
import type {DesiredTarget} from '../sync/sync-phase.js'
import type {Adapters} from './compose.js'
import {recordSnapshots, type TargetMergeReport} from './merge-stage.js'

/** What `pipeline --merge-only` reports. */
export interface MergeRunResult {
  run_id: string
  dry_run: boolean
  phase: 'merge'
  summary: {
    sources: number
    failed_sources: number
    targets: number
    failed_targets: number
    new_versions: number
    unchanged: number
  }
  sources: Array<Omit<SourceReport, 'stats'>>
  targets: TargetMergeReport[]
}

/** Phase 1 for the selected targets: walk and merge, record snapshots, and report what was merged. */
export async function mergeStage(
  config: Config,
  graph: TargetGraph,
  targets: string[],
  dryRun: boolean,
  runtime: Runtime,
  adapters: Adapters,
  progress?: Progress,
): Promise<{result: MergeRunResult; exitCode: ExitCode; desired: DesiredTarget[]}> {
  runtime.logger.info('merge phase started', {targets: targets.length, dry_run: dryRun})
  const walked = new Map<string, number>()
  const merge = await runMergePhase({
    config,
    graph,
    targets,
    runtime,
    connectVault: adapters.connectVault,
    onProgress: ({source, secrets}) => {
      walked.set(source, secrets)
      progress?.update({secretsWalked: [...walked.values()].reduce((a, b) => a + b, 0)})
    },
  })
  const reports = await recordSnapshots({
    merge,
    store: adapters.store,
    dryRun,
    concurrency: config.sync.concurrency,
    runtime,
  })
  const failedTargets = reports.filter((r) => r.status === 'failed').length
  const result: MergeRunResult = {
    run_id: runtime.runId,
    dry_run: dryRun,
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
  const exitCode = mergeExitCode(result.summary)
  const desired: DesiredTarget[] = merge.targets.map((target) => {
    const report = reports.find((r) => r.name === target.name)
    const version = report?.version ?? null
    return report?.status === 'failed' || !target.ok
      ? {name: target.name, ok: false, error: report?.error ?? target.error ?? 'merge failed', snapshotVersion: null}
      : {name: target.name, ok: true, secrets: target.secrets, snapshotVersion: version, incomplete: target.incomplete}
  })
  return {result, exitCode, desired}
}
