import type {Config} from '../config/schema.js'
import type {TargetGraph} from '../graph/target-graph.js'
import type {Progress} from '../observability/progress.js'
import type {Runtime} from '../runtime.js'
import {SettledTargets} from '../report/settled-targets.js'
import {
  addToSummary,
  emptySummary,
  listedStates,
  runSyncPhase,
  type DesiredStates,
  type DesiredTarget,
} from '../sync/sync-phase.js'
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
export async function syncStage(input: SyncStageInput): Promise<SyncRunResult & {targets: SettledTargets}> {
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
  // Each target's result is put away as it settles (rendered compactly, spilled past a budget) and counted:
  // nothing per secret stays in memory for the whole run (issue 12). The caller prints, then closes them.
  const targets = new SettledTargets({order: desired.names, showValues: settings.showValues})
  const summary = emptySummary()
  input.progress?.update({targetsDone: 0, targetsTotal: desired.names.length})
  try {
    await runSyncPhase({
      config,
      graph: input.graph,
      targets: desired,
      settings,
      runtime,
      store: adapters.store,
      limiter: adapters.limiter,
      connect: adapters.connectTarget,
      onTargetDone: (result) => {
        addToSummary(summary, result)
        targets.add(result)
        input.progress?.update({targetsDone: targets.size})
      },
    })
  } catch (error) {
    targets.close()
    throw error
  }
  return {
    run_id: runtime.runId,
    dry_run: input.dryRun,
    summary,
    targets,
    throttling: throttlingByAccountRegion(adapters.limiter.usage()),
  }
}
