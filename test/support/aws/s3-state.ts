import {createHash} from 'node:crypto'
import {compareUtf8} from './s3-list.js'

/** Server-side encryption as S3 applied it (the default since 2023 is SSE-S3, `AES256`). */
export interface ObjectEncryption {
  serverSideEncryption: string
  kmsKeyId?: string
  bucketKeyEnabled?: boolean
}

export interface StoredObject {
  key: string
  body: Buffer
  /** Quoted MD5 of the body, as S3 sends it. */
  etag: string
  lastModified: number
  contentType: string
  metadata: Record<string, string>
  sse: ObjectEncryption
  /** `x-amz-checksum-<algorithm>` values sent with the upload. */
  checksums: Record<string, string>
  /** Other representation headers S3 stores and returns (`cache-control`, `content-encoding`...). */
  headers: Record<string, string>
}

export interface StoredBucket {
  name: string
  ownerAccountId: string
  region: string
  createdAt: number
  objects: Map<string, StoredObject>
  sortedKeys?: string[]
}

/** One PutObject request as it arrived, whatever its outcome, so tests can assert every write carried SSE. */
export interface PutRecord {
  bucket: string
  key: string
  accountId: string
  /** `x-amz-server-side-encryption` as sent (undefined when the request carried none). */
  serverSideEncryption?: string
  /** `x-amz-server-side-encryption-aws-kms-key-id` as sent. */
  kmsKeyId?: string
  ifMatch?: string
  ifNoneMatch?: string
  /** HTTP status the request was answered with. */
  status: number
  at: number
}

/** A copy of a stored object, safe for tests to hold. */
export interface S3ObjectView {
  key: string
  body: Buffer
  etag: string
  lastModified: Date
  contentType: string
  metadata: Record<string, string>
  sse: ObjectEncryption
  /** The response headers GetObject would send for it. */
  headers: Record<string, string>
}

export interface SeedObjectOptions {
  contentType?: string
  metadata?: Record<string, string>
  sse?: ObjectEncryption
}

/** Buckets and objects as plain JSON (bodies in base64), for the sandbox to keep between runs. */
export interface S3StateData {
  buckets: Array<
    Omit<StoredBucket, 'objects' | 'sortedKeys'> & {objects: Array<Omit<StoredObject, 'body'> & {body: string}>}
  >
}

export const md5Etag = (body: Buffer): string => `"${createHash('md5').update(body).digest('hex')}"`

/** The headers GetObject/HeadObject answer for an object (without conditional or range handling). */
export function objectHeaders(object: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    ...object.headers,
    'content-type': object.contentType,
    'content-length': String(object.body.length),
    etag: object.etag,
    'last-modified': new Date(object.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    'x-amz-server-side-encryption': object.sse.serverSideEncryption,
  }
  if (object.sse.kmsKeyId !== undefined) headers['x-amz-server-side-encryption-aws-kms-key-id'] = object.sse.kmsKeyId
  if (object.sse.bucketKeyEnabled) headers['x-amz-server-side-encryption-bucket-key-enabled'] = 'true'
  for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value
  return headers
}

const view = (object: StoredObject): S3ObjectView => ({
  key: object.key,
  body: Buffer.from(object.body),
  etag: object.etag,
  lastModified: new Date(object.lastModified),
  contentType: object.contentType,
  metadata: {...object.metadata},
  sse: {...object.sse},
  headers: objectHeaders(object),
})

/**
 * Buckets and objects of the S3 test server. Bucket names are global, as in S3; each bucket belongs to the account
 * that created it and other accounts are refused (the server models no bucket policies).
 */
export class S3State {
  private readonly buckets = new Map<string, StoredBucket>()
  private readonly puts: PutRecord[] = []

  constructor(
    private readonly now: () => number,
    private readonly defaultOwnerAccountId: string,
  ) {}

