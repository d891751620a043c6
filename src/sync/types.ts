import type {JsonObject} from '../util/canonical-json.js'

/** What sync does to one secret. `unchanged` secrets are counted, never listed in output. */
export type ChangeAction = 'create' | 'update' | 'restore' | 'delete' | 'conflict' | 'unchanged'

/** One planned (or applied) change to a secret; values only with `--show-values`. */
export interface SecretChange {
  action: Exclude<ChangeAction, 'unchanged'>
  /** AWS Secrets Manager name: secret_prefix + path. */
  name: string
  /** Relative secret path in the target's desired state (for deletes: the name without the prefix). */
  path: string
  /** The secret was changed outside secretsync since secretsync last wrote it. */
  drift: boolean
  keys_added: string[]
  keys_removed: string[]
  keys_changed: string[]
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
  failed: number
}

/** The result of `secretsync pipeline` (sync phase): the JSON contract of DESIGN.md §2. */
export interface SyncRunResult {
  run_id: string
  dry_run: boolean
  summary: SyncSummary
  targets: TargetSyncResult[]
}
