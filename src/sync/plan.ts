import type {AppliedRecord} from '../store/index.js'
import {contentHash, isPlainObject, jsonEqual, type JsonObject} from '../util/canonical-json.js'
import {stringifyJson} from '../util/exact-json.js'
import {nameProblem, secretName, sizeProblem} from './secret-rules.js'
import type {SecretChange} from './types.js'

export interface DesiredSecret {
  path: string
  name: string
  value: JsonObject
  hash: string
}

/** A secret as listed (and, when needed, read) from Secrets Manager. */
export interface CurrentSecret {
  name: string
  /** Carries the ownership tag with the configured value. */
  owned: boolean
  /** Value of the `secretsync:target` tag, when present. */
  ownerTarget?: string
  scheduledForDeletion: boolean
  /** VersionId labelled AWSCURRENT. */
  currentVersionId?: string
  /** Read value: a JSON object, or the raw string when it is not one; undefined when not read. */
  value?: JsonObject | string
}

export interface PlanOptions {
  target: string
  prefix: string
  adopt: boolean
  deleteOrphans: boolean
  maxDeletions: number
  showValues: boolean
}

/** A change plus what applying it needs; the extra fields never reach output. */
export interface PlannedChange extends SecretChange {
  desired?: DesiredSecret
  currentVersionId?: string
  /** Adopting an untagged secret: tag it before writing. */
  adopt?: boolean
}

export interface TargetPlan {
  changes: PlannedChange[]
  /** In-sync secrets with the VersionId to record as applied. */
  unchanged: Array<{name: string; hash: string; versionId: string | undefined}>
  /** Set when the plan must not be applied at all (e.g. over max_deletions). */
  error?: string
}

export const desiredSecret = (path: string, prefix: string, value: JsonObject): DesiredSecret => ({
  path,
  name: secretName(prefix, path),
  value,
  hash: contentHash(value),
})

/**
 * The fast path of DESIGN.md §4: a secret whose desired hash equals what secretsync last applied and whose
 * AWSCURRENT version is the one it wrote is unchanged without reading its value.
 */
export function isKnownInSync(desired: DesiredSecret, current: CurrentSecret, applied: AppliedRecord | undefined): boolean {
  const record = applied?.secrets[desired.name]
  return record !== undefined && record.hash === desired.hash && current.currentVersionId !== undefined && record.version_id === current.currentVersionId
}

/** Names whose current value must be read before planning: owned, live, and not provably in sync. */
export function namesToRead(desired: readonly DesiredSecret[], current: ReadonlyMap<string, CurrentSecret>, applied: AppliedRecord | undefined, options: Pick<PlanOptions, 'adopt'>): string[] {
  return desired
    .filter((secret) => {
      const existing = current.get(secret.name)
      if (!existing || existing.scheduledForDeletion) return false
      if (!existing.owned && !options.adopt) return false
      return !isKnownInSync(secret, existing, applied)
    })
    .map((secret) => secret.name)
}

function keyDiff(before: JsonObject | string | undefined, after: JsonObject | undefined): Pick<SecretChange, 'keys_added' | 'keys_removed' | 'keys_changed'> {
  const old = isPlainObject(before) ? (before as JsonObject) : {}
  const next = after ?? {}
  const sort = (keys: string[]): string[] => keys.sort()
  return {
    keys_added: sort(Object.keys(next).filter((key) => !Object.hasOwn(old, key))),
    keys_removed: sort(Object.keys(old).filter((key) => !Object.hasOwn(next, key))),
    keys_changed: sort(Object.keys(next).filter((key) => Object.hasOwn(old, key) && !jsonEqual(old[key], next[key]))),
  }
}

/**
 * Plans one target: desired state vs what Secrets Manager holds vs what secretsync last applied. Pure: no
 * clock, no I/O. Values appear in the result only with `showValues`.
 */
