import type {SnapshotStore} from '../store/index.js'
import type {DesiredStates, DesiredTarget} from '../sync/sync-phase.js'

/**
 * `--sync-only` and `--version N`: the desired state of each target is its latest (or Nth) snapshot in the store,
 * read when the sync reaches that target, so only the snapshots of the targets in flight are held.
 */
export function snapshotStates(
  store: SnapshotStore,
  targets: readonly string[],
  version: number | undefined,
): DesiredStates {
  return {names: targets, take: (name) => snapshotState(store, name, version)}
}

async function snapshotState(store: SnapshotStore, name: string, version: number | undefined): Promise<DesiredTarget> {
  try {
    const snapshot = version !== undefined ? await store.read(name, version) : await store.readLatest(name)
    if (!snapshot)
      return {
        name,
        ok: false,
        error: 'no snapshot in the merge store yet; run the merge first',
        snapshotVersion: null,
      }
    // A snapshot merged from an incomplete walk holds deletions in a later --sync-only run too.
    return {
      name,
      ok: true,
      secrets: new Map(Object.entries(snapshot.secrets)),
      snapshotVersion: snapshot.version,
      incomplete: snapshot.incomplete ?? [],
    }
  } catch (error) {
    return {name, ok: false, error: (error as Error).message, snapshotVersion: version ?? null}
  }
}
