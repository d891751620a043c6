import {compose, type Surroundings} from '../composition-root.js'
import {loadProject} from '../config/index.js'
import {type ExitCode, mostSevere} from '../errors.js'
import {syncExitCode} from '../exit-codes.js'
import type {SnapshotStore} from '../store/index.js'
import type {DesiredStates} from '../sync/sync-phase.js'
import type {SyncRunResult} from '../sync/types.js'
import {discoverProject} from './discovery-stage.js'
import {mergedStates, mergeStage, type MergeRunResult} from './merge-run.js'
import {checkFlagsAlone, checkFlagsWithConfig} from './pipeline-flags.js'
import {countSynced, startObservability, timedPhase} from './run-observability.js'
import {runTargets} from './select-targets.js'
import {resolveShard} from './shard.js'
import {snapshotStates} from './snapshot-source.js'
import {syncStage} from './sync-stage.js'

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
  /** Environment, streams, clock and stop signal; `stop` aborts the run: no new write starts, the partial result is returned. */
  surroundings: Surroundings
}

export type PipelineOutcome =
  | {kind: 'merge'; result: MergeRunResult; exitCode: ExitCode}
  | {kind: 'sync'; result: SyncRunResult; exitCode: ExitCode}

/** `secretsync pipeline`: load, select targets, walk the sources, then merge (recording snapshots) and sync target by target. */
export async function runPipeline(options: PipelineOptions): Promise<PipelineOutcome> {
  checkFlagsAlone(options)
  const loaded = await loadProject(options.configPath, {env: options.surroundings.env})
  const {syncOnly, targetNames} = checkFlagsWithConfig(options, loaded.config)
  const shard = resolveShard(options.shard, options.surroundings.env)
  const {runtime, adapters} = compose(loaded.config, options.surroundings)
  const observability = await startObservability(loaded.config, runtime, adapters, {
    ...options,
    pushGroup: {phase: options.mergeOnly ? 'merge' : syncOnly ? 'sync' : 'pipeline', shard},
    stderr: options.surroundings.stderr,
  })
  let outcome: PipelineOutcome | undefined
  try {
    const discovered = await discoverProject(loaded.config, loaded.graph, runtime, adapters, {
      noCache: options.noCache ?? false,
      dryRun: options.dryRun,
    })
    const {config, graph} = discovered
    const {sync: syncTargets, merge: mergeTargets} = runTargets(graph, {
      targets: options.targets,
      targetNames,
      version: options.version,
      shard,
    })
    const timed = <T>(phase: string, work: () => Promise<T>): Promise<T> => timedPhase(runtime, adapters, phase, work)
    const mergeInput = {
      config,
      graph,
      targets: mergeTargets,
      dryRun: options.dryRun,
      runtime,
      adapters,
      progress: observability.progress,
    }
    if (options.mergeOnly) {
      const {result, exitCode} = await timed('merge', () => mergeStage(mergeInput))
      outcome = {kind: 'merge', result, exitCode: mostSevere(exitCode, discovered.exitCode)}
      return outcome
    }
    // Streamed: the sources are walked (the merge phase), then each target is merged, recorded and synced at
    // its turn in the sync phase, and let go, so memory holds the sources and the targets in flight.
    const desired: DesiredStates = syncOnly
      ? snapshotStates(adapters.store as SnapshotStore, syncTargets, options.version)
      : await timed('merge', () => mergedStates(mergeInput, syncTargets))
    const result = await timed('sync', () =>
      syncStage({
        config,
        graph,
        runtime,
        adapters,
        desired,
        dryRun: options.dryRun,
        adopt: options.adopt,
        showValues: options.showValues,
        pinnedVersion: options.version !== undefined,
        progress: observability.progress,
      }),
    )
    countSynced(adapters, result)
    outcome = {
      kind: 'sync',
      result,
      exitCode: mostSevere(syncExitCode(result, options.exitCodeOnChanges ?? false), discovered.exitCode),
    }
    return outcome
  } finally {
    await observability.stop(outcome?.exitCode)
  }
}
