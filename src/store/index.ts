export {parseAppliedRecord, type AppliedMetadata, type AppliedRecord, type AppliedSecret} from './applied-record.js'
export {keepRunLock, type HeldLock, type KeepLockOptions} from './lock-keeper.js'
export {
  parseLockRecord,
  pidIsAlive,
  staleReason,
  thisProcess,
  type AcquireLockOptions,
  type LockOwner,
  type LockRecord,
  type PidProbe,
  type RunLock,
} from './run-lock.js'
export {
  buildSnapshot,
  changedPaths,
  hashSecrets,
  hasChanges,
  parseSnapshot,
  serializeSnapshot,
  SNAPSHOT_FORMAT,
  type BuildSnapshotOptions,
  type Snapshot,
  type SnapshotChanges,
} from './snapshot.js'
export {
  SnapshotStore,
  type CommitInput,
  type CommitPlan,
  type CommitResult,
  type LatestPointer,
  type SnapshotStoreOptions,
  DEFAULT_LOCK_TTL_MS,
} from './snapshot-store.js'
export {SnapshotNotFoundError, StoreConflictError, StoreCorruptError, StoreFailedError} from './store-errors.js'
export {storeKeys, type StoreKeys} from './store-keys.js'
