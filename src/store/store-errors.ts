import {ExitCode, SecretSyncError} from '../errors.js'

const CONFLICT_HINT = 'another secretsync run is active for this target; wait for it or check for a stale lock'

/**
 * A conditional write lost: another run created or replaced the object first. Nothing was overwritten; the target
 * fails and the next run starts from whatever the winner wrote.
 */
export class StoreConflictError extends SecretSyncError {
  constructor(
    readonly target: string,
    /** Full location of the contested object, `s3://bucket/key`. */
    readonly location: string,
    detail = 'it was changed by someone else',
  ) {
    super('STORE_CONFLICT', `merge store conflict for target "${target}": ${location}: ${detail}`, ExitCode.failure, {
      hint: CONFLICT_HINT,
    })
  }
}

export interface StoreFailureContext {
  /** The S3 API operation, e.g. `PutObject`. */
  operation: string
  bucket: string
  key: string
}

/** An S3 call of the merge store failed for a reason other than a conflict (access, network, 5xx after retries). */
export class StoreFailedError extends SecretSyncError {
  readonly operation: string
  readonly bucket: string
  readonly key: string

  /** `message` says what failed where (see `formatOperationError`); `context` keeps the parts for callers. */
  constructor(context: StoreFailureContext, message: string, cause?: unknown) {
    super('STORE_FAILED', message, ExitCode.failure, {
      hint: 'Check the merge store bucket, its region and that the credentials may read and write it.',
      cause,
    })
    this.operation = context.operation
    this.bucket = context.bucket
    this.key = context.key
  }
}

/** A stored object that is not what secretsync writes there (bad JSON, wrong shape, hashes that do not match). */
export class StoreCorruptError extends SecretSyncError {
  constructor(
    readonly location: string,
    problem: string,
  ) {
    // The problem never quotes the body: a snapshot holds secret values.
    super('STORE_CORRUPT', `corrupt merge store object ${location}: ${problem}`, ExitCode.failure, {
      hint: 'Restore the object from a backup (bucket versioning), or delete it, and latest.json if it points at it, so the next run writes a fresh snapshot.',
    })
  }
}

/** A snapshot version that is not in the store (never written, or removed by retention). */
export class SnapshotNotFoundError extends SecretSyncError {
  constructor(
    readonly target: string,
    readonly version: number,
    location: string,
  ) {
    super(
      'SNAPSHOT_NOT_FOUND',
      `snapshot ${version} of target "${target}" does not exist (${location})`,
      ExitCode.failure,
      {
        hint: `List the stored versions with \`secretsync version list --target ${target}\`.`,
      },
    )
  }
}
