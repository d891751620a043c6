import type {SnapshotStore} from '../store/index.js'
import type {DesiredTarget} from '../sync/sync-phase.js'

/** `--sync-only` and `--version N`: the desired state of each target is its latest (or Nth) snapshot in the store. */
export async function snapshotsFromStore(
  store: SnapshotStore,
  targets: readonly string[],
  version: number | undefined,
): Promise<DesiredTarget[]> {
  return Promise.all(
    targets.map(async (name): Promise<DesiredTarget> => {
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
    }),
  )
}
