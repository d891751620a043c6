import {loadProject} from '../config/index.js'
import {ExitCode, mostSevere, UsageError} from '../errors.js'
import type {Config} from '../config/schema.js'
import type {TargetGraph} from '../graph/target-graph.js'
import {runMergePhase, type SourceReport} from '../merge/merge-phase.js'
import type {LogFormat, LogLevel} from '../observability/logger.js'
import {createRuntime, type Runtime} from '../runtime.js'
import type {SnapshotStore} from '../store/index.js'
import {runSyncPhase, summarise, type DesiredTarget} from '../sync/sync-phase.js'
import type {SyncSettings} from '../sync/sync-target.js'
import type {SyncRunResult} from '../sync/types.js'
import {serveMetrics, pushMetrics} from '../observability/metrics-server.js'
import {createProgress, type Progress} from '../observability/progress.js'
import {buildAdapters, type Adapters} from './compose.js'
import {discoverProject} from './discovery-stage.js'
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
  metricsPort?: number
  pushgateway?: string
  noCache?: boolean
  logLevel?: LogLevel
  logFormat?: LogFormat
  env?: Readonly<Record<string, string | undefined>>
  /** Aborts when the run is asked to stop (SIGTERM/SIGINT): no new write starts, the partial result is returned. */
  stop?: AbortSignal
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
  const loaded = await loadProject(options.configPath)
  if (options.version !== undefined && (options.targets === undefined || options.targets.split(',').filter(Boolean).length !== 1)) {
    throw new UsageError('--version N needs exactly one target in --targets', {code: 'VERSION_NEEDS_TARGET'})
  }
  if (syncOnly && !loaded.config.merge_store?.enabled) {
    throw new UsageError('--sync-only and --version read snapshots from the merge store, and merge_store is not configured', {code: 'NO_MERGE_STORE'})
  }
  const shard = resolveShard(options.shard, options.env ?? process.env)
  const runtime = createRuntime({config: loaded.config, logLevel: options.logLevel, logFormat: options.logFormat, stop: options.stop})
  const adapters = buildAdapters(loaded.config, runtime)
  const observability = await startObservability(loaded.config, runtime, adapters, options)
  let outcome: PipelineOutcome | undefined
  try {
    const discovered = await discoverProject(loaded.config, loaded.graph, runtime, adapters, {noCache: options.noCache ?? false, dryRun: options.dryRun})
    const {config, graph} = discovered
    const requested = selectTargets(graph, options.targets)
    // --version N is snapshot N of the one named target; its imports are already merged into it and keep their own snapshots.
    const selected = options.version === undefined ? requested : requested.filter((name) => options.targets?.split(',').map((n) => n.trim()).includes(name))
    const syncTargets = shard ? selected.filter((name) => shardOf(name, shard.count) === shard.index) : selected
    // A shard still merges what its targets import: their desired state is built from it.
    const mergeTargets = shard ? graph.withDependencies(syncTargets) : selected

    const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
      const started = runtime.now()
      try {
        return await work()
      } finally {
        adapters.metrics.observePhase(phase, (runtime.now() - started) / 1000)
      }
    }
    const merge = () => timed('merge', () => mergeStage(config, graph, mergeTargets, options.dryRun, runtime, adapters, observability.progress))
    if (options.mergeOnly) {
      const {result, exitCode} = await merge()
      outcome = {kind: 'merge', result, exitCode: mostSevere(exitCode, discovered.exitCode)}
      return outcome
    }
    const desired: DesiredTarget[] = syncOnly
      ? await snapshotsFromStore(adapters.store as SnapshotStore, syncTargets, options.version)
      : (await merge()).desired.filter((t) => syncTargets.includes(t.name))
    const result = await timed('sync', () =>
      syncStage({config, graph, runtime, adapters, desired, dryRun: options.dryRun, adopt: options.adopt, showValues: options.showValues, pinnedVersion: options.version !== undefined, progress: observability.progress}),
    )
    for (const target of result.targets) {
      for (const change of target.changes) if (change.error === null) adapters.metrics.countSynced(target.name, change.action)
      adapters.metrics.countSynced(target.name, 'unchanged', target.unchanged)
    }
    outcome = {kind: 'sync', result, exitCode: mostSevere(syncExitCode(result, options.exitCodeOnChanges ?? false), discovered.exitCode)}
    return outcome
  } finally {
    await observability.stop(outcome?.exitCode)
  }
}

/**
 * Metrics served during the run (`--metrics-port`, or metrics.enabled with metrics.port) and pushed at the end
 * (`--pushgateway` or metrics.pushgateway), plus progress on stderr. A failed push is a warning, never a failure.
 */
