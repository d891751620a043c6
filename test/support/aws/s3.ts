import {createHash} from 'node:crypto'
import {S3Error} from './error-render.js'
import {xmlEscape, xmlResponse} from './protocol.js'
import {accessibleBucket, header, noSuchBucket} from './s3-access.js'
import {listPage, type ListCursor, type ListPage} from './s3-list.js'
import {deleteObject, deleteObjects, getObject, putObject} from './s3-objects.js'
import {routeS3} from './s3-request.js'
import {S3State, type StoredBucket} from './s3-state.js'
import type {AwsContext, AwsRequest, AwsResponse, AwsServiceHandler} from './types.js'

export {S3State} from './s3-state.js'
export type {ObjectEncryption, PutRecord, S3ObjectView, SeedObjectOptions} from './s3-state.js'

export interface S3ServiceOptions {
  /** Owner of buckets created through `state.createBucket` without an explicit owner. */
  defaultOwnerAccountId?: string
}

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

const xml = (body: string, status = 200, headers: Record<string, string> = {}): AwsResponse =>
  xmlResponse(body, status, {'content-type': 'application/xml', ...headers})

/** S3 identifies owners by a 64-hex canonical user id; derive a stable one from the account. */
const canonicalId = (accountId: string): string => createHash('sha256').update(`canonical:${accountId}`).digest('hex')

const isoTime = (ms: number): string => new Date(ms).toISOString()

/** Bucket naming rules for general purpose buckets. */
const validBucketName = (name: string): boolean =>
  /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name)

function createBucket(state: S3State, req: AwsRequest, name: string, now: number): AwsResponse {
  if (!validBucketName(name))
    throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', 400, {BucketName: name})
  const constraint =
    /<LocationConstraint>([^<]*)<\/LocationConstraint>/.exec(req.body.toString('utf8'))?.[1] || undefined
  const region = constraint ?? 'us-east-1'
  if (region !== req.region) {
    throw new S3Error(
      'IllegalLocationConstraintException',
      `The ${constraint ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      400,
    )
  }
  const existing = state.findBucket(name)
  if (existing && existing.ownerAccountId !== req.accountId) {
    throw new S3Error(
      'BucketAlreadyExists',
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
      409,
      {BucketName: name},
    )
  }
  // us-east-1 answers 200 to re-creating a bucket you own (a legacy behaviour S3 documents); other regions 409.
  if (existing && region !== 'us-east-1') {
    throw new S3Error(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      409,
      {BucketName: name},
    )
  }
  if (!existing) state.addBucket({name, ownerAccountId: req.accountId, region, createdAt: now, objects: new Map()})
  return {status: 200, headers: {location: `/${name}`}}
}

function listBuckets(state: S3State, req: AwsRequest): AwsResponse {
  const buckets = state
    .ownedBuckets(req.accountId)
    .map(
      (b) =>
        `<Bucket><Name>${xmlEscape(b.name)}</Name><CreationDate>${isoTime(b.createdAt)}</CreationDate>` +
        `<BucketRegion>${b.region}</BucketRegion></Bucket>`,
    )
    .join('')
  return xml(
    `<ListAllMyBucketsResult xmlns="${S3_NS}"><Owner><ID>${canonicalId(req.accountId)}</ID></Owner>` +
      `<Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
  )
}

function ownBucketAnyRegion(state: S3State, req: AwsRequest, name: string): StoredBucket {
  const bucket = state.findBucket(name)
  if (!bucket) throw noSuchBucket(name)
  if (bucket.ownerAccountId !== req.accountId) throw new S3Error('AccessDenied', 'Access Denied', 403)
  return bucket
}

const invalidArgument = (message: string, name: string, value: string): S3Error =>
  new S3Error('InvalidArgument', message, 400, {ArgumentName: name, ArgumentValue: value})

function maxKeysOf(req: AwsRequest): number {
  const raw = req.query.get('max-keys')
  if (raw === null) return 1000
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', raw)
  }
  // S3 returns at most 1000 keys per page whatever the request asks for.
  return Math.min(value, 1000)
}

