import type {JsonObject} from '../util/canonical-json.js'

/** What sync does to one secret. `unchanged` secrets are counted, never listed in output. */
export type ChangeAction = 'create' | 'update' | 'restore' | 'delete' | 'conflict' | 'skip' | 'unchanged'

/** One planned (or applied) change to a secret; values only with `--show-values`. */
export interface SecretChange {
  action: Exclude<ChangeAction, 'unchanged'>
  /** AWS Secrets Manager name: secret_prefix + path. */
  name: string
  /** Relative secret path in the target's desired state (for deletes: the name without the prefix). */
  path: string
  /** With `granularity: key`: the top-level key of the Vault secret at `path` this secret holds. */
  key?: string
  /**
   * Why a `skip` was left alone: `rotation` (rotation is enabled in AWS and the target has `rotation: skip`), or
   * `replica` (the secret is a replica of a primary in another region: replicas follow their primary).
   */
  reason?: 'rotation' | 'replica'
  /** The secret was changed outside secretsync since secretsync last wrote it. */
  drift: boolean
  keys_added: string[]
  keys_removed: string[]
  keys_changed: string[]
  /** Tag keys secretsync sets that the secret lacks / carries with another value / no longer should carry. */
  tags_added: string[]
  tags_changed: string[]
  tags_removed: string[]
  /** The secret is encrypted with another KMS key than the target's `kms_key_id` (or the default key). */
  kms_key_changed: boolean
  /** The secret's description is not the one secretsync sets. */
  description_changed: boolean
  /** Replica regions added (ReplicateSecretToRegions, or AddReplicaRegions on create); present only when some are. */
  replicas_added?: string[]
  /** Replica regions removed (RemoveRegionsFromReplication; before a delete, every replica); present only when some are. */
  replicas_removed?: string[]
  /** With `resource_policy`: the secret's resource policy is (to be) put the first time, replaced, or deleted. */
  policy?: 'set' | 'updated' | 'removed'
  /**
   * A deletion that was planned but not applied: the target's desired state may be incomplete, or the run's
   * deletions exceed `sync.max_deletions`. `error` says why; it counts in `failed` and `held`.
   */
  held: boolean
  /** Why this secret could not be (or was not) applied; conflicts always say why. */
  error: string | null
  /** Present only with --show-values. */
  before?: JsonObject | null
  after?: JsonObject | null
}

export type TargetStatus = 'planned' | 'applied' | 'failed' | 'skipped'

export interface TargetSyncResult {
  name: string
  account_id: string | null
  region: string
  status: TargetStatus
  snapshot_version: number | null
  /**
   * Why the target failed; or, for a target that applied (or planned) its changes, what still went wrong:
   * held deletions, or an applied-record write that failed after the writes succeeded.
   */
  error: string | null
  changes: SecretChange[]
  /** Counted, not listed; not part of the JSON output's target entries. */
  unchanged: number
}

export interface SyncSummary {
  targets: number
  failed_targets: number
  created: number
  updated: number
  restored: number
  deleted: number
  unchanged: number
  conflicts: number
  drifted: number
  /** Secrets whose change failed, including held deletions (conflicts are counted apart). */
  failed: number
  /** Deletions held back (a subset of `failed`). */
  held: number
  /** Secrets left alone because rotation is enabled on them (`skipped (rotation)`); never a failure. */
  skipped: number
  /** Replica regions added / removed over all secrets (README "Replica regions"); present only when any are. */
  replicas_added?: number
  replicas_removed?: number
  /** Secrets whose resource policy was (or would be) set, updated or removed; each also counts as a create or update. */
  policies: number
}

/** How an account-region's Secrets Manager quotas treated the run (README, JSON output `throttling`). */
export interface AccountRegionThrottling {
  account_id: string
  region: string
  /** Writes per second: `sync.write_rate`, where the adaptive rate ended, and the lowest it was cut to. */
  write_rate: {configured: number; final: number; lowest: number}
  /** Calls sent (throttled attempts included) and how many of them were throttled, in all and per operation. */
  calls: number
  throttled: number
  throttled_by_operation: Record<string, number>
}

/** The result of `secretsync pipeline` (sync phase): the JSON contract of docs/design.md §2. */
export interface SyncRunResult {
  run_id: string
  dry_run: boolean
  summary: SyncSummary
  /**
   * In output order. A run's are its SettledTargets (src/report/settled-targets.ts): iterable as often as needed,
   * one result at a time, never all in memory as objects; a fixture's may be an array.
   */
  targets: Iterable<TargetSyncResult>
  /** Per account-region synced; absent where nothing reached AWS (a run without adapters, a test's fixture). */
  throttling?: AccountRegionThrottling[]
}