async function startObservability(config: Config, runtime: Runtime, adapters: Adapters, options: PipelineOptions) {
  const port = options.metricsPort ?? (config.metrics.enabled ? config.metrics.port : undefined)
  const server = port !== undefined ? await serveMetrics(adapters.metrics.registry, {port, path: config.metrics.path}) : undefined
  if (server) runtime.logger.info('serving metrics', {url: server.url})
  const progress = createProgress({logger: runtime.logger})
  return {
    progress,
    async stop(exitCode: ExitCode | undefined) {
      progress.stop()
      if (exitCode === ExitCode.success || exitCode === ExitCode.changes) adapters.metrics.markSuccess(runtime.now())
      const pushgateway = options.pushgateway ?? config.metrics.pushgateway
      if (pushgateway) {
        const error = await pushMetrics(adapters.metrics.registry, {url: pushgateway, job: config.metrics.job})
        if (error) runtime.logger.warn(error.message)
      }
      adapters.breakers.shutdown()
      await server?.close()
    },
  }
}

export interface SyncStageInput {
  config: Config
  graph: TargetGraph
  runtime: Runtime
  adapters: Adapters
  desired: DesiredTarget[]
  dryRun: boolean
  adopt?: boolean
  showValues?: boolean
  /** `--version N`: sync exactly that snapshot, even when a newer one exists. */
  pinnedVersion?: boolean
  progress?: Progress
}

/** Phase 2 for already-built desired states (from the merge, the store, or a rollback). */
export async function syncStage(input: SyncStageInput): Promise<SyncRunResult> {
  const {config, runtime, adapters} = input
  const settings: SyncSettings = {
    dryRun: input.dryRun,
    adopt: input.adopt ?? config.sync.adopt,
    showValues: input.showValues ?? false,
    deleteOrphans: config.sync.delete_orphans,
    maxDeletions: config.sync.max_deletions,
    recoveryWindowDays: config.sync.recovery_window_days,
    forceDelete: config.sync.force_delete,
    ownership: config.sync.ownership_tag,
    pinnedVersion: input.pinnedVersion ?? false,
  }
  runtime.logger.info('sync phase started', {targets: input.desired.length, dry_run: input.dryRun})
  let done = 0
  input.progress?.update({targetsDone: 0, targetsTotal: input.desired.length})
  const results = await runSyncPhase({
    config,
    graph: input.graph,
    targets: input.desired,
    settings,
    runtime,
    store: adapters.store,
    limiter: adapters.limiter,
    connect: adapters.connectTarget,
    onTargetDone: () => input.progress?.update({targetsDone: ++done}),
  })
  return {run_id: runtime.runId, dry_run: input.dryRun, summary: summarise(results), targets: results}
}

/**
 * The exit code of a sync run (DESIGN.md §2), the one place it is decided: 0 ok; 3 when a target or secret failed,
 * a conflict or held deletion remains, or a target reports an error beside its applied changes; 1 when nothing at all
 * could be applied (every target failed, or no secret was written or found in sync); 4 for changes with --exit-code.
 */
export function syncExitCode(result: SyncRunResult, exitCodeOnChanges: boolean): ExitCode {
  const s = result.summary
  const targetErrors = result.targets.filter((target) => target.status !== 'failed' && target.error !== null).length
  const problems = s.failed_targets + s.failed + s.conflicts + targetErrors
  const succeeded = s.created + s.updated + s.restored + s.deleted
  // "Nothing at all could be applied" (DESIGN §2): every target failed, or writes were attempted and none
  // succeeded — secrets already in sync are not something this run applied. Conflicts and held deletions are
  // refusals, not failed writes: alone they leave the run partial (3).
  const failedWrites = s.failed - s.held
  const nothingApplied = (s.failed_targets === s.targets && s.targets > 0) || (succeeded === 0 && failedWrites > 0)
  const failure = problems === 0 ? ExitCode.success : nothingApplied ? ExitCode.failure : ExitCode.partial
  return mostSevere(failure, exitCodeOnChanges && succeeded > 0 ? ExitCode.changes : ExitCode.success)
}

async function mergeStage(config: Config, graph: TargetGraph, targets: string[], dryRun: boolean, runtime: Runtime, adapters: Adapters, progress?: Progress) {
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
      : {name: target.name, ok: true, secrets: target.secrets, snapshotVersion: version, incomplete: target.incomplete}
  })
  return {result, exitCode, desired}
}

async function snapshotsFromStore(store: SnapshotStore, targets: readonly string[], version: number | undefined): Promise<DesiredTarget[]> {
  return Promise.all(
    targets.map(async (name): Promise<DesiredTarget> => {
      try {
        const snapshot = version !== undefined ? await store.read(name, version) : await store.readLatest(name)
        if (!snapshot) return {name, ok: false, error: 'no snapshot in the merge store yet; run the merge first', snapshotVersion: null}
        // A snapshot merged from an incomplete walk holds deletions in a later --sync-only run too.
        return {name, ok: true, secrets: new Map(Object.entries(snapshot.secrets)), snapshotVersion: snapshot.version, incomplete: snapshot.incomplete ?? []}
      } catch (error) {
        return {name, ok: false, error: (error as Error).message, snapshotVersion: version ?? null}
      }
    }),
  )
}
