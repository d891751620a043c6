import {SecretSyncError} from '../errors.js'
import type {MergedTarget} from '../merge/merge-phase.js'
import type {Runtime} from '../runtime.js'
import type {SnapshotStore} from '../store/index.js'
import type {JsonObject} from '../util/canonical-json.js'

export type TargetMergeStatus = 'created' | 'unchanged' | 'planned' | 'merged' | 'failed' | 'skipped'

export interface TargetMergeReport {
  name: string
  status: TargetMergeStatus
  secrets: number
  /** The snapshot version holding this content: new, existing (unchanged), or the one a dry run would write. */
  version: number | null
  previous_version: number | null
  changes: {added: string[]; removed: string[]; changed: string[]} | null
  error: string | null
}

export interface SnapshotStageInput {
  store: SnapshotStore | undefined
  dryRun: boolean
  runtime: Runtime
}

/**
 * Records one merged target in the merge store: a new immutable snapshot when the content changed, none when it
 * did not; with `dryRun` only what would be written. A conflict fails that target alone.
 */
export async function recordSnapshot(target: MergedTarget, input: SnapshotStageInput): Promise<TargetMergeReport> {
  const {store, runtime} = input
  const base: TargetMergeReport = {
    name: target.name,
    status: 'merged',
    secrets: target.secrets.size,
    version: null,
    previous_version: null,
    changes: null,
    error: null,
  }
  if (!target.ok) return {...base, status: 'failed', error: target.error}
  if (!store) return base
  // Asked to stop (SIGTERM/SIGINT): no new snapshot is committed; the last good one stays latest.
  if (runtime.stop.aborted && !input.dryRun) return {...base, status: 'skipped', error: 'interrupted'}
  // Null-prototype from the start: Object.fromEntries walks a 2,000-key object through a hidden class per key
  // before it turns it into a dictionary, garbage the merge-only high-water mark is made of (issue 12).
  const secrets = Object.create(null) as Record<string, JsonObject>
  for (const [path, secret] of target.secrets) secrets[path] = secret
  try {
    const outcome = input.dryRun
      ? await store.plan(target.name, secrets, target.incomplete)
      : await store.commit(target.name, {
          secrets,
          sources: target.sources,
          runId: runtime.runId,
          incomplete: target.incomplete,
        })
    const status: TargetMergeStatus =
      outcome.status === 'unchanged' ? 'unchanged' : input.dryRun ? 'planned' : 'created'
    runtime.logger.info('target merged', {
      target: target.name,
      status,
      version: outcome.version,
      secrets: target.secrets.size,
    })
    const previous = outcome.status !== 'unchanged' ? (outcome.previousVersion ?? null) : null
    return {...base, status, version: outcome.version, previous_version: previous, changes: outcome.changes}
  } catch (error) {
    const message = error instanceof SecretSyncError ? error.message : `merge store: ${(error as Error).message}`
    runtime.logger.error('snapshot not written', {target: target.name, error: message})
    return {...base, status: 'failed', error: message}
  }
}
