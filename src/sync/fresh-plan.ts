import {isDeepStrictEqual} from 'node:util'
import type {AppliedRecord, SnapshotStore} from '../store/index.js'
import type {JsonObject} from '../util/canonical-json.js'

/**
 * What a target's plan is computed from besides AWS itself: the desired state (and the snapshot it is), and the
 * store's view at that moment — the latest snapshot version and the applied record.
 */
export interface PlanBasis {
  desired: ReadonlyMap<string, JsonObject>
  snapshotVersion: number | null
  latestVersion: number | undefined
  applied: AppliedRecord | undefined
}

export interface BasisQuery {
  store: SnapshotStore
  target: string
  account: string
  region: string
  /** `--version N`: sync exactly snapshot N, even when newer ones exist. */
  pinned: boolean
}

/**
 * Reads the store's side of the basis. Unless pinned, a desired state older than the latest snapshot is replaced
 * by that snapshot: another run committed newer Vault content after ours, and syncing ours would move AWS back.
 */
export async function readPlanBasis(
  query: BasisQuery,
  desired: ReadonlyMap<string, JsonObject>,
  snapshotVersion: number | null,
): Promise<PlanBasis> {
  const {store, target} = query
  const [latest, applied] = await Promise.all([
    store.latest(target),
    store.readApplied(target, query.account, query.region),
  ])
  const latestVersion = latest?.version
  if (query.pinned || latestVersion === undefined || snapshotVersion === null || latestVersion <= snapshotVersion) {
    return {desired, snapshotVersion, latestVersion, applied}
  }
  const snapshot = await store.read(target, latestVersion)
  return {desired: new Map(Object.entries(snapshot.secrets)), snapshotVersion: snapshot.version, latestVersion, applied}
}

/**
 * Run under the target's lock, before the first write (docs/design.md §4: "the plan is re-validated under it"): the
 * basis read again, and why it differs from the one the plan was made from — undefined when the plan still holds.
 * A run that held the lock in between either moved `latest.json` or rewrote the applied record.
 */
export async function revalidateBasis(
  query: BasisQuery,
  planned: PlanBasis,
): Promise<{basis: PlanBasis; reason: string} | undefined> {
  // The original desired state goes in: a pinned run keeps it; otherwise a newer latest replaces it.
  const basis = await readPlanBasis(query, planned.desired, planned.snapshotVersion)
  if (basis.latestVersion !== planned.latestVersion) {
    return {
      basis,
      reason: `latest snapshot moved from v${planned.latestVersion ?? 'none'} to v${basis.latestVersion ?? 'none'}`,
    }
  }
  if (!isDeepStrictEqual(basis.applied, planned.applied))
    return {basis, reason: 'another run applied changes since this run planned'}
  return undefined
}
