export {parseAppliedRecord, type AppliedMetadata, type AppliedRecord, type AppliedSecret} from './applied-record.js'
export {parseLockRecord, type AcquireLockOptions, type LockRecord, type RunLock} from './run-lock.js'
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
} from './snapshot-store.js'
export {SnapshotNotFoundError, StoreConflictError, StoreCorruptError, StoreFailedError} from './store-errors.js'
export {storeKeys, type StoreKeys} from './store-keys.js'
