import pLimit from 'p-limit'
import type {Config, TargetConfig} from '../config/schema.js'
import {forEachByLevel} from '../graph/by-level.js'
import type {TargetGraph} from '../graph/target-graph.js'
import type {Redactor} from '../observability/redact.js'
import type {Runtime} from '../runtime.js'
import type {SnapshotStore} from '../store/index.js'
import {InternalError} from '../errors.js'
import type {JsonObject} from '../util/canonical-json.js'
import {SecretBudget} from '../util/secret-budget.js'
import {roleArnFor} from '../aws/target-credentials.js'
import {targetShape} from './shape-secrets.js'
import type {WriteLimiter} from './apply.js'
import {
  settled,
  syncTarget,
  type DeletionVerdict,
  type ResolvedTarget,
  type StagedTarget,
  type SyncSettings,
  type SyncTargetInput,
} from './sync-target.js'
import type {SyncSummary, TargetSyncResult} from './types.js'

/**
 * What the merge phase (or the store, with --sync-only) hands to sync for one target. `incomplete` lists why
 * the desired state may lack secrets that exist in Vault (a source feeding the target was not walked
 * completely); while it is non-empty the target's orphan deletions are held, never applied.
 */
export type DesiredTarget =
  | {
      name: string
      ok: true
      secrets: ReadonlyMap<string, JsonObject>
      snapshotVersion: number | null
      incomplete: readonly string[]
    }
  | {name: string; ok: false; error: string; snapshotVersion: number | null}

/**
 * Where the sync phase takes each target's desired state from: at that target's turn, once, so only the targets
 * in flight are held (the merge streams them; --sync-only reads each snapshot then).
 */
export interface DesiredStates {
  /** The targets to sync, in the order their results are reported. */
  names: readonly string[]
  take(name: string): Promise<DesiredTarget>
  /** How many secrets `name` holds at most, when known before taking it (the merge knows; a snapshot does not). */
  secretsAtMost?(name: string): number
}

/** Desired states already built (a rollback, a test). */
export const listedStates = (targets: readonly DesiredTarget[]): DesiredStates => {
  const byName = new Map(targets.map((target) => [target.name, target]))
  return {
    names: targets.map((target) => target.name),
    take: (name) => Promise.resolve(byName.get(name) as DesiredTarget),
    secretsAtMost: (name) => {
      const target = byName.get(name)
      return target?.ok ? target.secrets.size : 0
    },
  }
}

export interface SyncPhaseInput {
  config: Config
  graph: TargetGraph
  targets: DesiredStates
  settings: SyncSettings
  runtime: Runtime
  store?: SnapshotStore
  limiter: WriteLimiter
  connect: SyncTargetInput['connect']
  /** Called once per target as it settles, in no particular order; the caller keeps what it needs. */
  onTargetDone: (result: TargetSyncResult) => void
}

export function resolveTarget(config: Config, target: TargetConfig): ResolvedTarget {
  return {
    name: target.name,
    accountId: target.account_id,
    region: target.region ?? config.aws.region ?? 'us-east-1',
    roleArn: roleArnFor(target.role_arn, target.account_id, config.aws.role_pattern),
    externalId: target.external_id ?? config.aws.external_id,
    prefix: target.secret_prefix,
    tags: target.tags,
    kmsKeyId: target.kms_key_id,
    shape: targetShape(target),
    ...(target.resource_policy === undefined ? {} : {resourcePolicy: loadedPolicy(target)}),
  }
}

/** The document config loading left in `resource_policy` (it reads the file and parses inline JSON). */
function loadedPolicy(target: TargetConfig): JsonObject {
  if (typeof target.resource_policy !== 'object')
    throw new InternalError(`internal error: the resource_policy of "${target.name}" was not loaded`)
  return target.resource_policy as JsonObject
}

/**
 * The one deletion budget of a run (docs/design.md §4): checked once every target is planned, before any deletion.
 * Over it, every deletion of the run is held.
 */
