import type {Config} from '../config/schema.js'
import type {TargetGraph} from '../graph/target-graph.js'
import type {Progress} from '../observability/progress.js'
import type {Runtime} from '../runtime.js'
import {runSyncPhase, summarise, type DesiredTarget} from '../sync/sync-phase.js'
import {throttlingByAccountRegion} from '../sync/throttling-report.js'
import type {SyncSettings} from '../sync/sync-target.js'
import type {SyncRunResult} from '../sync/types.js'
import type {Adapters} from './compose.js'

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
  return {
    run_id: runtime.runId,
    dry_run: input.dryRun,
    summary: summarise(results),
    targets: results,
    throttling: throttlingByAccountRegion(adapters.limiter.usage()),
  }
}
