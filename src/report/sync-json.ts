import {stringifyJsonSafely} from '../util/untrusted-text.js'
import type {
  AccountRegionThrottling,
  SecretChange,
  SyncRunResult,
  SyncSummary,
  TargetSyncResult,
} from '../sync/types.js'

export interface SyncJsonOptions {
  showValues: boolean
}

/** One change in `pipeline --output json`: the planner's change; `before`/`after` only with `--show-values`. */
export type SyncJsonChange = SecretChange

/** A target in the JSON output: the sync result without its internal unchanged count. */
export type SyncJsonTarget = Omit<TargetSyncResult, 'unchanged' | 'changes'> & {changes: SyncJsonChange[]}

/** The stable JSON contract of docs/design.md §2; changing it is a breaking change. */
export interface SyncJson {
  run_id: string
  dry_run: boolean
  /** `policies` and the replica counts appear only when some change has them. */
  summary: Omit<SyncSummary, 'policies'> & {policies?: number}
  targets: SyncJsonTarget[]
  /** Per account-region synced: the adaptive write rate and the throttled calls (README "JSON output"). */
  throttling?: AccountRegionThrottling[]
}

// Fields are copied one by one, in contract order, so nothing the input happens to carry leaks out.
function jsonChange(change: SecretChange, showValues: boolean): SyncJsonChange {
  const base: SyncJsonChange = {
    action: change.action,
    name: change.name,
    path: change.path,
    // Only with granularity key, so the output of every other target is unchanged.
    ...(change.key === undefined ? {} : {key: change.key}),
    ...(change.reason === undefined ? {} : {reason: change.reason}),
    drift: change.drift,
    keys_added: [...change.keys_added],
    keys_removed: [...change.keys_removed],
    keys_changed: [...change.keys_changed],
    tags_added: [...change.tags_added],
    tags_changed: [...change.tags_changed],
    tags_removed: [...change.tags_removed],
    kms_key_changed: change.kms_key_changed,
    description_changed: change.description_changed,
    // Only when the secret's replicas change, so the output of every other target is unchanged.
    ...(change.replicas_added === undefined ? {} : {replicas_added: [...change.replicas_added]}),
    ...(change.replicas_removed === undefined ? {} : {replicas_removed: [...change.replicas_removed]}),
    // Only when the resource policy changes, so the output of targets without resource_policy is unchanged.
    ...(change.policy === undefined ? {} : {policy: change.policy}),
    held: change.held,
    error: change.error,
  }
  return showValues ? {...base, before: change.before ?? null, after: change.after ?? null} : base
}

const jsonTarget = (target: TargetSyncResult, showValues: boolean): SyncJsonTarget => ({
  name: target.name,
  account_id: target.account_id,
  region: target.region,
  status: target.status,
  snapshot_version: target.snapshot_version,
  error: target.error,
  changes: target.changes.map((change) => jsonChange(change, showValues)),
})

/** The `pipeline --output json` object (the command stringifies it with 2-space indent). */
export function renderSyncJson(result: SyncRunResult, options: SyncJsonOptions): SyncJson {
  const s = result.summary
  return {
    run_id: result.run_id,
    dry_run: result.dry_run,
    summary: {
      targets: s.targets,
      failed_targets: s.failed_targets,
      created: s.created,
      updated: s.updated,
      restored: s.restored,
      deleted: s.deleted,
      unchanged: s.unchanged,
      conflicts: s.conflicts,
      drifted: s.drifted,
      failed: s.failed,
      held: s.held,
      skipped: s.skipped,
      ...(s.replicas_added === undefined ? {} : {replicas_added: s.replicas_added}),
      ...(s.replicas_removed === undefined ? {} : {replicas_removed: s.replicas_removed}),
      // Present only when any policy changes, like the replica counts: runs without resource policies print as before.
      ...(s.policies > 0 ? {policies: s.policies} : {}),
    },
    targets: Array.from(result.targets, (target) => jsonTarget(target, options.showValues)),
    ...(result.throttling ? {throttling: result.throttling.map(jsonThrottling)} : {}),
  }
}

const jsonThrottling = (entry: AccountRegionThrottling): AccountRegionThrottling => ({
  account_id: entry.account_id,
  region: entry.region,
  write_rate: {configured: entry.write_rate.configured, final: entry.write_rate.final, lowest: entry.write_rate.lowest},
  calls: entry.calls,
  throttled: entry.throttled,
  throttled_by_operation: {...entry.throttled_by_operation},
})

/**
 * The text of `stringifyJsonSafely(renderSyncJson(result))` and its newline, byte for byte, in pieces: the head and
 * summary, then one target entry at a time, then the throttling. The whole document is never one string, and only
 * one target's entry is an object at a time (issue 12: a 1,000,000-change plan is ~450 MB of JSON).
 */
export function* syncJsonChunks(result: SyncRunResult, options: SyncJsonOptions): Generator<string> {
  const {targets: _targets, throttling: _throttling, ...head} = renderSyncJson({...result, targets: []}, options)
  // Nested values indent like the whole would: the same text, each line shifted by its depth.
  const nested = (value: unknown, depth: string): string => stringifyJsonSafely(value).replace(/\n/g, `\n${depth}`)
  yield `${stringifyJsonSafely(head).slice(0, -2)},\n  "targets": [`
  let first = true
  for (const target of result.targets) {
    yield `${first ? '' : ','}\n    ${nested(jsonTarget(target, options.showValues), '    ')}`
    first = false
  }
  yield first ? ']' : '\n  ]'
  if (result.throttling) yield `,\n  "throttling": ${nested(result.throttling.map(jsonThrottling), '  ')}`
  yield '\n}\n'
}
