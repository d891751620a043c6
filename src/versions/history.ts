import {compose, type Surroundings} from '../composition-root.js'
import {loadProject} from '../config/index.js'
import type {Config} from '../config/schema.js'
import {type ExitCode, UsageError} from '../errors.js'
import {historyExitCode} from '../exit-codes.js'
import type {TargetGraph} from '../graph/target-graph.js'
import type {Adapters} from '../pipeline/compose.js'
import {discoverProject} from '../pipeline/discovery-stage.js'
import {selectTargets} from '../pipeline/select-targets.js'
import type {Runtime} from '../runtime.js'
import {StoreCorruptError, type Snapshot, type SnapshotStore} from '../store/index.js'
import {ownRecord} from '../store/stored-json.js'

export interface HistoryContext {
  config: Config
  graph: TargetGraph
  runtime: Runtime
  adapters: Adapters
  store: SnapshotStore
}

export interface HistoryOptions {
  configPath: string
  /** Its `stop` aborts when the command is asked to stop (rollback syncs: no new write starts after it). */
  surroundings: Surroundings
}

/** Loads the project and its merge store; the history commands have nothing to read without one. */
export async function openHistory(options: HistoryOptions): Promise<HistoryContext> {
  const loaded = await loadProject(options.configPath, {env: options.surroundings.env})
  if (!loaded.config.merge_store?.enabled) {
    throw new UsageError('the merge store is not configured: there is no version history to read', {
      code: 'NO_MERGE_STORE',
      hint: 'Add a merge_store section to the config.',
    })
  }
  const {runtime, adapters} = compose(loaded.config, options.surroundings)
  // Discovered targets have history too: resolve them as the pipeline does (a fresh cache answers; nothing is written).
  const {config, graph} = await discoverProject(loaded.config, loaded.graph, runtime, adapters, {
    noCache: false,
    dryRun: true,
  })
  return {config, graph, runtime, adapters, store: adapters.store as SnapshotStore}
}

/** `T/relative/path` → target T (checked against the config) and the relative path. */
export function splitSecretPath(graph: TargetGraph, path: string): {target: string; secret: string} {
  const slash = path.indexOf('/')
  if (slash <= 0 || slash === path.length - 1)
    throw new UsageError(`--path "${path}" must be <target>/<relative secret path>`, {code: 'PATH_INVALID'})
  const target = path.slice(0, slash)
  selectTargets(graph, target, '--path')
  return {target, secret: path.slice(slash + 1)}
}

export interface VersionEntry {
  version: number
  /** null (as run_id and secrets) when the snapshot is unreadable: see `error`. */
  created_at: string | null
  run_id: string | null
  secrets: number | null
  latest: boolean
  /** With --path: how that secret changed in this version. */
  change?: 'added' | 'changed' | 'removed'
  /** Why the snapshot could not be read (corrupt); null for a good one. */
  error: string | null
}

export interface VersionListResult {
  target: string
  path: string | null
  versions: VersionEntry[]
}

/** Snapshots of a target, newest first; with a secret path only the versions where that secret changed. */
export async function listHistory(
  context: HistoryContext,
  selection: {target?: string; path?: string},
): Promise<VersionListResult> {
  const {target, secret} = selection.path
    ? splitSecretPath(context.graph, selection.path)
    : {target: selection.target as string, secret: undefined}
  selectTargets(context.graph, target, '--target')
  const versions = await context.store.listVersions(target)
  const latest = (await context.store.latest(target))?.version
  const snapshots: Array<Snapshot | {version: number; error: string}> = []
  for (const version of versions) {
    try {
      snapshots.push(await context.store.read(target, version))
    } catch (error) {
      // One unreadable snapshot must not hide the others: it is listed, flagged, and the command exits 3.
      if (!(error instanceof StoreCorruptError)) throw error
      snapshots.push({version, error: error.message})
    }
  }
  const entries: VersionEntry[] = []
  let previousHash: string | undefined
  for (const snapshot of snapshots) {
    if ('error' in snapshot) {
      entries.push({
        version: snapshot.version,
        created_at: null,
        run_id: null,
        secrets: null,
        latest: snapshot.version === latest,
        error: snapshot.error,
      })
      continue
    }
    const entry: VersionEntry = {
      version: snapshot.version,
      created_at: snapshot.created_at,
      run_id: snapshot.run_id,
      secrets: Object.keys(snapshot.secrets).length,
      latest: snapshot.version === latest,
      error: null,
    }
    if (secret === undefined) {
      entries.push(entry)
      continue
    }
    const hash = snapshot.hashes[secret]
    if (hash !== previousHash)
      entries.push({
        ...entry,
        change: hash === undefined ? 'removed' : previousHash === undefined ? 'added' : 'changed',
      })
    previousHash = hash
  }
  return {target, path: secret ?? null, versions: entries.reverse()}
}

/** 3 when some snapshot could not be read (the rest are listed), else 0. */
export const listExitCode = (result: VersionListResult): ExitCode => historyExitCode(result.versions)

export interface VersionShowResult {
  target: string
  version: number
  created_at: string
  run_id: string
  sources: string[]
  /** Path → the secret (masked: key names with "***") unless values were asked for. */
  secrets: Record<string, Record<string, unknown>>
}

const mask = (secret: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.keys(secret).map((key) => [key, '***']))

export async function showHistory(
  context: HistoryContext,
  options: {target: string; version: number; path?: string; showValues: boolean},
): Promise<VersionShowResult> {
  selectTargets(context.graph, options.target, '--target')
  const snapshot = await context.store.read(options.target, options.version)
  const paths = options.path ? [options.path] : Object.keys(snapshot.secrets).sort()
  if (options.path && !Object.hasOwn(snapshot.secrets, options.path)) {
    throw new UsageError(`snapshot v${options.version} of ${options.target} has no secret "${options.path}"`, {
      code: 'PATH_UNKNOWN',
    })
  }
  const secrets: VersionShowResult['secrets'] = ownRecord([])
  for (const path of paths) {
    const value = snapshot.secrets[path] as Record<string, unknown>
    secrets[path] = options.showValues ? value : mask(value)
  }
  return {
    target: snapshot.target,
    version: snapshot.version,
    created_at: snapshot.created_at,
    run_id: snapshot.run_id,
    sources: snapshot.sources,
    secrets,
  }
}