const encodeCursor = (cursor: ListCursor, bucket: string): string =>
  Buffer.from(JSON.stringify({b: bucket, a: cursor.after, s: cursor.skipPrefix})).toString('base64')

function decodeCursor(token: string, bucket: string): ListCursor {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as {b?: unknown; a?: unknown; s?: unknown}
    if (parsed.b === bucket && typeof parsed.a === 'string') {
      return {after: parsed.a, ...(typeof parsed.s === 'string' ? {skipPrefix: parsed.s} : {})}
    }
  } catch {
    // an unparseable token is as invalid as a foreign one
  }
  throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token)
}

function listEntries(page: ListPage, bucket: StoredBucket, encode: (s: string) => string, owner: boolean): string {
  const ownerXml = owner ? `<Owner><ID>${canonicalId(bucket.ownerAccountId)}</ID></Owner>` : ''
  const contents = page.items.flatMap((item) => {
    const object = item.kind === 'key' ? bucket.objects.get(item.key) : undefined
    if (!object) return []
    return [
      `<Contents><Key>${xmlEscape(encode(object.key))}</Key><LastModified>${isoTime(object.lastModified)}</LastModified>` +
        `<ETag>${xmlEscape(object.etag)}</ETag><Size>${object.body.length}</Size>${ownerXml}` +
        `<StorageClass>STANDARD</StorageClass></Contents>`,
    ]
  })
  const prefixes = page.items.flatMap((item) =>
    item.kind === 'prefix'
      ? [`<CommonPrefixes><Prefix>${xmlEscape(encode(item.prefix))}</Prefix></CommonPrefixes>`]
      : [],
  )
  return contents.join('') + prefixes.join('')
}

/** `encoding-type=url`: S3 URL-encodes keys and prefixes in the answer (keeping `/`). */
const encoderOf = (req: AwsRequest): ((s: string) => string) =>
  req.query.get('encoding-type') === 'url' ? (s) => encodeURIComponent(s).replace(/%2F/g, '/') : (s) => s

function listObjectsV2(state: S3State, req: AwsRequest, name: string | undefined): AwsResponse {
  const bucket = accessibleBucket(state, req, name)
  const prefix = req.query.get('prefix') ?? ''
  const delimiter = req.query.get('delimiter') || undefined
  const maxKeys = maxKeysOf(req)
  const token = req.query.get('continuation-token')
  const startAfter = req.query.get('start-after') ?? undefined
  const cursor = token !== null ? decodeCursor(token, bucket.name) : {after: startAfter}
  const page = listPage(state.sortedKeys(bucket), {prefix, delimiter, maxKeys, ...cursor})
  const encode = encoderOf(req)
  const optional = (tag: string, value: string | undefined, encoded = true): string =>
    value === undefined ? '' : `<${tag}>${xmlEscape(encoded ? encode(value) : value)}</${tag}>`
  return xml(
    `<ListBucketResult xmlns="${S3_NS}"><Name>${xmlEscape(bucket.name)}</Name>` +
      `<Prefix>${xmlEscape(encode(prefix))}</Prefix>${optional('Delimiter', delimiter)}` +
      `<MaxKeys>${maxKeys}</MaxKeys><KeyCount>${page.items.length}</KeyCount>` +
      `<IsTruncated>${page.isTruncated}</IsTruncated>` +
      optional('EncodingType', req.query.get('encoding-type') ?? undefined, false) +
      optional('ContinuationToken', token ?? undefined, false) +
      optional('NextContinuationToken', page.next && encodeCursor(page.next, bucket.name), false) +
      optional('StartAfter', startAfter) +
      listEntries(page, bucket, encode, req.query.get('fetch-owner') === 'true') +
      `</ListBucketResult>`,
  )
}

