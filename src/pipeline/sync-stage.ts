import type {Config} from '../config/schema.js'
import type {TargetGraph} from '../graph/target-graph.js'
import type {Progress} from '../observability/progress.js'
import type {Runtime} from '../runtime.js'
import {listedStates, runSyncPhase, summarise, type DesiredStates, type DesiredTarget} from '../sync/sync-phase.js'
import {throttlingByAccountRegion} from '../sync/throttling-report.js'
import type {SyncSettings} from '../sync/sync-target.js'
import type {SyncRunResult} from '../sync/types.js'
import type {Adapters} from './compose.js'

export interface SyncStageInput {
  config: Config
  graph: TargetGraph
  runtime: Runtime
  adapters: Adapters
  /** Built already (a rollback), or taken target by target as the sync reaches each (the pipeline). */
  desired: readonly DesiredTarget[] | DesiredStates
  dryRun: boolean
  adopt?: boolean
  showValues?: boolean
  /** `--version N`: sync exactly that snapshot, even when a newer one exists. */
  pinnedVersion?: boolean
  progress?: Progress
}

/** Phase 2 for desired states from the merge (streamed target by target), the store, or a rollback. */
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
  const desired = 'take' in input.desired ? input.desired : listedStates(input.desired)
  runtime.logger.info('sync phase started', {targets: desired.names.length, dry_run: input.dryRun})
  let done = 0
  input.progress?.update({targetsDone: 0, targetsTotal: desired.names.length})
  const results = await runSyncPhase({
    config,
    graph: input.graph,
    targets: desired,
    settings,
    runtime,
    store: adapters.store,
    limiter: adapters.limiter,
    connect: adapters.connectTarget,
    onTargetDone: () => input.progress?.update({targetsDone: ++done}),
  })
  return {
    run_id: runtime.runId,
    dry_run: input.dryRun,
    summary: summarise(results),
    targets: results,
    throttling: throttlingByAccountRegion(adapters.limiter.usage()),
  }
}