export function deletionVerdict(planned: number, maxDeletions: number): DeletionVerdict {
  return planned > maxDeletions
    ? {
        allowed: false,
        reason: `the run would delete ${planned} orphaned secrets, more than sync.max_deletions (${maxDeletions}); no secret was deleted`,
      }
    : {allowed: true}
}

/**
 * How many targets take their desired state at once, at most. Taking is merging (CPU work whose snapshot text and
 * hashes are garbage as soon as it is done) or reading a snapshot; syncing, which waits on AWS, keeps
 * `sync.concurrency`. The same bound as MERGE_ONLY_CONCURRENCY, for the same reason (src/pipeline/merge-run.ts).
 */
export const TAKE_CONCURRENCY = 4

/**
 * And how many secrets the targets in flight hold together, at most (SecretBudget: a larger target runs alone).
 * A target being synced holds its listing, applied record, desired and shaped state and plan, about 3.5 KB a
 * secret, so 16 targets of 2,000 secrets in flight peaked near 450 MiB where the number of targets hardly counts
 * (issue 12). 1,000 accounts of 20 secrets still run `sync.concurrency` at once.
 */
export const SYNC_SECRETS_IN_FLIGHT = 8_000

/** The verdict for a target with no pending deletion: none would change what it does. */
const NOTHING_TO_DELETE: DeletionVerdict = {allowed: true}

/**
 * Phase 2: targets level by level in topological order, in parallel within a level under `sync.concurrency`,
 * each taking its desired state at its turn and applying all but its deletions. A target with no pending deletion
 * finishes at once (the verdict cannot change it), so its result goes to `onTargetDone` and nothing of it stays
 * here; what a target with deletions keeps until the verdict is its result so far and its pending deletions, never
 * its desired state. Then, with every target planned, the run-wide deletion budget decides and those targets
 * finish (deletions, applied record, lock release). Each target ends with one `onTargetDone`; none throws.
 */
export async function runSyncPhase(input: SyncPhaseInput): Promise<void> {
  const {config, graph} = input
  const configs = new Map(config.targets.map((target) => [target.name, target]))
  const limit = pLimit(config.sync.concurrency)
  const taking = pLimit(Math.min(config.sync.concurrency, TAKE_CONCURRENCY))
  const budget = new SecretBudget(SYNC_SECRETS_IN_FLIGHT)
  const staged = new Map<string, {target: StagedTarget; redactor: Redactor}>()
  const settle = async (target: StagedTarget, redactor: Redactor, verdict: DeletionVerdict): Promise<void> => {
    // The values the target read are let go with it; whatever of it outlives it is redacted with them first.
    const result = redactedResult(await target.finish(verdict), redactor)
    redactor.close()
    reportUnapplied(result, input.runtime)
    input.onTargetDone(result)
  }
  await forEachByLevel(graph, input.targets.names, limit, (name) =>
    budget.run(input.targets.secretsAtMost?.(name) ?? 0, async () => {
      const resolved = resolveTarget(config, configs.get(name) as TargetConfig)
      const redactor = input.runtime.redactor.scope()
      const runtime = {...input.runtime, redactor}
      // Asked to stop: a target whose turn to be taken comes after it is not merged either.
      const desired = await taking(() => (input.runtime.stop.aborted ? undefined : input.targets.take(name)))
      const target = desired
        ? await stageTarget(resolved, desired, {...input, runtime})
        : unstarted(resolved, {name, snapshotVersion: null}, 'skipped', 'interrupted')
      if (target.deletions === 0) await settle(target, redactor, NOTHING_TO_DELETE)
      else staged.set(name, {target, redactor})
    }),
  )
  const planned = [...staged.values()].reduce((sum, {target}) => sum + target.deletions, 0)
  const verdict = deletionVerdict(planned, input.settings.maxDeletions)
  await Promise.all([...staged.values()].map(({target, redactor}) => limit(() => settle(target, redactor, verdict))))
}

