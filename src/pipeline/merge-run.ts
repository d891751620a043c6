import pLimit from 'p-limit'
import type {Config} from '../config/schema.js'
import type {ExitCode} from '../errors.js'
import {mergeExitCode} from '../exit-codes.js'
import {forEachByLevel} from '../graph/by-level.js'
import type {TargetGraph} from '../graph/target-graph.js'
import {walkSources, type SourceReport} from '../merge/merge-phase.js'
import type {Progress} from '../observability/progress.js'
import type {Runtime} from '../runtime.js'
import type {DesiredStates} from '../sync/sync-phase.js'
import type {Adapters} from './compose.js'
import {recordSnapshot, type TargetMergeReport} from './merge-stage.js'
import {SecretBudget} from '../util/secret-budget.js'
import {TargetMerger} from './target-merger.js'

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

export interface MergeStageInput {
  config: Config
  graph: TargetGraph
  /** Targets to merge, dependencies included, in topological order. */
  targets: readonly string[]
  dryRun: boolean
  runtime: Runtime
  adapters: Adapters
  progress?: Progress
}

/** Walks every source the targets read, once, and returns a merger that merges and records them on demand. */
async function openMerge(input: MergeStageInput, taken: readonly string[]) {
  const {config, graph, runtime, adapters, progress} = input
  runtime.logger.info('merge phase started', {targets: input.targets.length, dry_run: input.dryRun})
  const walkedSecrets = new Map<string, number>()
  const walked = await walkSources({
    config,
    graph,
    targets: input.targets,
    runtime,
    connectVault: adapters.connectVault,
    onProgress: ({source, secrets}) => {
      walkedSecrets.set(source, secrets)
      progress?.update({secretsWalked: [...walkedSecrets.values()].reduce((a, b) => a + b, 0)})
    },
  })
  const snapshots = {store: adapters.store, dryRun: input.dryRun, runtime}
  const merger = new TargetMerger({
    config,
    graph,
    walked,
    targets: input.targets,
    taken,
    record: (target) => recordSnapshot(target, snapshots),
  })
  return {walked, merger}
}

/**
 * How many targets `--merge-only` merges and records at once, at most. Each one in flight holds its merged
 * secrets, hashes and snapshot bytes while its merge-store calls wait, and what they leave behind is most of the
 * peak RSS (issue 12: 500 targets × 2,000 secrets at 16 in flight peaked near 390 MiB, at 4 near 310 MiB, and
 * ran faster: merging is CPU work, and the store calls of 4 targets already cover it). Syncing targets, which
 * waits on many accounts, keeps `sync.concurrency`.
 */
export const MERGE_ONLY_CONCURRENCY = 4

/**
 * And how many secrets those targets hold together, at most (SecretBudget: a larger target runs alone). What a
 * target in flight leaves behind grows with its secrets, so the count alone let four 100,000-secret targets peak
 * near 880 MiB; with this budget 500 targets × 2,000 secrets run two at a time (about 235 MiB where four peaked
 * near 290) and 100,000-secret targets one at a time (issue 12).
 */
export const MERGE_ONLY_SECRETS_IN_FLIGHT = 4_000

/**
 * Phase 1 alone (`--merge-only`): walk the sources once, then merge the targets level by level under
 * `sync.concurrency` (at most MERGE_ONLY_CONCURRENCY, and MERGE_ONLY_SECRETS_IN_FLIGHT), recording each one's
 * snapshot and letting it go; reports what was merged.
 */
export async function mergeStage(input: MergeStageInput): Promise<{result: MergeRunResult; exitCode: ExitCode}> {
  const {walked, merger} = await openMerge(input, input.targets)
  const limit = pLimit(Math.min(input.config.sync.concurrency, MERGE_ONLY_CONCURRENCY))
  const budget = new SecretBudget(MERGE_ONLY_SECRETS_IN_FLIGHT)
  const byName = new Map<string, TargetMergeReport>()
  await forEachByLevel(input.graph, input.targets, limit, async (name) => {
    const {report} = await budget.run(merger.secretsAtMost(name), () => merger.take(name))
    byName.set(name, report)
  })
  const reports = input.targets.flatMap((name) => byName.get(name) ?? [])
  const result: MergeRunResult = {
    run_id: input.runtime.runId,
    dry_run: input.dryRun,
    phase: 'merge',
    summary: {
      sources: walked.sources.length,
      failed_sources: walked.sources.filter((s) => s.status === 'failed').length,
      targets: reports.length,
      failed_targets: reports.filter((r) => r.status === 'failed').length,
      new_versions: reports.filter((r) => r.status === 'created' || r.status === 'planned').length,
      unchanged: reports.filter((r) => r.status === 'unchanged').length,
    },
    sources: walked.sources.map(({stats: _stats, ...source}) => source),
    targets: reports,
  }
  return {result, exitCode: mergeExitCode(result.summary)}
}

/**
 * Phase 1 feeding phase 2: the sources are walked now; each of `sync` targets is merged and its snapshot
 * recorded when the sync phase takes it (targets only imported are merged for their importers).
 */
export async function mergedStates(input: MergeStageInput, sync: readonly string[]): Promise<DesiredStates> {
  const wanted = new Set(sync)
  const names = input.targets.filter((name) => wanted.has(name))
  const {merger} = await openMerge(input, names)
  return {
    names,
    secretsAtMost: (name) => merger.secretsAtMost(name),
    take: async (name) => {
      const {target, report} = await merger.take(name)
      return report.status === 'failed' || !target.ok
        ? {name, ok: false, error: report.error ?? target.error ?? 'merge failed', snapshotVersion: null}
        : {name, ok: true, secrets: target.secrets, snapshotVersion: report.version, incomplete: target.incomplete}
    },
  }
}
