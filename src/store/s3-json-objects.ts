import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3'
import {formatOperationError} from '../errors.js'
import {StoreFailedError} from './store-errors.js'

export interface StoredText {
  body: string
  etag: string
}

/** S3 conditional writes: create only if absent, or replace only the version we read. */
export type WriteCondition = {ifNoneMatch: '*'} | {ifMatch: string}

/** A conditional write either lands or loses to someone else's write; other failures throw. */
export type ConditionalOutcome = {ok: true; etag: string} | {ok: false}

export interface S3JsonObjectsOptions {
  bucket: string
  /** SSE-KMS key for every write; without it SSE-S3 (AES256). Never unencrypted. */
  kmsKeyId?: string
  /** ListObjectsV2 page size (S3 caps it at 1000). */
  listPageSize?: number
  /** Run id for error messages (`[run=<id>] …`); `-` when the store is used outside a run. */
  runId?: string
}

interface SdkError {
  name?: string
  message?: string
  $metadata?: {httpStatusCode?: number; attempts?: number}
}

const asSdkError = (error: unknown): SdkError =>
  typeof error === 'object' && error !== null ? (error as SdkError) : {}

/** The key is absent. Not any 404: a missing bucket is also a 404 (NoSuchBucket) and must fail loudly. */
const isNoSuchKey = (error: unknown): boolean => asSdkError(error).name === 'NoSuchKey'

/**
 * 412 PreconditionFailed, or 409 ConditionalRequestConflict (S3's answer when a concurrent conditional write is
 * in flight on the same key). A 404 on an If-Match write means the object we read has gone: also someone else.
 */
const isConditionalConflict = (error: unknown): boolean => {
  const {name, $metadata} = asSdkError(error)
  const status = $metadata?.httpStatusCode
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409
}

/**
 * The merge store's view of S3: JSON objects in one bucket, every write server-side encrypted, every failure
 * wrapped with its operation, bucket and key. Timeouts come from the injected client (`requestTimeout` with
 * `throwOnRequestTimeout: true`), so a hung call surfaces here as a failure like any other.
 */
export class S3JsonObjects {
  constructor(
    private readonly s3: S3Client,
    private readonly options: S3JsonObjectsOptions,
  ) {}

  location(key: string): string {
    return `s3://${this.options.bucket}/${key}`
  }

  /** The object's body and ETag, or undefined when there is no such key. */
  async get(key: string): Promise<StoredText | undefined> {
    return this.call('GetObject', key, async () => {
      try {
        const response = await this.s3.send(new GetObjectCommand({Bucket: this.options.bucket, Key: key}))
        const body = (await response.Body?.transformToString('utf8')) ?? ''
        return {body, etag: response.ETag ?? ''}
      } catch (error) {
        if (isNoSuchKey(error)) return undefined
        throw error
      }
    })
  }

  async put(key: string, body: string): Promise<{etag: string}> {
    return this.call('PutObject', key, async () => {
      const response = await this.s3.send(new PutObjectCommand(this.putInput(key, body)))
      return {etag: response.ETag ?? ''}
    })
  }

  /** `body` as text or as its UTF-8 bytes (a snapshot is written straight into a Buffer). */
  async putIf(key: string, body: string | Uint8Array, condition: WriteCondition): Promise<ConditionalOutcome> {
    return this.call('PutObject', key, async () => {
      const input: PutObjectCommandInput =
        'ifMatch' in condition
          ? {...this.putInput(key, body), IfMatch: condition.ifMatch}
          : {...this.putInput(key, body), IfNoneMatch: condition.ifNoneMatch}
      try {
        const response = await this.s3.send(new PutObjectCommand(input))
        return {ok: true, etag: response.ETag ?? ''}
      } catch (error) {
        if (isConditionalConflict(error) || ('ifMatch' in condition && isNoSuchKey(error))) return {ok: false}
        throw error
      }
    })
  }

  /** Deletes the key (absent is fine). With `ifMatch`, only while it is still that version: false otherwise. */
  async delete(key: string, ifMatch?: string): Promise<boolean> {
    return this.call('DeleteObject', key, async () => {
      try {
        await this.s3.send(new DeleteObjectCommand({Bucket: this.options.bucket, Key: key, IfMatch: ifMatch}))
        return true
      } catch (error) {
        if (ifMatch !== undefined && isConditionalConflict(error)) return false
        throw error
      }
    })
  }

  /** Every key directly under `prefix` (sub-folders are not descended into), following every page. */
  async listKeys(prefix: string): Promise<string[]> {
    return this.call('ListObjectsV2', prefix, async () => {
      const keys: string[] = []
      let token: string | undefined
      do {
        const page = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: prefix,
            // The delimiter folds `applied/` (one object per account-region) into a single prefix entry.
            Delimiter: '/',
            MaxKeys: this.options.listPageSize,
            ContinuationToken: token,
          }),
        )
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key)
        token = page.IsTruncated ? page.NextContinuationToken : undefined
        if (page.IsTruncated && token === undefined) throw new Error('truncated listing without a continuation token')
      } while (token !== undefined)
      return keys
    })
  }

  private putInput(key: string, body: string | Uint8Array): PutObjectCommandInput {
    const encryption: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> =
      this.options.kmsKeyId === undefined
        ? {ServerSideEncryption: 'AES256'}
        : {ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.options.kmsKeyId}
    return {Bucket: this.options.bucket, Key: key, Body: body, ContentType: 'application/json', ...encryption}
  }

  /** Runs one S3 call, turning any failure into a StoreFailedError that says what, where, how long and how often. */
  private async call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      return await run()
    } catch (error) {
      const {name, message, $metadata} = asSdkError(error)
      const context = {
        runId: this.options.runId ?? '-',
        operation,
        subject: this.location(key),
        durationMs: performance.now() - started,
        retries: Math.max(0, ($metadata?.attempts ?? 1) - 1),
      }
      const cause = name && message ? `${name}: ${message}` : (message ?? name ?? String(error))
      throw new StoreFailedError(
        {operation, bucket: this.options.bucket, key},
        formatOperationError(context, cause),
        error,
      )
    }
  }
}