/** A result's errors with the values of its target's scope redacted (values themselves only with --show-values). */
function redactedResult(result: TargetSyncResult, redactor: Redactor): TargetSyncResult {
  const text = (error: string | null): string | null => (error === null ? null : redactor.redactText(error))
  return {
    ...result,
    error: text(result.error),
    changes: result.changes.map((change) => (change.error === null ? change : {...change, error: text(change.error)})),
  }
}

function stageTarget(resolved: ResolvedTarget, desired: DesiredTarget, input: SyncPhaseInput): Promise<StagedTarget> {
  // Asked to stop (SIGTERM/SIGINT): a target not started yet is not started at all.
  if (input.runtime.stop.aborted) return Promise.resolve(unstarted(resolved, desired, 'skipped', 'interrupted'))
  if (!desired.ok) return Promise.resolve(unstarted(resolved, desired, 'failed', `not synced: ${desired.error}`))
  return syncTarget({
    target: resolved,
    desired: desired.secrets,
    snapshotVersion: desired.snapshotVersion,
    incomplete: desired.incomplete,
    settings: input.settings,
    runtime: input.runtime,
    store: input.store,
    limiter: input.limiter,
    connect: input.connect,
  })
}

/** A target that never reached AWS: nothing to stage, only its result. */
function unstarted(
  resolved: ResolvedTarget,
  desired: Pick<DesiredTarget, 'name' | 'snapshotVersion'>,
  status: TargetSyncResult['status'],
  error: string,
): StagedTarget {
  return settled({
    name: desired.name,
    account_id: resolved.accountId ?? null,
    region: resolved.region,
    status,
    snapshot_version: desired.snapshotVersion,
    error,
    changes: [],
    unchanged: 0,
  })
}

export const emptySummary = (): SyncSummary => ({
  targets: 0,
  failed_targets: 0,
  created: 0,
  updated: 0,
  restored: 0,
  deleted: 0,
  unchanged: 0,
  conflicts: 0,
  drifted: 0,
  failed: 0,
  held: 0,
  skipped: 0,
  policies: 0,
})

/** Adds one target's result to the run's counts, so the counts need no result kept (issue 12). */
export function addToSummary(summary: SyncSummary, result: TargetSyncResult): void {
  summary.targets += 1
  summary.unchanged += result.unchanged
  if (result.status === 'failed') {
    summary.failed_targets += 1
    // A failed target applied nothing: its listed changes are not counted as done.
    return
  }
  for (const change of result.changes) {
    const ok = change.error === null
    if (ok && change.action === 'create') summary.created += 1
    if (ok && change.action === 'update') summary.updated += 1
    if (ok && change.action === 'restore') summary.restored += 1
    if (ok && change.action === 'delete') summary.deleted += 1
    if (change.action === 'conflict') summary.conflicts += 1
    if (change.drift) summary.drifted += 1
    if (!ok && change.action !== 'conflict') summary.failed += 1
    if (change.held) summary.held += 1
    if (change.action === 'skip') summary.skipped += 1
    if (ok && change.policy !== undefined) summary.policies += 1
    // Present only when some replica region changed, so other runs' summaries read as before.
    const replicas = ok ? (change.replicas_added?.length ?? 0) + (change.replicas_removed?.length ?? 0) : 0
    if (replicas > 0) {
      summary.replicas_added = (summary.replicas_added ?? 0) + (change.replicas_added?.length ?? 0)
      summary.replicas_removed = (summary.replicas_removed ?? 0) + (change.replicas_removed?.length ?? 0)
    }
  }
}

/**
 * Every secret the run could not apply (failed write, conflict, held deletion, bad name) is named in the log
 * with its reason, whatever the output format: a summary line that says only "2 failed" cannot be acted on.
 */
function reportUnapplied(result: TargetSyncResult, runtime: Runtime): void {
  for (const change of result.changes) {
    if (change.error === null) continue
    const kind = change.held ? 'deletion held' : change.action === 'conflict' ? 'conflict' : 'secret not applied'
    runtime.logger.warn(kind, {target: result.name, name: change.name, action: change.action, error: change.error})
  }
}
