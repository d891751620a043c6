import pLimit from 'p-limit'
import type {Config, TargetConfig} from '../config/schema.js'
import {forEachByLevel} from '../graph/by-level.js'
import type {TargetGraph} from '../graph/target-graph.js'
import type {Runtime} from '../runtime.js'
import type {SnapshotStore} from '../store/index.js'
import {InternalError} from '../errors.js'
import type {JsonObject} from '../util/canonical-json.js'
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
import type {SecretChange, SyncSummary, TargetSyncResult} from './types.js'

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
}

/** Desired states already built (a rollback, a test). */
export const listedStates = (targets: readonly DesiredTarget[]): DesiredStates => {
  const byName = new Map(targets.map((target) => [target.name, target]))
  return {
    names: targets.map((target) => target.name),
    take: (name) => Promise.resolve(byName.get(name) as DesiredTarget),
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
  onTargetDone?: (result: TargetSyncResult) => void
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
 * Phase 2: targets level by level in topological order, in parallel within a level under `sync.concurrency`,
 * each taking its desired state at its turn and applying all but its deletions; what a staged target keeps until
 * the verdict is its result so far and its pending deletions, never its desired state. Then, with every target
 * planned, the run-wide deletion budget decides and every target finishes (deletions, applied record, lock
 * release). Each target ends with a result; none throws.
 */
export async function runSyncPhase(input: SyncPhaseInput): Promise<TargetSyncResult[]> {
  const {config, graph} = input
  const configs = new Map(config.targets.map((target) => [target.name, target]))
  const limit = pLimit(config.sync.concurrency)
  const staged = new Map<string, StagedTarget>()
  await forEachByLevel(graph, input.targets.names, limit, async (name) => {
    const resolved = resolveTarget(config, configs.get(name) as TargetConfig)
    staged.set(name, await stageTarget(resolved, await input.targets.take(name), input))
  })
  const planned = [...staged.values()].reduce((sum, target) => sum + target.deletions, 0)
  const verdict = deletionVerdict(planned, input.settings.maxDeletions)
  const results = new Map<string, TargetSyncResult>()
  await Promise.all(
    [...staged].map(([name, target]) =>
      limit(async () => {
        const result = await target.finish(verdict)
        results.set(name, result)
        reportUnapplied(result, input.runtime)
        input.onTargetDone?.(result)
      }),
    ),
  )
  return input.targets.names.map((name) => results.get(name)).filter((r): r is TargetSyncResult => r !== undefined)
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
  desired: DesiredTarget,
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

export function summarise(results: readonly TargetSyncResult[]): SyncSummary {
  // A failed target applied nothing: its listed changes are not counted as done.
  const changes = results.filter((r) => r.status !== 'failed').flatMap((result) => result.changes)
  const ok = (action: string) => changes.filter((c) => c.action === action && c.error === null).length
  return {
    targets: results.length,
    failed_targets: results.filter((r) => r.status === 'failed').length,
    created: ok('create'),
    updated: ok('update'),
    restored: ok('restore'),
    deleted: ok('delete'),
    unchanged: results.reduce((sum, r) => sum + r.unchanged, 0),
    conflicts: changes.filter((c) => c.action === 'conflict').length,
    drifted: changes.filter((c) => c.drift).length,
    failed: changes.filter((c) => c.error !== null && c.action !== 'conflict').length,
    held: changes.filter((c) => c.held).length,
    skipped: changes.filter((c) => c.action === 'skip').length,
    ...replicaCounts(changes),
    policies: changes.filter((c) => c.policy !== undefined && c.error === null).length,
  }
}

/** Replica regions added and removed by the changes that went through; absent when none, so other runs read as before. */
function replicaCounts(changes: readonly SecretChange[]): Partial<SyncSummary> {
  const done = changes.filter((c) => c.error === null)
  const added = done.reduce((sum, c) => sum + (c.replicas_added?.length ?? 0), 0)
  const removed = done.reduce((sum, c) => sum + (c.replicas_removed?.length ?? 0), 0)
  return added + removed > 0 ? {replicas_added: added, replicas_removed: removed} : {}
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
