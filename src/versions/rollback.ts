import {ExitCode, UsageError} from '../errors.js'
import {syncExitCode} from '../exit-codes.js'
import {syncStage} from '../pipeline/sync-stage.js'
import {selectTargets} from '../pipeline/select-targets.js'
import {ownRecord} from '../store/stored-json.js'
import type {SyncRunResult} from '../sync/types.js'
import type {JsonObject} from '../util/canonical-json.js'
import {splitSecretPath, type HistoryContext} from './history.js'

export interface RollbackOptions {
  target?: string
  path?: string
  version: number
  dryRun: boolean
  showValues: boolean
}

export interface RollbackOutcome {
  /** The snapshot written (or that a dry run would write) with the chosen content; null when it equals the latest. */
  snapshot: {version: number; status: 'created' | 'unchanged' | 'planned'; from_version: number}
  sync: SyncRunResult
  exitCode: ExitCode
}

/**
 * Rolls a target (or one secret of it) back to snapshot N: writes a new snapshot whose content equals the
 * chosen one — history is never rewritten — and syncs that target from it. `--dry-run` writes nothing.
 */
export async function rollback(context: HistoryContext, options: RollbackOptions): Promise<RollbackOutcome> {
  const {target, secret} = options.path
    ? splitSecretPath(context.graph, options.path)
    : {target: options.target as string, secret: undefined}
  selectTargets(context.graph, target, options.path ? '--path' : '--target')
  const chosen = await context.store.read(target, options.version)
  let secrets: Record<string, JsonObject> = chosen.secrets
  let sources = chosen.sources
  // A snapshot merged from an incomplete walk may lack secrets Vault has: restoring it must keep saying so, or
  // its sync (and every later --sync-only) would delete them as orphans.
  let incomplete: readonly string[] = chosen.incomplete ?? []
  if (secret !== undefined) {
    const latest = await context.store.readLatest(target)
    if (!latest) throw new UsageError(`${target} has no snapshots`, {code: 'SNAPSHOT_NOT_FOUND'})
    secrets = ownRecord(Object.entries(latest.secrets))
    const old = chosen.secrets[secret]
    // The secret did not exist at N: rolling it back means removing it.
    if (old === undefined) delete secrets[secret]
    else secrets[secret] = old
    sources = latest.sources
    incomplete = latest.incomplete ?? []
  }
  const stored = options.dryRun
    ? await context.store.plan(target, secrets, incomplete)
    : await context.store.commit(target, {secrets, sources, runId: context.runtime.runId, incomplete})
  const status = stored.status === 'unchanged' ? 'unchanged' : options.dryRun ? 'planned' : 'created'
  context.runtime.logger.info('rollback snapshot', {
    target,
    from_version: options.version,
    version: stored.version,
    status,
  })
  const sync = await syncStage({
    config: context.config,
    graph: context.graph,
    runtime: context.runtime,
    adapters: context.adapters,
    desired: [
      {name: target, ok: true, secrets: new Map(Object.entries(secrets)), snapshotVersion: stored.version, incomplete},
    ],
    dryRun: options.dryRun,
    showValues: options.showValues,
  })
  return {
    snapshot: {version: stored.version, status, from_version: options.version},
    sync,
    exitCode: syncExitCode(sync, false),
  }
}