  /** Creates a bucket directly (no request). Owned by the base account unless told otherwise. */
  createBucket(name: string, ownerAccountId = this.defaultOwnerAccountId, region = 'us-east-1'): void {
    const existing = this.buckets.get(name)
    if (existing && existing.ownerAccountId !== ownerAccountId) {
      throw new Error(`bucket ${name} already exists, owned by ${existing.ownerAccountId}`)
    }
    if (!existing) this.buckets.set(name, {name, ownerAccountId, region, createdAt: this.now(), objects: new Map()})
  }

  bucketOwner(name: string): string | undefined {
    return this.buckets.get(name)?.ownerAccountId
  }

  getObject(bucket: string, key: string): S3ObjectView | undefined {
    const object = this.buckets.get(bucket)?.objects.get(key)
    return object && view(object)
  }

  /** Seeds an object without a request (not counted, not in `putRecords`). */
  putObject(bucket: string, key: string, body: string | Buffer, options: SeedObjectOptions = {}): S3ObjectView {
    const target = this.requireBucket(bucket)
    const bytes = Buffer.from(body)
    const object: StoredObject = {
      key,
      body: bytes,
      etag: md5Etag(bytes),
      lastModified: this.now(),
      contentType: options.contentType ?? 'binary/octet-stream',
      metadata: {...options.metadata},
      sse: options.sse ?? {serverSideEncryption: 'AES256'},
      checksums: {},
      headers: {},
    }
    this.store(target, object)
    return view(object)
  }

  deleteObject(bucket: string, key: string): boolean {
    const target = this.buckets.get(bucket)
    if (!target?.objects.delete(key)) return false
    target.sortedKeys = undefined
    return true
  }

  /** Keys of a bucket in S3 listing order (UTF-8 binary). */
  listKeys(bucket: string, prefix = ''): string[] {
    const target = this.buckets.get(bucket)
    return target ? this.sortedKeys(target).filter((key) => key.startsWith(prefix)) : []
  }

  /** Every PutObject request received, in order. */
  putRecords(): PutRecord[] {
    return this.puts.map((record) => ({...record}))
  }

  // The methods below serve the S3 handler.

  findBucket(name: string): StoredBucket | undefined {
    return this.buckets.get(name)
  }

  addBucket(bucket: StoredBucket): void {
    this.buckets.set(bucket.name, bucket)
  }

  removeBucket(name: string): void {
    this.buckets.delete(name)
  }

  ownedBuckets(accountId: string): StoredBucket[] {
    return [...this.buckets.values()]
      .filter((b) => b.ownerAccountId === accountId)
      .sort((a, b) => compareUtf8(a.name, b.name))
  }

  store(bucket: StoredBucket, object: StoredObject): void {
    if (!bucket.objects.has(object.key)) bucket.sortedKeys = undefined
    bucket.objects.set(object.key, object)
  }

  sortedKeys(bucket: StoredBucket): string[] {
    bucket.sortedKeys ??= [...bucket.objects.keys()].sort(compareUtf8)
    return bucket.sortedKeys
  }

  /** Every bucket and object (not the request log), as plain JSON. */
  exportState(): S3StateData {
    return {
      buckets: [...this.buckets.values()].map(({objects, sortedKeys: _sorted, ...bucket}) => ({
        ...bucket,
        objects: [...objects.values()].map((object) => ({...object, body: object.body.toString('base64')})),
      })),
    }
  }

  /** Replaces every bucket and object with what `exportState` returned. */
  importState(data: S3StateData): void {
    this.buckets.clear()
    for (const {objects, ...bucket} of data.buckets) {
      this.buckets.set(bucket.name, {
        ...bucket,
        objects: new Map(objects.map((object) => [object.key, {...object, body: Buffer.from(object.body, 'base64')}])),
      })
    }
  }

  recordPut(record: PutRecord): void {
    this.puts.push(record)
  }

  private requireBucket(name: string): StoredBucket {
    const bucket = this.buckets.get(name)
    if (!bucket) throw new Error(`no bucket ${name}; create it first`)
    return bucket
  }
}