export function planTarget(
  desired: readonly DesiredSecret[],
  current: ReadonlyMap<string, CurrentSecret>,
  applied: AppliedRecord | undefined,
  options: PlanOptions,
): TargetPlan {
  const changes: PlannedChange[] = []
  const unchanged: TargetPlan['unchanged'] = []
  const values = (before: JsonObject | string | undefined | null, after: JsonObject | undefined | null) =>
    options.showValues ? {before: isPlainObject(before) ? (before as JsonObject) : before === undefined || before === null ? null : ({raw: before} as JsonObject), after: after ?? null} : {}
  const base = (secret: DesiredSecret) => ({name: secret.name, path: secret.path, drift: false, error: null, desired: secret})

  for (const secret of desired) {
    const existing = current.get(secret.name)
    const problem = nameProblem(secret.name) ?? sizeProblem(stringifyJson(secret.value))
    if (!existing) {
      changes.push({...base(secret), action: 'create', ...keyDiff(undefined, secret.value), error: problem ?? null, ...values(null, secret.value)})
      continue
    }
    const ownedHere = existing.owned && (existing.ownerTarget === undefined || existing.ownerTarget === options.target)
    if (existing.owned && !ownedHere) {
      changes.push({...base(secret), action: 'conflict', keys_added: [], keys_removed: [], keys_changed: [], error: `managed by secretsync target "${existing.ownerTarget}"; two targets write the same secret`})
      continue
    }
    if (!existing.owned && !options.adopt) {
      changes.push({
        ...base(secret),
        action: 'conflict',
        keys_added: [],
        keys_removed: [],
        keys_changed: [],
        error: `exists without the ownership tag${existing.scheduledForDeletion ? ' and is scheduled for deletion' : ''}; not written (use --adopt or sync.adopt to take it over)`,
      })
      continue
    }
    if (existing.scheduledForDeletion) {
      changes.push({...base(secret), action: 'restore', ...keyDiff(undefined, secret.value), error: problem ?? null, currentVersionId: existing.currentVersionId, adopt: !existing.owned, ...values(null, secret.value)})
      continue
    }
    if (isKnownInSync(secret, existing, applied)) {
      unchanged.push({name: secret.name, hash: secret.hash, versionId: existing.currentVersionId})
      continue
    }
    if (existing.value === undefined) throw new Error(`planTarget: the value of ${secret.name} was not read`)
    if (isPlainObject(existing.value) && jsonEqual(existing.value, secret.value) && existing.owned) {
      unchanged.push({name: secret.name, hash: secret.hash, versionId: existing.currentVersionId})
      continue
    }
    const record = applied?.secrets[secret.name]
    const drift = record !== undefined && record.version_id !== existing.currentVersionId && contentHash(existing.value) !== record.hash
    changes.push({
      ...base(secret),
      action: 'update',
      drift,
      ...keyDiff(existing.value, secret.value),
      error: problem ?? null,
      currentVersionId: existing.currentVersionId,
      adopt: !existing.owned,
      ...values(existing.value, secret.value),
    })
  }

  const wanted = new Set(desired.map((secret) => secret.name))
  const orphans = options.deleteOrphans && desired.length > 0
    ? [...current.values()].filter((secret) => secret.owned && secret.ownerTarget === options.target && !secret.scheduledForDeletion && !wanted.has(secret.name) && secret.name.startsWith(options.prefix))
    : []
  for (const orphan of orphans.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    changes.push({action: 'delete', name: orphan.name, path: orphan.name.slice(options.prefix.length), drift: false, keys_added: [], keys_removed: [], keys_changed: [], error: null, currentVersionId: orphan.currentVersionId})
  }
  const error =
    orphans.length > options.maxDeletions
      ? `would delete ${orphans.length} orphaned secrets, more than sync.max_deletions (${options.maxDeletions}); nothing was written for this target`
      : undefined
  return {changes, unchanged, ...(error ? {error} : {})}
}