/** ListObjects (v1), kept because some tools still use it: `marker` and, with a delimiter, `NextMarker`. */
function listObjectsV1(state: S3State, req: AwsRequest, name: string | undefined): AwsResponse {
  const bucket = accessibleBucket(state, req, name)
  const prefix = req.query.get('prefix') ?? ''
  const delimiter = req.query.get('delimiter') || undefined
  const maxKeys = maxKeysOf(req)
  const marker = req.query.get('marker') ?? ''
  const resumesPrefix = delimiter !== undefined && marker.endsWith(delimiter)
  const cursor: ListCursor = marker === '' ? {} : {after: marker, ...(resumesPrefix ? {skipPrefix: marker} : {})}
  const page = listPage(state.sortedKeys(bucket), {prefix, delimiter, maxKeys, ...cursor})
  const encode = encoderOf(req)
  const nextMarker =
    delimiter !== undefined && page.next?.after !== undefined
      ? `<NextMarker>${xmlEscape(encode(page.next.after))}</NextMarker>`
      : ''
  return xml(
    `<ListBucketResult xmlns="${S3_NS}"><Name>${xmlEscape(bucket.name)}</Name><Prefix>${xmlEscape(encode(prefix))}</Prefix>` +
      `<Marker>${xmlEscape(encode(marker))}</Marker><MaxKeys>${maxKeys}</MaxKeys>` +
      (delimiter === undefined ? '' : `<Delimiter>${xmlEscape(encode(delimiter))}</Delimiter>`) +
      `<IsTruncated>${page.isTruncated}</IsTruncated>${nextMarker}` +
      listEntries(page, bucket, encode, true) +
      `</ListBucketResult>`,
  )
}

function bucketOperation(state: S3State, req: AwsRequest, bucket: string, now: number): AwsResponse {
  switch (req.operation) {
    case 'CreateBucket':
      return createBucket(state, req, bucket, now)
    case 'HeadBucket': {
      const found = accessibleBucket(state, req, bucket)
      return {status: 200, headers: {'x-amz-bucket-region': found.region, 'x-amz-access-point-alias': 'false'}}
    }
    case 'DeleteBucket': {
      const found = accessibleBucket(state, req, bucket)
      if (found.objects.size > 0) {
        throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, {BucketName: bucket})
      }
      state.removeBucket(bucket)
      return {status: 204}
    }
    case 'GetBucketLocation': {
      // Callable from any region: it is how clients find a bucket's region in the first place.
      const found = ownBucketAnyRegion(state, req, bucket)
      const location = found.region === 'us-east-1' ? '' : found.region
      return xml(`<LocationConstraint xmlns="${S3_NS}">${location}</LocationConstraint>`)
    }
    case 'ListObjectsV2':
      return listObjectsV2(state, req, bucket)
    case 'ListObjects':
      return listObjectsV1(state, req, bucket)
    case 'DeleteObjects':
      return deleteObjects(state, req, bucket)
    default:
      return notImplemented()
  }
}

const notImplemented = (): never => {
  throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', 501)
}

/**
 * The S3 service of the AWS test server: REST/XML, path-style or `<bucket>.localhost` virtual-host style. Covers
 * buckets (create, head, delete, location, list), objects (put with conditional writes and SSE, get/head with
 * conditional reads and ranges, delete, batch delete) and ListObjects V1/V2.
 */
export function createS3Service(
  ctx: AwsContext,
  options: S3ServiceOptions = {},
): {handler: AwsServiceHandler; state: S3State} {
  const state = new S3State(() => ctx.now(), options.defaultOwnerAccountId ?? '000000000000')
  const handler: AwsServiceHandler = {
    service: 's3',
    handle(req) {
      const {bucket, key} = routeS3(req.method, req.path, req.query, header(req, 'host'))
      if (req.operation === 'ListBuckets') return listBuckets(state, req)
      if (bucket === undefined) return notImplemented()
      if (key === undefined) return bucketOperation(state, req, bucket, ctx.now())
      switch (req.operation) {
        case 'PutObject':
          return putObject(state, req, bucket, key, ctx.now())
        case 'GetObject':
        case 'HeadObject':
          return getObject(state, req, bucket, key)
        case 'DeleteObject':
          return deleteObject(state, req, bucket, key)
        default:
          return notImplemented()
      }
    },
  }
  return {handler, state}
}
