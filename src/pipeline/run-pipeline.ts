import {loadProject} from '../config/index.js'
import {ExitCode, mostSevere, UsageError} from '../errors.js'
import type {Config} from '../config/schema.js'
import {runMergePhase, type SourceReport} from '../merge/merge-phase.js'
import type {LogFormat, LogLevel} from '../observability/logger.js'
import {createRuntime, type Runtime} from '../runtime.js'
import type {SnapshotStore} from '../store/index.js'
import {runSyncPhase, summarise, type DesiredTarget} from '../sync/sync-phase.js'
import type {SyncSettings} from '../sync/sync-target.js'
import type {SyncRunResult} from '../sync/types.js'
import {buildAdapters, type Adapters} from './compose.js'
import {recordSnapshots, type TargetMergeReport} from './merge-stage.js'
import {selectTargets} from './select-targets.js'
import {resolveShard, shardOf} from './shard.js'

export interface PipelineOptions {
  configPath: string
  dryRun: boolean
  mergeOnly: boolean
  syncOnly: boolean
  targets?: string
  version?: number
  adopt?: boolean
  showValues?: boolean
  exitCodeOnChanges?: boolean
  shard?: string
  logLevel?: LogLevel
  logFormat?: LogFormat
  env?: Readonly<Record<string, string | undefined>>
}

export interface MergeRunResult {
  run_id: string
  dry_run: boolean
  phase: 'merge'
  summary: {sources: number; failed_sources: number; targets: number; failed_targets: number; new_versions: number; unchanged: number}
  sources: Array<Omit<SourceReport, 'stats'>>
  targets: TargetMergeReport[]
}

export type PipelineOutcome = {kind: 'merge'; result: MergeRunResult; exitCode: ExitCode} | {kind: 'sync'; result: SyncRunResult; exitCode: ExitCode}

/** `secretsync pipeline`: load, select targets, merge (recording snapshots), then sync. */
export async function runPipeline(options: PipelineOptions): Promise<PipelineOutcome> {
  if (options.mergeOnly && options.syncOnly) throw new UsageError('--merge-only and --sync-only exclude each other')
  const syncOnly = options.syncOnly || options.version !== undefined
  const {config, graph} = await loadProject(options.configPath)
  const selected = selectTargets(graph, options.targets)
  if (options.version !== undefined && (options.targets === undefined || options.targets.split(',').filter(Boolean).length !== 1)) {
    throw new UsageError('--version N needs exactly one target in --targets', {code: 'VERSION_NEEDS_TARGET'})
  }
  if (syncOnly && !config.merge_store?.enabled) {
    throw new UsageError('--sync-only and --version read snapshots from the merge store, and merge_store is not configured', {code: 'NO_MERGE_STORE'})
  }
  const shard = resolveShard(options.shard, options.env ?? process.env)
  const syncTargets = shard ? selected.filter((name) => shardOf(name, shard.count) === shard.index) : selected
  // A shard still merges what its targets import: their desired state is built from it.
  const mergeTargets = shard ? graph.withDependencies(syncTargets) : selected

  const runtime = createRuntime({config, logLevel: options.logLevel, logFormat: options.logFormat})
  const adapters = buildAdapters(config, runtime)

  if (options.mergeOnly) {
    const {result, exitCode} = await mergeStage(config, graph, mergeTargets, options.dryRun, runtime, adapters)
    return {kind: 'merge', result, exitCode}
  }

  const desired: DesiredTarget[] = syncOnly
    ? await snapshotsFromStore(adapters.store as SnapshotStore, syncTargets, options.version)
    : (await mergeStage(config, graph, mergeTargets, options.dryRun, runtime, adapters)).desired.filter((t) => syncTargets.includes(t.name))

  const settings: SyncSettings = {
    dryRun: options.dryRun,
    adopt: options.adopt ?? config.sync.adopt,
    showValues: options.showValues ?? false,
    deleteOrphans: config.sync.delete_orphans,
    maxDeletions: config.sync.max_deletions,
    recoveryWindowDays: config.sync.recovery_window_days,
    forceDelete: config.sync.force_delete,
    ownership: config.sync.ownership_tag,
  }
  runtime.logger.info('sync phase started', {targets: desired.length, dry_run: options.dryRun})
  const results = await runSyncPhase({config, graph, targets: desired, settings, runtime, store: adapters.store, limiter: adapters.limiter, connect: adapters.connectTarget})
  const summary = summarise(results)
  const result: SyncRunResult = {run_id: runtime.runId, dry_run: options.dryRun, summary, targets: results}
  return {kind: 'sync', result, exitCode: syncExitCode(result, options.exitCodeOnChanges ?? false)}
}

/** 0 ok; 3 when a target or secret failed (1 when every target failed); 4 for changes with --exit-code. */
export function syncExitCode(result: SyncRunResult, exitCodeOnChanges: boolean): ExitCode {
  const s = result.summary
  const problems = s.failed_targets + s.failed + s.conflicts
  const changed = s.created + s.updated + s.restored + s.deleted > 0
  const failure = problems === 0 ? ExitCode.success : s.failed_targets === s.targets && s.targets > 0 ? ExitCode.failure : ExitCode.partial
  return mostSevere(failure, exitCodeOnChanges && changed ? ExitCode.changes : ExitCode.success)
}

async function mergeStage(config: Config, graph: Awaited<ReturnType<typeof loadProject>>['graph'], targets: string[], dryRun: boolean, runtime: Runtime, adapters: Adapters) {
  runtime.logger.info('merge phase started', {targets: targets.length, dry_run: dryRun})
  const merge = await runMergePhase({config, graph, targets, runtime, connectVault: adapters.connectVault})
  const reports = await recordSnapshots({merge, store: adapters.store, dryRun, concurrency: config.sync.concurrency, runtime})
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
  const exitCode = failedTargets === 0 ? ExitCode.success : failedTargets === reports.length ? ExitCode.failure : ExitCode.partial
  const desired: DesiredTarget[] = merge.targets.map((target) => {
    const report = reports.find((r) => r.name === target.name)
    const version = report?.version ?? null
    return report?.status === 'failed' || !target.ok
      ? {name: target.name, ok: false, error: report?.error ?? target.error ?? 'merge failed', snapshotVersion: null}
      : {name: target.name, ok: true, secrets: target.secrets, snapshotVersion: version}
  })
  return {result, exitCode, desired}
}

async function snapshotsFromStore(store: SnapshotStore, targets: readonly string[], version: number | undefined): Promise<DesiredTarget[]> {
  return Promise.all(
    targets.map(async (name): Promise<DesiredTarget> => {
      try {
        const snapshot = version !== undefined ? await store.read(name, version) : await store.readLatest(name)
        if (!snapshot) return {name, ok: false, error: 'no snapshot in the merge store yet; run the merge first', snapshotVersion: null}
        return {name, ok: true, secrets: new Map(Object.entries(snapshot.secrets)), snapshotVersion: snapshot.version}
      } catch (error) {
        return {name, ok: false, error: (error as Error).message, snapshotVersion: version ?? null}
      }
    }),
  )
}
